package org.chefbackend.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.chefbackend.agent.Change;
import org.chefbackend.agent.Launch;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.Settings;
import org.chefbackend.system.FileTrees;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.postgresql.Driver;

/** One real PostgreSQL 15 node on 127.0.0.21, prepared by the recipe and started the way the supervisor does. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PostgresRecipeIT {
    static final Path ROOT = Path.of("/tmp/cbt-pg");
    static final String ADDRESS = "127.0.0.21";
    static final String BASE = "publish_address '" + ADDRESS + "'\n"
            + "postgresql.shared_buffers = '128MB'\n"; // the computed default is a quarter of this machine
    static final Secrets SECRETS = Secrets.generate(new SecureRandom());
    static final PostgresRecipe RECIPE = new PostgresRecipe();

    static NodeContext node;
    static PostgresLayout layout;
    static Change firstChange;
    static Process postmaster;
    static Path output = ROOT.resolve("postgres.out");

    static NodeContext node(String rb) {
        Settings settings = Settings.from(ChefBackendRbParser.parse("t.rb", BASE + rb), MachineFacts.detect());
        return new NodeContext(settings, new NodePaths(ROOT), "pg-it-1", "0123456789abcdef0123456789abcdef", SECRETS);
    }

    @BeforeAll
    static void prepareAndStart() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "creates users and chowns: run as root");
        stopLeftoverPostmaster();
        deleteTree(ROOT);
        Files.createDirectories(ROOT);

        node = node("");
        layout = PostgresLayout.of(node);
        firstChange = RECIPE.prepare(node);

        Launch launch = RECIPE.launch(node);
        List<String> command = new ArrayList<>(Commands.asUser(launch.user(), List.of()));
        command.addAll(launch.command());
        ProcessBuilder pb = new ProcessBuilder(command).directory(launch.workingDirectory().toFile())
                .redirectErrorStream(true).redirectOutput(output.toFile());
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        pb.environment().putAll(launch.environment());
        postmaster = pb.start();
        awaitTrue(() -> PostgresAdmin.isAcceptingConnections(node), 60, "PostgreSQL accepts connections");
    }

    @AfterAll
    static void stop() throws Exception {
        if (postmaster != null) {
            stopPostmaster(postmaster.pid());
        }
    }

    @Test
    @Order(1)
    void firstPrepareInitializesWithOwnedPrivateFiles() throws Exception {
        assertEquals(Change.RESTART, firstChange);
        assertTrue(Files.exists(layout.versionFile()));
        assertEquals("chef_pgsql", owner(layout.dataDir()));
        assertEquals("rwx------", mode(layout.dataDir()));
        for (Path f : List.of(layout.postgresqlConf(), layout.hbaFile(), layout.serverKey())) {
            assertEquals("chef_pgsql", owner(f), f.toString());
            assertEquals("rw-------", mode(f), f.toString());
        }
        assertTrue(Files.readString(layout.postgresqlConf()).startsWith(PostgresRecipe.HEADER));
        try (Stream<Path> siblings = Files.list(layout.dataDir().getParent())) {
            assertFalse(siblings.anyMatch(p -> p.getFileName().toString().startsWith(".pwfile")), "pwfile deleted");
        }
        assertTrue(Files.exists(layout.socketFile(), LinkOption.NOFOLLOW_LINKS), "socket in the node's own directory");
    }

    @Test
    @Order(2)
    void serverRunsAsTheServiceUserWithTheRenderedSettings() throws Exception {
        assertEquals(ADDRESS, show("listen_addresses"));
        assertEquals(layout.socketDir().toString(), show("unix_socket_directories"));
        assertEquals("pg-it-1", show("cluster_name"));
        assertEquals("512MB", show("wal_keep_size"));
        assertEquals("1GB", show("max_wal_size"));
        assertEquals("replica", show("wal_level"));
        assertEquals("on", show("ssl"));
        String uid = Files.readAllLines(Path.of("/proc/" + postmaster.pid() + "/status")).stream()
                .filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow().split("\\s+")[1];
        assertEquals(Files.getAttribute(layout.dataDir(), "unix:uid").toString(), uid);
    }

    @Test
    @Order(3)
    void tlsConnectionsAreEncrypted() throws Exception {
        try (Connection c = PostgresAdmin.connect(node, "postgres", 5000, SECRETS.dbSuperuserPassword(), "require");
             ResultSet rs = c.createStatement().executeQuery("select ssl from pg_stat_ssl where pid = pg_backend_pid()")) {
            assertTrue(rs.next());
            assertTrue(rs.getBoolean(1));
        }
    }

    @Test
    @Order(4)
    void passwordsFromTheSecretsAuthenticateAndWrongOnesDoNot() throws Exception {
        SQLException wrong = assertThrows(SQLException.class,
                () -> PostgresAdmin.connect(node, "postgres", 5000, "wrong", "prefer").close());
        assertEquals("28P01", wrong.getSQLState()); // invalid_password
        try (Connection c = PostgresAdmin.connect(node, "postgres", 5000);
             ResultSet rs = c.createStatement().executeQuery(
                     "select rolreplication, rolcanlogin, rolsuper from pg_roles where rolname = 'replicator'")) {
            assertTrue(rs.next(), "replicator role exists");
            assertTrue(rs.getBoolean(1));
            assertTrue(rs.getBoolean(2));
            assertFalse(rs.getBoolean(3));
        }
    }

    @Test
    @Order(5)
    void replicationNeedsTlsAndTheReplicationPassword() throws Exception {
        try (Connection c = replicationConnection("require");
             ResultSet rs = c.createStatement().executeQuery("IDENTIFY_SYSTEM")) {
            assertTrue(rs.next());
        }
        SQLException plain = assertThrows(SQLException.class, () -> replicationConnection("disable").close());
        assertEquals("28000", plain.getSQLState(), plain.getMessage()); // no pg_hba.conf entry: hostssl only
    }

    @Test
    @Order(6)
    void addingAnAddressRewritesPgHbaAndAsksForAReload() throws Exception {
        node = node("postgresql.md5_auth_cidr_addresses = ['samehost', 'samenet', '10.1.2.0/24']");
        assertEquals(Change.RELOAD, RECIPE.prepare(node));
        List<String> hba = Files.readAllLines(layout.hbaFile());
        assertTrue(hba.contains("host    all         all         10.1.2.0/24            md5"), hba.toString());
        assertTrue(hba.contains("hostssl replication replicator  10.1.2.0/24            md5"), hba.toString());

        signal("HUP", postmaster.pid());
        awaitTrue(() -> Files.exists(output) && read(output).contains("received SIGHUP"), 30, "the postmaster reloads");
        try (Connection c = PostgresAdmin.connect(node, "postgres", 5000);
             ResultSet rs = c.createStatement().executeQuery("select type, database, user_name, error"
                     + " from pg_hba_file_rules where address = '10.1.2.0' order by line_number")) {
            assertTrue(rs.next());
            assertEquals("host", rs.getString(1));
            assertTrue(rs.next());
            assertEquals("hostssl", rs.getString(1));
            assertEquals("{replication}", rs.getString(2));
            assertEquals("{replicator}", rs.getString(3));
            assertEquals(null, rs.getString(4));
        }
        assertTrue(PostgresAdmin.isAcceptingConnections(node), "samehost still lets the agent in");
    }

    @Test
    @Order(7)
    void preparingAgainWithoutChangesChangesNothing() throws Exception {
        FileTime version = Files.getLastModifiedTime(layout.versionFile());
        FileTime cert = Files.getLastModifiedTime(layout.serverCert());
        FileTime conf = Files.getLastModifiedTime(layout.postgresqlConf());
        assertEquals(Change.NONE, RECIPE.prepare(node));
        assertEquals(version, Files.getLastModifiedTime(layout.versionFile()), "initdb not run again");
        assertEquals(cert, Files.getLastModifiedTime(layout.serverCert()), "certificate not regenerated");
        assertEquals(conf, Files.getLastModifiedTime(layout.postgresqlConf()), "postgresql.conf not rewritten");
    }

    @Test
    @Order(8)
    void workMemIsAReloadAndPortARestart() throws Exception {
        // On a second data directory of the same node, so the running server is left alone.
        NodeContext other = node("postgresql.work_mem = '16MB'\npostgresql.data_dir = '/var/opt/cb2/data'");
        Files.createDirectories(other.path("postgresql.data_dir").getParent());
        RECIPE.prepare(other);
        assertEquals(Change.RELOAD, RECIPE.prepare(node("postgresql.work_mem = '32MB'\npostgresql.data_dir = '/var/opt/cb2/data'")));
        assertEquals(Change.RESTART, RECIPE.prepare(node("postgresql.work_mem = '32MB'\npostgresql.port = 5433\n"
                + "postgresql.data_dir = '/var/opt/cb2/data'")));
    }

    @Test
    @Order(9)
    void aDataDirectoryOfAnotherUserIsRefused() throws Exception {
        NodeContext other = node("postgresql.data_dir = '/var/opt/foreign/data'");
        Path dir = other.path("postgresql.data_dir");
        Files.createDirectories(dir);
        Files.setOwner(dir, dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        ServiceSetupException e = assertThrows(ServiceSetupException.class, () -> RECIPE.prepare(other));
        assertTrue(e.getMessage().contains("owned by user nobody"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("PG_VERSION")));
    }

    /**
     * The agent stops PostgreSQL with the recipe's signal while sessions are open (frontends' pools, the agent's own
     * kept sessions): the stop must end them and shut down cleanly at once. SIGTERM (smart) waited for them, until
     * the agent's SIGKILL 30 s later: a crash. Stops the server: the last test.
     */
    @Test
    @Order(100)
    void theStopSignalShutsDownCleanlyAtOnceWhileASessionIsOpen() throws Exception {
        try (Connection open = PostgresAdmin.connect(node, "postgres", 5000)) {
            assertTrue(open.isValid(2));
            signal(RECIPE.stopSignal(), postmaster.pid());
            assertTrue(postmaster.waitFor(15, TimeUnit.SECONDS), "PostgreSQL still runs 15 s after SIG"
                    + RECIPE.stopSignal() + " with a session open");
        }
        String log = read(output);
        assertTrue(log.contains("fast shutdown request"), log);
        assertTrue(log.contains("database system is shut down"), log);
        assertEquals(0, postmaster.exitValue());
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    static String show(String parameter) throws SQLException {
        try (Connection c = PostgresAdmin.connect(node, "postgres", 5000);
             ResultSet rs = c.createStatement().executeQuery("show " + parameter)) {
            rs.next();
            return rs.getString(1);
        }
    }

    static Connection replicationConnection(String sslmode) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "replicator");
        p.setProperty("password", SECRETS.replicationPassword());
        p.setProperty("sslmode", sslmode);
        p.setProperty("replication", "true");
        p.setProperty("assumeMinServerVersion", "9.4");
        p.setProperty("preferQueryMode", "simple");
        p.setProperty("connectTimeout", "5");
        return new Driver().connect("jdbc:postgresql://" + ADDRESS + ":5432/postgres", p);
    }

    static void awaitTrue(BooleanSupplier condition, int seconds, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": not within " + seconds + " s; output:\n" + read(output));
            }
            if (postmaster != null && !postmaster.isAlive()) {
                throw new AssertionError("postmaster exited " + postmaster.exitValue() + "; output:\n" + read(output));
            }
            Thread.sleep(50);
        }
    }

    /** SIGINT is PostgreSQL's fast shutdown; SIGKILL by pid only if it overstays. */
    static void stopPostmaster(long pid) throws Exception {
        signal("INT", pid);
        ProcessHandle handle = ProcessHandle.of(pid).orElse(null);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (Files.exists(Path.of("/proc/" + pid)) && System.nanoTime() < deadline) {
            if (postmaster != null && postmaster.pid() == pid) {
                postmaster.waitFor(100, TimeUnit.MILLISECONDS);
            } else {
                Thread.sleep(100);
            }
        }
        if (handle != null && handle.isAlive()) {
            signal("KILL", pid);
        }
    }

    /** A postmaster an earlier, interrupted run of this test left on its own data directory. */
    static void stopLeftoverPostmaster() throws Exception {
        Path pidFile = ROOT.resolve("var/opt/chef-backend/postgresql/15/data/postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
        Path cmdline = Path.of("/proc/" + pid + "/cmdline");
        if (Files.exists(cmdline) && read(cmdline).contains(ROOT.toString())) {
            stopPostmaster(pid);
        }
    }

    static void signal(String name, long pid) throws Exception {
        new ProcessBuilder("kill", "-" + name, String.valueOf(pid)).inheritIO().start().waitFor(10, TimeUnit.SECONDS);
    }

    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    static String owner(Path p) throws IOException {
        return Files.getOwner(p, LinkOption.NOFOLLOW_LINKS).getName();
    }

    static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    /** ReplicationIT's too. */
    static void deleteTree(Path root) throws IOException {
        FileTrees.deleteTree(root);
    }
}
