package org.chefbackend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.testing.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The Debian package, installed for real on this machine as an operator would (issue 21's CI tier): install with
 * apt-get, create a one-node cluster at the real root (/etc/chef-backend, /var/opt/chef-backend) with the agent
 * started by chef-backend.service's own ExecStart line (CI has no systemd as PID 1), a newer build installed under
 * the running node (nothing restarts; data and role kept), the node restarted as systemd would, then remove (data and
 * configuration kept, the node stopped) and purge (both gone). The node publishes on 127.0.0.178.
 *
 * <p>It changes this machine: it refuses to start where chef-backend is installed or its directories exist, and
 * purges what it installed, also when it fails.
 */
@TestMethodOrder(OrderAnnotation.class)
class PackageIT {
    static final String ADDRESS = "127.0.0.178";
    static final Path UNIT = Path.of("/lib/systemd/system/chef-backend.service");
    static final Path CTL = Path.of("/usr/bin/chef-backend-ctl");
    static final Path ETC = Path.of("/etc/chef-backend");
    static final Path VAR = Path.of("/var/opt/chef-backend");
    static final Path LOG = Path.of("/var/log/chef-backend");
    static final Path OPT = Path.of("/opt/chef-backend");

    static Path deb;
    static Path work;
    static Process agent;
    static final List<Process> agents = new ArrayList<>();

    record Run(int code, String out) {
    }

    @BeforeAll
    static void machineWithoutChefBackend() throws Exception {
        Path target = TestNode.REPO.resolve("product/target");
        try (Stream<Path> files = Files.list(target)) {
            List<Path> debs = files.filter(p -> p.getFileName().toString().matches("chef-backend_.*_all\\.deb")).toList();
            assertEquals(1, debs.size(), "mvn package leaves exactly one package in " + target + ": " + debs);
            deb = debs.get(0);
        }
        assertNotEquals(0, run(Duration.ofSeconds(30), "dpkg-query", "-W", "chef-backend").code(),
                "chef-backend is installed on this machine already; PackageIT installs and purges it, so it runs only"
                        + " where it is not (dpkg --purge chef-backend)");
        for (Path p : List.of(ETC, VAR, LOG, OPT)) {
            assertFalse(Files.exists(p), p + " exists; PackageIT runs only on a machine without chef-backend");
        }
        work = Files.createTempDirectory("package-it");
    }

    @AfterAll
    static void purgeWhatWasInstalled() throws Exception {
        for (Process p : agents) {
            stopTree(p);
        }
        if (run(Duration.ofSeconds(30), "dpkg-query", "-W", "-f=${Status}", "chef-backend").out().contains("installed")
                || Files.exists(OPT)) {
            run(Duration.ofMinutes(5), "env", "DEBIAN_FRONTEND=noninteractive", "dpkg", "--purge", "chef-backend");
        }
        for (Path p : List.of(ETC, VAR, LOG)) {
            deleteTree(p);
        }
        deleteTree(work);
    }

    /**
     * A fresh Debian 12 machine has none of the dependencies: apt, told that nothing is installed (an empty dpkg
     * status), still finds every one of them in Debian's archive for the package.
     */
    @Test
    @Order(0)
    void onAFreshMachineAptFindsEveryDependency() throws Exception {
        Path empty = Files.writeString(work.resolve("empty-dpkg-status"), "");
        Run plan = run(Duration.ofMinutes(2), "apt-get", "-s", "-o", "Dir::State::status=" + empty, "install",
                deb.toString());
        assertEquals(0, plan.code(), plan.out());
        for (String pkg : List.of("chef-backend", "postgresql-15", "etcd-server", "etcd-client", "pgbackrest")) {
            assertTrue(plan.out().lines().anyMatch(l -> l.startsWith("Inst " + pkg + " ")), pkg + " not planned:\n" + plan.out());
        }
        assertTrue(plan.out().lines().anyMatch(l -> l.matches("Inst openjdk-\\d+-jre-headless .*")),
                "no Java runtime planned:\n" + plan.out());
    }

    @Test
    @Order(1)
    void installsWithAptGetAndNothingElseTakesTheNodesPorts() throws Exception {
        Run install = apt("install", "-y", deb.toString());
        assertEquals(0, install.code(), install.out());
        assertTrue(Files.isSymbolicLink(CTL) && Files.readSymbolicLink(CTL).equals(OPT.resolve("bin/chef-backend-ctl")),
                "chef-backend-ctl on PATH");
        Run version = run(Duration.ofSeconds(60), CTL.toString(), "version");
        assertEquals(0, version.code(), version.out());
        assertTrue(version.out().startsWith("chef-backend "), version.out());
        for (String user : List.of("chef_pgsql", "chef-backend")) {
            assertEquals(0, run(Duration.ofSeconds(10), "getent", "passwd", user).code(), "service user " + user);
        }
        assertTrue(Files.isRegularFile(OPT.resolve("lib/ctl.jsa")), "postinst built the class-data archive");
        assertTrue(Files.isRegularFile(OPT.resolve("opensearch/bin/opensearch")), "the bundled search engine");

        Run verify = run(Duration.ofSeconds(60), "systemd-analyze", "verify", UNIT.toString());
        assertEquals(0, verify.code(), verify.out());
        assertFalse(verify.out().contains("chef-backend.service"), "systemd-analyze verify complains:\n" + verify.out());

        // Debian's etcd and PostgreSQL main cluster: not running, not to start by themselves
        assertEquals(List.of(), listeners(2379, 2378, 5432), "something listens on the node's ports already");
        for (String line : run(Duration.ofSeconds(30), "pg_lsclusters", "-h").out().lines().toList()) {
            String[] f = line.trim().split("\\s+");
            assertEquals("down", f[3], "Debian's PostgreSQL cluster runs: " + line);
            String start = Files.readString(Path.of("/etc/postgresql", f[0], f[1], "start.conf")).strip();
            assertTrue(start.endsWith("manual") || start.endsWith("disabled"), f[0] + "/" + f[1] + " starts " + start);
        }
    }

    @Test
    @Order(2)
    void aLintianCleanPackage() throws Exception {
        // errors fail; warnings (jars outside /usr/share/java, no manual page) are reported, not failed on. The
        // package's override for dir-or-file-in-opt must be what silences that error.
        Run lintian = run(Duration.ofMinutes(5), "lintian", "--fail-on", "error", deb.toString());
        assertEquals(0, lintian.code(), lintian.out());
        assertFalse(lintian.out().lines().anyMatch(l -> l.startsWith("E: ")), lintian.out());
        Run overrides = run(Duration.ofMinutes(5), "lintian", "--show-overrides", deb.toString());
        assertTrue(overrides.out().lines().anyMatch(l -> l.startsWith("O: chef-backend: dir-or-file-in-opt")),
                "the override is in place:\n" + overrides.out());
    }

    @Test
    @Order(3)
    void createClusterAfterEditingChefBackendRbLeads() throws Exception {
        Files.writeString(ETC.resolve("chef-backend.rb"), "publish_address '" + ADDRESS + "'\n"
                + "# one machine shares several test nodes: a small search heap and shared_buffers\n"
                + "elasticsearch.heap_size = 512\npostgresql.shared_buffers = '128MB'\n");
        Run create = run(Duration.ofMinutes(6), CTL.toString(), "create-cluster", "-y");
        assertEquals(0, create.code(), create.out());
        awaitHealthyLeader();
        try (Connection c = pg()) {
            c.createStatement().execute("create table package_it (id int primary key, note text)");
            c.createStatement().execute("insert into package_it values (1, 'before the upgrade')");
        }
        for (String line : listeners(2379, 2378, 2380, 5432, 7331)) {
            assertTrue(line.contains(ADDRESS + ":") || line.contains(ADDRESS + "]:"), "only the node listens on its ports: " + line);
        }
    }

    /**
     * Without systemd the CLI started the agent; from here on the unit's ExecStart runs it. A node stopped while it
     * led, with nobody to take over (a cluster of one), leads again when it starts: it used to stay held by
     * no-start-pgsql, waiting for an operator.
     */
    @Test
    @Order(4)
    void theUnitsExecStartRunsTheNodeAndAStoppedLoneLeaderLeadsAgain() throws Exception {
        Run stop = run(Duration.ofMinutes(3), CTL.toString(), "stop");
        assertEquals(0, stop.code(), stop.out());
        assertTrue(Files.exists(VAR.resolve("leaderl/data/no-start-pgsql")), "the leader stopped fenced");
        agent = startAsTheUnitWould();
        awaitHealthyLeader();
        assertTrue(agent.isAlive(), "the agent runs in the foreground");
        assertEquals(agent.pid(), TestNode.existing(ADDRESS, Path.of("/"), "package-it").agentPid(),
                "the node's agent is the unit's process");
        try (Connection c = pg()) {
            assertEquals(1, count(c), "the data kept through stop and start");
        }
    }

    @Test
    @Order(5)
    void aNewerBuildInstalledUnderTheRunningNodeRestartsNothing() throws Exception {
        String before = installedVersion();
        String newer = before + "+1";
        Path newerDeb = buildPackage(newer);
        long postgres = servicePid("postgresql");
        Run upgrade = apt("install", "-y", newerDeb.toString());
        assertEquals(0, upgrade.code(), upgrade.out());
        assertEquals(newer, installedVersion());
        assertTrue(agent.isAlive(), "postinst stopped the agent");
        assertEquals(postgres, servicePid("postgresql"), "postinst restarted PostgreSQL");
        assertTrue(upgrade.out().contains("a running node keeps the old version until it is restarted"), upgrade.out());
        // the agent looks at most every 5 s
        Run flagged = status();
        for (int i = 0; i < 20 && !flagged.out().contains("running an old"); i++) {
            Thread.sleep(500);
            flagged = status();
        }
        assertEquals(0, flagged.code(), "the node stays healthy through the upgrade: " + flagged.out());
        // dpkg replaced every file: the agent's and the search engine's JVMs hold jars that are gone from disk
        assertTrue(flagged.out().contains("agent: running an old /opt/chef-backend/lib/"), flagged.out());
        assertTrue(flagged.out().contains("elasticsearch: running an old /opt/chef-backend/opensearch/"), flagged.out());
        assertFalse(flagged.out().contains("postgresql: running an old"), "PostgreSQL was not upgraded: " + flagged.out());

        // systemctl restart: SIGTERM to the agent alone (KillMode=mixed), then ExecStart again
        stopAsTheUnitWould(agent);
        agent = startAsTheUnitWould();
        awaitHealthyLeader();
        assertNotEquals(postgres, servicePid("postgresql"), "the restart did not restart PostgreSQL");
        Run restarted = status();
        assertFalse(restarted.out().contains("running an old"), "still old after the restart: " + restarted.out());
        try (Connection c = pg()) {
            c.createStatement().execute("insert into package_it values (2, 'after the upgrade')");
            assertEquals(2, count(c), "the data kept through the upgrade and restart");
        }
    }

    @Test
    @Order(6)
    void removeStopsTheNodeAndKeepsItsDataAndConfiguration() throws Exception {
        List<Long> pids = agent.descendants().map(ProcessHandle::pid).toList();
        assertFalse(pids.isEmpty(), "the node's services run under the agent");
        Run remove = apt("remove", "-y", "chef-backend");
        assertEquals(0, remove.code(), remove.out());
        assertTrue(agent.waitFor(60, TimeUnit.SECONDS), "prerm stopped the agent");
        for (long pid : pids) {
            assertTrue(ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true), "pid " + pid + " still runs");
        }
        assertFalse(Files.exists(CTL), "chef-backend-ctl left on PATH");
        assertFalse(Files.exists(OPT.resolve("lib")), "the product left in /opt");
        assertTrue(Files.isRegularFile(ETC.resolve("chef-backend.rb")), "chef-backend.rb removed");
        assertTrue(Files.isRegularFile(ETC.resolve("chef-backend-secrets.json")), "the secrets removed");
        assertTrue(Files.isDirectory(VAR.resolve("postgresql")), "the node's data removed");
        assertTrue(run(Duration.ofSeconds(30), "dpkg-query", "-W", "-f=${Status}", "chef-backend").out()
                .contains("config-files"), "remove keeps the package's configuration files");
    }

    @Test
    @Order(7)
    void purgeSaysWhatItRemovesAndRemovesIt() throws Exception {
        Run purge = apt("purge", "-y", "chef-backend");
        assertEquals(0, purge.code(), purge.out());
        assertTrue(purge.out().contains("purging this node's data and configuration"), purge.out());
        for (Path p : List.of(ETC, VAR, LOG, OPT, Path.of("/etc/postgresql-common/createcluster.d/chef-backend.conf"))) {
            assertFalse(Files.exists(p), p + " survived the purge");
        }
        Run known = run(Duration.ofSeconds(30), "dpkg-query", "-W", "-f=${Status}", "chef-backend");
        assertTrue(known.code() != 0 || known.out().contains("not-installed"), "dpkg still knows chef-backend: " + known);
    }

    /** The control: an operator who answers no (here preseeded, as debconf's rules allow) keeps the node's files. */
    @Test
    @Order(8)
    void purgeKeepsTheDataWhenTheOperatorSaysNo() throws Exception {
        Run install = apt("install", "-y", deb.toString());
        assertEquals(0, install.code(), install.out());
        Path kept = Files.writeString(Files.createDirectories(VAR).resolve("keep-me"), "a node's data\n");
        Run preseed = run(Duration.ofSeconds(30), "sh", "-c",
                "echo 'chef-backend chef-backend/purge_data boolean false' | debconf-set-selections");
        assertEquals(0, preseed.code(), preseed.out());
        Run purge = apt("purge", "-y", "chef-backend");
        assertEquals(0, purge.code(), purge.out());
        assertTrue(purge.out().contains("kept /var/opt/chef-backend"), purge.out());
        assertTrue(Files.isRegularFile(kept), "the purge removed data the operator kept");
        assertFalse(Files.exists(OPT.resolve("lib")), "the package itself is purged either way");
    }

    // ---- the node, as chef-backend.service runs it ------------------------------------------------------------

    /** ExecStart, with the unit's Environment, from the installed unit file: what systemd would run. */
    static Process startAsTheUnitWould() throws IOException {
        List<String> unit = Files.readAllLines(UNIT);
        String exec = unit.stream().filter(l -> l.startsWith("ExecStart=")).findFirst().orElseThrow().substring(10);
        ProcessBuilder pb = new ProcessBuilder(List.of(exec.split(" "))).directory(new File("/"))
                .redirectErrorStream(true).redirectOutput(work.resolve("agent.journal").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        for (String line : unit) {
            if (line.startsWith("Environment=")) {
                String[] kv = line.substring(12).split("=", 2);
                pb.environment().put(kv[0], kv[1]);
            }
        }
        Process p = pb.start();
        agents.add(p);
        return p;
    }

    /** systemctl stop with KillMode=mixed: SIGTERM to the main process; the agent stops its services itself. */
    static void stopAsTheUnitWould(Process p) throws Exception {
        p.destroy();
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "the agent did not stop within TimeoutStopSec");
        List<String> success = List.of("0", "143");
        String unit = Files.readString(UNIT);
        assertTrue(success.contains(String.valueOf(p.exitValue())) && unit.contains("SuccessExitStatus=143"),
                "exit " + p.exitValue() + " would mark the unit failed");
    }

    /** status exits 0 and /leader answers 200, as HAProxy asks it. */
    static void awaitHealthyLeader() throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
        Run last = null;
        int leader = 0;
        while (System.nanoTime() < deadline) {
            last = status();
            leader = leaderAnswer();
            if (last.code() == 0 && leader == 200) {
                return;
            }
            Thread.sleep(1000);
        }
        fail("no healthy leader at " + ADDRESS + " (/leader " + leader + "): " + (last == null ? "" : last.out()));
    }

    static int leaderAnswer() {
        try {
            HttpResponse<String> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build().send(
                    HttpRequest.newBuilder(URI.create("http://" + ADDRESS + ":7331/leader"))
                            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode();
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    static Run status() throws Exception {
        return run(Duration.ofSeconds(60), CTL.toString(), "status");
    }

    static long servicePid(String service) {
        return TestNode.existing(ADDRESS, Path.of("/"), "package-it").pid(service);
    }

    static Connection pg() throws SQLException {
        Secrets s = SecretsFile.load(ETC.resolve("chef-backend-secrets.json"));
        Properties p = new Properties();
        p.setProperty("user", "chef_pgsql");
        p.setProperty("password", s.dbSuperuserPassword());
        p.setProperty("connectTimeout", "5");
        return DriverManager.getConnection("jdbc:postgresql://" + ADDRESS + ":5432/postgres", p);
    }

    static int count(Connection c) throws SQLException {
        try (ResultSet rs = c.createStatement().executeQuery("select count(*) from package_it")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    // ---- the machine -------------------------------------------------------------------------------------------

    static Run apt(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-q"));
        command.addAll(List.of(args));
        return run(Duration.ofMinutes(6), command.toArray(String[]::new));
    }

    static String installedVersion() throws Exception {
        return run(Duration.ofSeconds(30), "dpkg-query", "-W", "-f=${Version}", "chef-backend").out().strip();
    }

    /** The same distribution packaged again as a newer version, as the next build would be. */
    static Path buildPackage(String version) throws Exception {
        Path out = Files.createDirectories(work.resolve("newer"));
        Run r = run(Duration.ofMinutes(3), "bash", TestNode.REPO.resolve("product/src/deb/build-deb.sh").toString(),
                TestNode.REPO.resolve("product/target/dist").toString(), out.toString(), version,
                TestNode.REPO.toString());
        assertEquals(0, r.code(), r.out());
        return out.resolve("chef-backend_" + version + "_all.deb");
    }

    /** ss's lines for TCP listeners on these ports. */
    static List<String> listeners(int... ports) throws Exception {
        List<String> lines = new ArrayList<>();
        for (String line : run(Duration.ofSeconds(30), "ss", "-Hltn").out().lines().toList()) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 4) {
                continue;
            }
            String local = f[3];
            for (int port : ports) {
                if (local.endsWith(":" + port)) {
                    lines.add(line.trim());
                }
            }
        }
        return lines;
    }

    static Run run(Duration limit, String... command) throws Exception {
        Path out = Files.createTempFile("package-it", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            if (!p.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
                stopTree(p);
                fail(String.join(" ", command) + " did not finish within " + limit.toSeconds() + " s");
            }
            return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    static void stopTree(Process p) throws InterruptedException {
        List<ProcessHandle> tree = new ArrayList<>(p.descendants().toList());
        p.destroy();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        for (ProcessHandle h : tree) {
            h.destroyForcibly();
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
