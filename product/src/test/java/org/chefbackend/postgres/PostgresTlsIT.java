package org.chefbackend.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceUsers;
import org.chefbackend.cluster.LeaderConnections;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.ClusterCa;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;
import org.chefbackend.system.Binaries;
import org.chefbackend.system.FileTrees;
import org.chefbackend.testing.TestCluster;
import org.chefbackend.testing.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * PostgreSQL between the nodes of a cluster with a CA (every new cluster) checks whom it talks to. A real 2-node
 * cluster on 127.0.0.141–142 streams over verify-full; a stranger's PostgreSQL on 127.0.0.144 (started here with
 * initdb, as the service user) is refused by the node's own conninfo, first with a certificate from another CA, then
 * with one from the cluster CA for another address (127.0.0.145), while sslmode=require (and verify-ca for the
 * second) reach the same server: the refusal is the verification, nothing else.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PostgresTlsIT {
    static final Path BASE = Path.of("/tmp/cbit-pgtls");
    static final Path ROGUE = BASE.resolve("rogue");
    static final String STRANGER = "127.0.0.144";
    static final String USER = "chef_pgsql";

    TestCluster cluster;
    TestNode leader;
    TestNode follower;
    Process rogue;

    record Run(int code, String out) {
    }

    @BeforeAll
    void build() throws Exception {
        stopLeftoverRogue();
        cluster = TestCluster.create(List.of("127.0.0.141", "127.0.0.142"), BASE, null, "elasticsearch.heap_size = 384");
        leader = cluster.leader().orElseThrow();
        follower = cluster.nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
    }

    @AfterAll
    void destroy() throws Exception {
        if (rogue != null) {
            stopPostmaster(rogue);
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void theFollowerStreamsOverVerifyFullAndTheLeaderSeesItEncrypted() throws Exception {
        String conninfo = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            try (Connection c = cluster.pg(follower); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("select status, conninfo from pg_stat_wal_receiver")) {
                if (rs.next() && rs.getString(1).equals("streaming")) {
                    conninfo = rs.getString(2);
                    break;
                }
            }
            Thread.sleep(200);
        }
        assertTrue(conninfo != null, "the follower's walreceiver does not stream");
        assertTrue(conninfo.contains("sslmode=verify-full"), conninfo);
        assertTrue(conninfo.contains("sslrootcert=" + rootCertificate(follower)), conninfo);
        assertTrue(conninfo.contains("host=" + leader.address), conninfo);

        try (Connection c = cluster.pg(leader); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select r.state, s.ssl, s.version from pg_stat_replication r"
                        + " join pg_stat_ssl s using (pid) where r.application_name = '" + follower.name + "'")) {
            assertTrue(rs.next(), "the leader sees no replication connection from " + follower.name);
            assertEquals("streaming", rs.getString(1));
            assertTrue(rs.getBoolean(2), "the replication connection is not encrypted");
            assertTrue(rs.getString(3).startsWith("TLS"), rs.getString(3));
        }
        // the agent's own connections to the leader verify as well
        try (Connection c = LeaderConnections.open(context(follower), leader.address, 5432);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select ssl from pg_stat_ssl where pid = pg_backend_pid()")) {
            assertTrue(rs.next() && rs.getBoolean(1));
        }
    }

    @Test
    @Order(2)
    void aServerWithACertificateFromAnotherCaIsRefusedByTheNodesConninfo() throws Exception {
        Path tls = scratch("other-ca");
        openssl(tls, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=another CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-keyout", "ca.key", "-out", "ca.crt");
        serverCertificate(tls, STRANGER); // the right address: only the CA is wrong
        startRogue(tls);

        String conninfo = followersConninfoTo(STRANGER);
        Run verified = asServiceUser(bin("psql"), "-X", "-A", "-t", "-c", "select 1", conninfo + " dbname=postgres");
        assertNotEquals(0, verified.code(), verified.out());
        assertTrue(verified.out().contains("certificate verify failed"), verified.out());
        Run encrypted = asServiceUser(bin("psql"), "-X", "-A", "-t", "-c", "select 1",
                withSslmode(conninfo, "require") + " dbname=postgres");
        assertEquals(new Run(0, "1\n"), encrypted);

        Path verifiedCopy = ownedDirectory("basebackup-verify-full");
        Run backup = asServiceUser(bin("pg_basebackup"), "-d", conninfo, "-D", verifiedCopy.toString(), "-c", "fast");
        assertNotEquals(0, backup.code(), backup.out());
        assertTrue(backup.out().contains("certificate verify failed"), backup.out());
        Path encryptedCopy = ownedDirectory("basebackup-require");
        Run copied = asServiceUser(bin("pg_basebackup"), "-d", withSslmode(conninfo, "require"), "-D",
                encryptedCopy.toString(), "-c", "fast");
        assertEquals(0, copied.code(), copied.out());
        assertTrue(Files.exists(encryptedCopy.resolve("PG_VERSION")));

        // the agent's JDBC connections to another node check the same way
        SQLException jdbc = assertThrows(SQLException.class,
                () -> LeaderConnections.open(context(follower), STRANGER, 5432).close());
        assertTrue(jdbc.getMessage().contains("SSL"), jdbc.getMessage());
    }

    @Test
    @Order(3)
    void aCertificateFromTheClusterCaForAnotherAddressIsRefused() throws Exception {
        Path tls = scratch("cluster-ca-wrong-address");
        ClusterCa ca = cluster.secrets().ca();
        write(tls.resolve("ca.crt"), ca.certificatePem());
        write(tls.resolve("ca.key"), ca.keyPem());
        serverCertificate(tls, "127.0.0.145");
        installCertificate(tls);
        signal("HUP", rogue.pid()); // TLS files reload on SIGHUP since PostgreSQL 10

        String conninfo = followersConninfoTo(STRANGER);
        // verify-ca passes once the new certificate is served: the chain is the cluster's, only the name is wrong
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Run chainOnly;
        do {
            chainOnly = asServiceUser(bin("psql"), "-X", "-A", "-t", "-c", "select 1",
                    withSslmode(conninfo, "verify-ca") + " dbname=postgres");
        } while (chainOnly.code() != 0 && System.nanoTime() < deadline && pause());
        assertEquals(new Run(0, "1\n"), chainOnly);

        Run verified = asServiceUser(bin("psql"), "-X", "-A", "-t", "-c", "select 1", conninfo + " dbname=postgres");
        assertNotEquals(0, verified.code(), verified.out());
        assertTrue(verified.out().contains("does not match host name \"" + STRANGER + "\""), verified.out());

        SQLException jdbc = assertThrows(SQLException.class,
                () -> LeaderConnections.open(context(follower), STRANGER, 5432).close());
        assertTrue(jdbc.getMessage().contains(STRANGER), jdbc.getMessage());
    }

    @Test
    @Order(4)
    void anOperatorsCertificateVerifiesWhenItsFileHoldsTheChainToItsRoot() throws Exception {
        Path tls = scratch("operator");
        openssl(tls, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=operator root",
                "-addext", "basicConstraints=critical,CA:TRUE", "-keyout", "root.key", "-out", "root.crt");
        issue(tls, "intermediate", "root", "/CN=operator intermediate",
                "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n");
        issue(tls, "server", "intermediate", "/CN=stranger", "basicConstraints=critical,CA:FALSE\n"
                + "extendedKeyUsage=serverAuth\nsubjectAltName=IP:" + STRANGER + "\n");
        String leaf = Files.readString(tls.resolve("server.crt"));
        String intermediate = Files.readString(tls.resolve("intermediate.crt"));
        String fullChain = leaf + intermediate + Files.readString(tls.resolve("root.crt"));
        write(tls.resolve("server.crt"), fullChain); // what PostgreSQL serves: the operator's whole file
        installCertificate(tls);
        signal("HUP", rogue.pid());

        Path bundle = operatorsBundle("full-chain", fullChain);
        String conninfo = followersConninfoTo(STRANGER).replace(" sslrootcert=" + rootCertificate(follower) + " ",
                " sslrootcert=" + bundle + " ");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Run verified;
        do {
            verified = asServiceUser(bin("psql"), "-X", "-A", "-t", "-c", "select 1", conninfo + " dbname=postgres");
        } while (verified.code() != 0 && System.nanoTime() < deadline && pause());
        assertEquals(new Run(0, "1\n"), verified);

        // the same file without its root: nothing in it is a trust anchor, so nothing verifies
        Path withoutRoot = operatorsBundle("without-root", leaf + intermediate);
        Run refused = asServiceUser(bin("psql"), "-X", "-A", "-t", "-c", "select 1",
                conninfo.replace(bundle.toString(), withoutRoot.toString()) + " dbname=postgres");
        assertNotEquals(0, refused.code(), refused.out());
        assertTrue(refused.out().contains("certificate verify failed"), refused.out());
    }

    /** Issues {@code name}.crt/.key in {@code dir}, signed with {@code issuer}.crt/.key, with extensions {@code ext}. */
    static void issue(Path dir, String name, String issuer, String subject, String ext) throws Exception {
        write(dir.resolve(name + ".cnf"), ext);
        openssl(dir, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", name + ".key",
                "-out", name + ".csr");
        openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", issuer + ".crt", "-CAkey", issuer + ".key",
                "-set_serial", String.valueOf(System.nanoTime()), "-days", "2", "-extfile", name + ".cnf", "-out",
                name + ".crt");
    }

    /**
     * The bundle a node with {@code certificate} as its ssl.certificate trusts ({@link PeerTls#bundle}), in a file the
     * service user reads.
     */
    Path operatorsBundle(String name, String certificate) throws IOException {
        Path etc = follower.root.resolve("etc/chef-backend");
        write(etc.resolve("operator-" + name + ".crt"), certificate);
        NodeContext n = context(follower, "ssl.certificate = '/etc/chef-backend/operator-" + name + ".crt'\n"
                + "ssl.certificate_key = '/etc/chef-backend/operator.key'\n");
        Path bundle = BASE.resolve("tls").resolve(name + "-root.crt");
        write(bundle, PeerTls.bundle(n));
        Files.setPosixFilePermissions(bundle, PosixFilePermissions.fromString("rw-r--r--"));
        return bundle;
    }

    // ---- the node's settings -----------------------------------------------------------------------------------

    static Path rootCertificate(TestNode n) {
        return n.root.resolve("var/opt/chef-backend/postgresql/root.crt");
    }

    /** The follower's own primary_conninfo (as written to standby.conf), pointed at {@code host}. */
    String followersConninfoTo(String host) throws IOException {
        Path standbyConf = follower.root.resolve("var/opt/chef-backend/postgresql/15/data/standby.conf");
        String conninfo = PostgresqlConf.parse(Files.readString(standbyConf)).get("primary_conninfo");
        assertTrue(conninfo.contains("host=" + leader.address + " ") && conninfo.contains(" sslmode=verify-full "),
                conninfo);
        return conninfo.replace("host=" + leader.address + " ", "host=" + host + " ");
    }

    /**
     * The conninfo with another sslmode; for require without sslrootcert too (libpq's require verifies the chain
     * like verify-ca whenever a root certificate file is given), so it is what a node without the CA uses.
     */
    String withSslmode(String conninfo, String sslmode) {
        String changed = conninfo.replace(" sslmode=verify-full ", " sslmode=" + sslmode + " ");
        return sslmode.equals("require")
                ? changed.replace(" sslrootcert=" + rootCertificate(follower) + " ", " ") : changed;
    }

    NodeContext context(TestNode n) throws IOException {
        return context(n, "");
    }

    NodeContext context(TestNode n, String moreConfig) throws IOException {
        Settings settings = Settings.from(ChefBackendRbParser.parse("chef-backend.rb",
                Files.readString(n.configFile()) + moreConfig), MachineFacts.detect());
        return new NodeContext(settings, new NodePaths(n.root), n.name, "0123456789abcdef0123456789abcdef",
                cluster.secrets());
    }

    // ---- the stranger's PostgreSQL -----------------------------------------------------------------------------

    /** Issues server.crt/server.key in {@code dir} from its ca.crt/ca.key, for {@code address}. */
    static void serverCertificate(Path dir, String address) throws Exception {
        write(dir.resolve("ext.cnf"), "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n"
                + "subjectAltName=IP:" + address + "\n");
        openssl(dir, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=stranger", "-keyout", "server.key",
                "-out", "server.csr");
        openssl(dir, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", "1",
                "-days", "2", "-extfile", "ext.cnf", "-out", "server.crt");
    }

    void startRogue(Path tls) throws Exception {
        FileTrees.deleteTree(ROGUE);
        Path data = ownedDirectory("rogue/data");
        ownedDirectory("rogue/run");
        Run initdb = asServiceUser(bin("initdb"), "-D", data.toString(), "-U", USER, "--auth=trust", "-E", "UTF8",
                "--locale=C.UTF-8");
        assertEquals(0, initdb.code(), initdb.out());
        Files.writeString(data.resolve("postgresql.conf"), "listen_addresses = '" + STRANGER + "'\nport = 5432\n"
                + "unix_socket_directories = '" + ROGUE.resolve("run") + "'\nshared_buffers = '16MB'\nssl = on\n",
                StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        Files.writeString(data.resolve("pg_hba.conf"), "local all all trust\n"
                + "hostssl all all 127.0.0.0/8 trust\nhostssl replication all 127.0.0.0/8 trust\n");
        installCertificate(tls);
        List<String> command = new ArrayList<>(Commands.asUser(USER, List.of(bin("postgres"), "-D", data.toString())));
        rogue = new ProcessBuilder(command).directory(ROGUE.toFile()).redirectErrorStream(true)
                .redirectOutput(ROGUE.resolve("postgres.log").toFile()).start();
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> TestCluster.open(STRANGER, 5432)),
                "the stranger's PostgreSQL does not listen: " + Files.readString(ROGUE.resolve("postgres.log")));
        // the role the node's replication conninfo names
        Run role = asServiceUser(bin("psql"), "-X", "-h", ROGUE.resolve("run").toString(), "-d", "postgres", "-c",
                "create role replicator with replication login");
        assertEquals(0, role.code(), role.out());
    }

    static void installCertificate(Path tls) throws IOException {
        Path data = ROGUE.resolve("data");
        ServiceUsers.writeOwned(data.resolve("server.crt"), Files.readAllBytes(tls.resolve("server.crt")), USER,
                "rw-r--r--");
        ServiceUsers.writeOwned(data.resolve("server.key"), Files.readAllBytes(tls.resolve("server.key")), USER,
                "rw-------");
    }

    /** A rogue postmaster an interrupted earlier run of this test left behind (its pid file names it). */
    static void stopLeftoverRogue() throws Exception {
        Path pidFile = ROGUE.resolve("data/postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
        Path cmdline = Path.of("/proc", String.valueOf(pid), "cmdline");
        if (Files.exists(cmdline) && Files.readString(cmdline).contains(ROGUE.resolve("data").toString())) {
            signal("INT", pid);
            TestNode.waitUntil(Duration.ofSeconds(30), () -> !Files.exists(cmdline));
        }
    }

    static void stopPostmaster(Process p) throws Exception {
        signal("INT", p.pid()); // fast shutdown
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    static String bin(String program) {
        return Binaries.postgresBinDir().resolve(program).toString();
    }

    static Path scratch(String name) throws IOException {
        Path dir = BASE.resolve("tls").resolve(name);
        FileTrees.deleteTree(dir);
        return ServiceUsers.ownedDirectory(dir, "root", "rwx------");
    }

    static Path ownedDirectory(String name) throws IOException {
        Path dir = BASE.resolve(name);
        FileTrees.deleteTree(dir);
        return ServiceUsers.ownedDirectory(dir, USER, "rwx------");
    }

    static void write(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.US_ASCII);
    }

    static void openssl(Path dir, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Run r = run(command, dir);
        assertEquals(0, r.code(), "openssl " + args[0] + ": " + r.out());
    }

    /** As the service user, with a clean environment (no PG* variables), as the node's own tools run. */
    static Run asServiceUser(String... command) throws Exception {
        return run(Commands.asUser(USER, List.of(command)), BASE);
    }

    static Run run(List<String> command, Path dir) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        pb.environment().put("LANG", "C.UTF-8");
        Process p = pb.start();
        p.getOutputStream().close();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(output unreadable: " + e.getMessage() + ")";
            }
        });
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            Commands.destroyWithChildren(p);
            throw new AssertionError(String.join(" ", command) + " did not finish within 60 s: " + out.join());
        }
        return new Run(p.exitValue(), out.join());
    }

    static void signal(String signal, long pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + signal, String.valueOf(pid)).start();
        assertEquals(0, p.waitFor(), "kill -" + signal + " " + pid);
    }

    /** A poll's pause; true so it can sit in a loop condition. */
    static boolean pause() {
        try {
            Thread.sleep(200);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
