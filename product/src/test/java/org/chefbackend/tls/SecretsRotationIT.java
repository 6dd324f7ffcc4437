package org.chefbackend.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.chefbackend.api.AdminAuth;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.config.SecretsRotation;
import org.chefbackend.etcd.EtcdRecipe;
import org.chefbackend.postgres.PostgresRecipe;
import org.chefbackend.testing.Curl;
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
 * rotate-secrets and rotate-certificates on a running closed cluster (127.0.0.160–162; a stranger, and a holder of
 * old or new secrets, on 127.0.0.163): a refusal that changes nothing when one node lacks the next file; then a
 * rotation under a write load through the leader, after which the old etcd passwords and admin key are refused and
 * the new ones taken, every follower streams again (it had to log in with the new password), no acknowledged write is
 * lost, and nothing restarted; new certificates that PostgreSQL and etcd serve without a restart; a node down during
 * a switch adopting the next secrets when it starts; and the cluster CA replaced under writes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecretsRotationIT {
    static final List<String> ADDRESSES = List.of("127.0.0.160", "127.0.0.161", "127.0.0.162");
    static final String OUTSIDE = "127.0.0.163";
    static final Path BASE = Path.of("/tmp/cbit-rotate");
    static final String SECRETS = "etc/chef-backend/chef-backend-secrets.json";
    static final Pattern PEM = Pattern.compile("-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----");

    TestCluster cluster;
    Secrets old;
    Secrets next;
    /** The secrets the cluster holds now. */
    Secrets latest;
    Path caFile;
    final Curl outside = new Curl(OUTSIDE);
    final List<String> record = new ArrayList<>();

    @BeforeAll
    void build() throws Exception {
        cluster = TestCluster.create(ADDRESSES, BASE, null);
        old = cluster.secrets();
        caFile = BASE.resolve("ca.crt");
        Files.writeString(caFile, old.ca().certificatePem());
    }

    @AfterAll
    void destroy() {
        record.forEach(System.out::println);
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void aNodeWithoutTheNextFileStopsTheRotationBeforeAnythingChanges() throws Exception {
        TestNode a = cluster.nodes.get(0);
        TestNode c = cluster.nodes.get(2);
        TestNode.Run prepared = a.ctlOk("rotate-secrets", "--prepare");
        assertTrue(prepared.out().contains("copy"), prepared.out());
        Path nextFile = SecretsRotation.nextFile(a.root.resolve(SECRETS));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(nextFile)));
        next = SecretsFile.load(nextFile);
        assertEquals(old.ca(), next.ca());
        assertEquals(old.etcdInitialClusterToken(), next.etcdInitialClusterToken());
        TestNode.Run again = a.ctl("rotate-secrets", "--prepare");
        assertEquals(2, again.code(), "a second --prepare would replace the file already copied: " + again);
        copyNext(cluster.nodes.get(1));

        TestNode.Run refused = a.ctl("rotate-secrets", "-y");
        record.add("refusal: exit " + refused.code() + ": " + refused.err().strip());
        assertEquals(2, refused.code(), refused.out() + refused.err());
        assertEquals(1, refused.err().strip().lines().count(), "one line: " + refused.err());
        assertTrue(refused.err().contains(c.name) && refused.err().contains("nothing was changed"), refused.err());
        assertFalse(refused.err().contains(cluster.nodes.get(1).name + ":"), "b is ready: " + refused.err());
        assertFalse(refused.err().contains("Exception"), refused.err());
        // nothing changed: every node on the old secrets, which every service still takes; the new ones are refused
        for (TestNode n : cluster.nodes) {
            assertEquals(old.fingerprint(), SecretsFile.load(n.root.resolve(SECRETS)).fingerprint(), n.name);
            assertEquals(200, adminCall(n, old).status(), n.name + " refuses the old admin key");
            assertEquals(401, adminCall(n, next).status(), n.name + " takes the next admin key before the rotation");
        }
        assertTrue(etcdLogin(a, old, Secrets.ETCD_CLUSTER_USER), "the old etcd password is refused");
        assertFalse(etcdLogin(a, next, Secrets.ETCD_CLUSTER_USER), "the next etcd password is taken");
        try (Connection ok = pg(cluster.leader().orElseThrow(), old.dbSuperuserPassword())) {
            assertTrue(ok.isValid(2));
        }
        assertThrows(SQLException.class, () -> pg(cluster.leader().orElseThrow(), next.dbSuperuserPassword()).close());
    }

    @Test
    @Order(2)
    void rotationUnderWritesLosesNothingAndLeavesOnlyTheNewSecretsWorking() throws Exception {
        TestNode a = cluster.nodes.get(0);
        copyNext(cluster.nodes.get(2));
        TestNode leader = cluster.leader().orElseThrow();
        Map<String, List<Long>> pidsBefore = servicePids();
        try (Connection c = pg(leader, old.dbSuperuserPassword()); Statement st = c.createStatement()) {
            st.execute("create table rotation_load (id bigint primary key)");
        }
        long rotationStart;
        LoadWriter load = new LoadWriter(cluster, List.of(old.dbSuperuserPassword(), next.dbSuperuserPassword()));
        try {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(10), () -> load.acked() >= 50), "no writes acknowledged");
            try (Connection c = pg(leader, old.dbSuperuserPassword()); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("select now()")) {
                rs.next();
                rotationStart = rs.getTimestamp(1).getTime();
            }
            long t0 = System.nanoTime();
            TestNode.Run rotated = cluster.nodes.get(1).ctlOk("rotate-secrets", "-y");
            record.add("rotate-secrets took " + (System.nanoTime() - t0) / 1_000_000 + " ms:\n" + rotated.out().strip());
            assertTrue(rotated.out().contains("gen-server-config"), "no reminder for the frontends: " + rotated.out());
            int ackedAtEnd = load.acked();
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> load.acked() >= ackedAtEnd + 50),
                    "writes do not go on after the rotation");
        } finally {
            load.close();
        }
        record.add("load: " + load.acked() + " writes acknowledged, " + load.failed() + " failed, longest gap "
                + load.longestGapMs() + " ms");

        // every node on the next secrets, the .next files consumed, the file still root-only
        for (TestNode n : cluster.nodes) {
            Path file = n.root.resolve(SECRETS);
            assertEquals(next.fingerprint(), SecretsFile.load(file).fingerprint(), n.name);
            assertFalse(Files.exists(SecretsRotation.nextFile(file)), n.name + " kept its .next file");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)), n.name);
        }
        // the old etcd passwords (v3 users, v2 root) and admin key refused, the new ones taken, from outside
        for (TestNode n : cluster.nodes) {
            for (String user : List.of(Secrets.ETCD_ROOT_USER, Secrets.ETCD_CLUSTER_USER)) {
                assertFalse(etcdLogin(n, old, user), n.name + " takes the old password of etcd user " + user);
                assertTrue(etcdLogin(n, next, user), n.name + " refuses the new password of etcd user " + user);
            }
            assertEquals(401, etcdV2AsRoot(n, old), n.name + ": v2 root with the old password");
            assertEquals(200, etcdV2AsRoot(n, next), n.name + ": v2 root with the new password");
            assertEquals(401, adminCall(n, old).status(), n.name + " takes the old admin key");
            assertEquals(200, adminCall(n, next).status(), n.name + " refuses the new admin key");
        }
        record.add("after: old etcd passwords (v3 root, chef-backend, v2 root) and old admin key refused on every node;"
                + " new ones taken");
        TestNode leaderAfter = cluster.leader().orElseThrow();
        assertEquals(leader.name, leaderAfter.name, "the leader changed during the rotation");
        assertThrows(SQLException.class, () -> pg(leaderAfter, old.dbSuperuserPassword()).close());
        // every follower streams again, on a connection made after the passwords changed: with the new password
        List<String> streaming = new ArrayList<>();
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> {
            streaming.clear();
            streaming.addAll(reconnectedReplicas(leaderAfter, rotationStart, next.dbSuperuserPassword()));
            return streaming.size() == cluster.nodes.size() - 1;
        }), "followers streaming on a connection made after the rotation: " + streaming);
        record.add("replication after the rotation: " + streaming);
        assertTrue(replicationLogin(leaderAfter, next.replicationPassword()), "the new replication password is refused");
        assertFalse(replicationLogin(leaderAfter, old.replicationPassword()), "the old replication password is taken");
        // no acknowledged write lost, on any node, once the followers caught up
        for (TestNode n : cluster.nodes) {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> load.missingOn(n).isEmpty()),
                    n.name + " lacks acknowledged writes: " + load.missingOn(n));
        }
        // negative control: a row removed on the leader is what the checker reports, on every node
        long victim = load.someAcked();
        try (Connection c = pg(leaderAfter, next.dbSuperuserPassword()); Statement st = c.createStatement()) {
            assertEquals(1, st.executeUpdate("delete from rotation_load where id = " + victim));
        }
        for (TestNode n : cluster.nodes) {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> load.missingOn(n).equals(List.of(victim))),
                    "the checker misses the removed row " + victim + " on " + n.name + ": " + load.missingOn(n));
        }
        assertEquals(pidsBefore, servicePids(), "a service restarted during the rotation");
        latest = next;
    }

    @Test
    @Order(3)
    void newCertificatesAreServedWithoutARestart() throws Exception {
        Map<String, List<Long>> pidsBefore = servicePids();
        Map<String, String> before = new LinkedHashMap<>();
        for (TestNode n : cluster.nodes) {
            before.put(n.name + " postgresql", serial(n, 5432, true));
            before.put(n.name + " etcd", serial(n, 2378, false));
        }
        TestNode.Run rotated = cluster.nodes.get(0).ctlOk("rotate-certificates", "--all", "-y");
        record.add("rotate-certificates --all:\n" + rotated.out().strip());
        Map<String, String> after = new LinkedHashMap<>();
        for (TestNode n : cluster.nodes) {
            for (boolean postgres : List.of(true, false)) {
                String what = n.name + (postgres ? " postgresql" : " etcd");
                assertTrue(TestNode.waitUntil(Duration.ofSeconds(15), () -> {
                    String now = serial(n, postgres ? 5432 : 2378, postgres);
                    after.put(what, now);
                    return !now.isEmpty() && !now.equals(before.get(what));
                }), what + " still serves serial " + before.get(what));
                assertTrue(rotated.out().contains(after.get(what).toLowerCase().replaceFirst("^0+", "")),
                        what + " serves " + after.get(what) + ", not what the command issued: " + rotated.out());
            }
        }
        record.add("certificate serials before " + before + "\n  after " + after);
        assertEquals(pidsBefore, servicePids(), "a service restarted to serve the new certificate");
        assertEquals(cluster.nodes.size() - 1, cluster.synced(cluster.nodes.get(0)), "replication after the new"
                + " certificates (verify-full)");
    }

    /**
     * A node that is down while the others switch (driven here step by step, as the command does, since the command
     * itself refuses while an agent does not answer) switches when its agent starts: etcd refuses its current
     * passwords and takes the next ones. Its follower streams again with the new replication password.
     */
    @Test
    @Order(4)
    void aNodeDownDuringTheSwitchAdoptsTheNextSecretsWhenItStarts() throws Exception {
        Secrets current = next;
        TestNode leader = cluster.leader().orElseThrow();
        List<TestNode> followers = cluster.nodes.stream().filter(n -> n != leader).toList();
        TestNode down = followers.get(1);
        TestNode driver = followers.get(0);
        TestNode a = cluster.nodes.get(0);
        Files.deleteIfExists(SecretsRotation.nextFile(a.root.resolve(SECRETS)));
        a.ctlOk("rotate-secrets", "--prepare");
        Secrets third = SecretsFile.load(SecretsRotation.nextFile(a.root.resolve(SECRETS)));
        for (TestNode n : cluster.nodes) {
            if (n != a) {
                copyNext(n);
            }
        }
        down.ctlOk("stop");
        long since;
        try (Connection c = pg(leader, current.dbSuperuserPassword()); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select now()")) {
            rs.next();
            since = rs.getTimestamp(1).getTime();
        }
        String fp = third.fingerprint();
        for (TestNode n : List.of(driver, leader)) {
            assertOk(adminCall(n, current, "stage", fp), n.name + " stage");
        }
        assertOk(adminCall(leader, current, "postgres", fp), "postgres");
        assertOk(adminCall(driver, current, "etcd", fp), "etcd");
        for (TestNode n : List.of(driver, leader)) {
            assertOk(adminCall(n, third, "switch", fp), n.name + " switch");
        }
        assertOk(adminCall(leader, third, "replication", fp), "replication");
        assertEquals(current.fingerprint(), SecretsFile.load(down.root.resolve(SECRETS)).fingerprint());

        down.ctlOk("start");
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(90), () -> fingerprintOf(down).equals(fp)),
                down.name + " did not switch when it started");
        assertFalse(Files.exists(SecretsRotation.nextFile(down.root.resolve(SECRETS))));
        List<String> streaming = new ArrayList<>();
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(60), () -> {
            streaming.clear();
            streaming.addAll(reconnectedReplicas(leader, since, third.dbSuperuserPassword()));
            return streaming.contains(down.name) && streaming.contains(driver.name);
        }), "followers streaming after the rotation: " + streaming);
        assertEquals(401, adminCall(down, current, "check", fp).status(), down.name + " takes the old admin key");
        assertTrue(Files.readString(down.root.resolve("var/log/chef-backend/leaderl/current"))
                .contains("etcd refuses the current passwords and takes the next ones"), "not switched on etcd's sign");
        latest = third;
        record.add("down during the switch: " + down.name + " switched when it started; streaming: " + streaming);
        // no password or derived key of any generation in any log
        List<String> values = new ArrayList<>();
        for (Secrets s : List.of(old, current, third)) {
            values.addAll(s.accessValues());
        }
        try (var files = Files.walk(BASE)) {
            for (Path f : files.filter(f -> f.toString().contains("/var/log/") && Files.isRegularFile(f)).toList()) {
                String text = Files.readString(f, StandardCharsets.ISO_8859_1);
                values.forEach(v -> assertFalse(text.contains(v), f + " holds a secret"));
            }
        }
    }

    /**
     * rotate-ca under writes: afterwards every node's PostgreSQL and etcd serve a certificate issued by the new CA,
     * only the new CA is trusted (a client trusting the old one is refused by etcd), replication verifies the new
     * certificates, no acknowledged write is lost, and PostgreSQL never restarted (etcd does, to trust another CA).
     */
    @Test
    @Order(5)
    void theClusterCaIsReplacedUnderWrites() throws Exception {
        TestNode a = cluster.nodes.get(0);
        Path oldCa = BASE.resolve("old-ca.crt");
        Files.writeString(oldCa, latest.ca().certificatePem());
        a.ctlOk("rotate-ca", "--prepare");
        Path nextCaFile = CaRotation.nextFile(a.root.resolve(SECRETS));
        Secrets withNewCa = SecretsFile.load(nextCaFile);
        for (TestNode n : cluster.nodes) {
            if (n != a) {
                Files.copy(nextCaFile, CaRotation.nextFile(n.root.resolve(SECRETS)), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        X509Certificate newCa = Authority.certificate(withNewCa.ca());
        Path newCaFile = BASE.resolve("new-ca.crt");
        Files.writeString(newCaFile, withNewCa.ca().certificatePem());
        TestNode leader = cluster.leader().orElseThrow();
        Map<String, Long> postgresPids = new LinkedHashMap<>();
        cluster.nodes.forEach(n -> postgresPids.put(n.name, n.pid(PostgresRecipe.NAME)));
        try (Connection c = pg(leader, latest.dbSuperuserPassword()); Statement st = c.createStatement()) {
            st.execute("truncate rotation_load");
        }
        LoadWriter load = new LoadWriter(cluster, List.of(latest.dbSuperuserPassword()));
        try {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(10), () -> load.acked() >= 50), "no writes acknowledged");
            long t0 = System.nanoTime();
            TestNode.Run rotated = cluster.nodes.get(1).ctlOk("rotate-ca", "-y");
            record.add("rotate-ca took " + (System.nanoTime() - t0) / 1_000_000 + " ms:\n" + rotated.out().strip());
            int ackedAtEnd = load.acked();
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> load.acked() >= ackedAtEnd + 50),
                    "writes do not go on after the CA rotation");
        } finally {
            load.close();
        }
        record.add("load during rotate-ca: " + load.acked() + " writes acknowledged, " + load.failed()
                + " failed, longest gap " + load.longestGapMs() + " ms");
        for (TestNode n : cluster.nodes) {
            assertEquals(withNewCa.fingerprint(), fingerprintOf(n), n.name + " does not hold the new CA alone");
            assertFalse(Files.exists(CaRotation.nextFile(n.root.resolve(SECRETS))), n.name + " kept its .next-ca");
            for (boolean postgres : List.of(true, false)) {
                X509Certificate served = served(n, postgres ? 5432 : 2378, postgres);
                assertTrue(served != null, n.name + " serves no certificate");
                served.verify(newCa.getPublicKey()); // throws unless the new CA issued it
            }
            List<X509Certificate> rootCrt = Pem.certificates(Files.readString(
                    n.root.resolve("var/opt/chef-backend/postgresql/root.crt")), "root.crt");
            assertEquals(List.of(newCa), rootCrt, n.name + ": PostgreSQL's clients trust more than the new CA");
            assertEquals(60, outside.send("GET", "https://" + n.address + ":2378/health", null, "--cacert",
                    oldCa.toString()).exit(), n.name + ": a client trusting only the old CA is not refused");
            assertEquals(200, outside.send("GET", "https://" + n.address + ":2378/health", null, "--cacert",
                    newCaFile.toString(), "--cert", n.certificateFiles().certificate().toString(), "--key",
                    n.certificateFiles().key().toString()).status(), n.name + ": a client trusting the new CA is refused");
        }
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> cluster.synced(a) == cluster.nodes.size() - 1),
                "followers not synced (verify-full against the new CA)");
        for (TestNode n : cluster.nodes) {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> load.missingOn(n).isEmpty()),
                    n.name + " lacks acknowledged writes: " + load.missingOn(n));
            assertEquals(postgresPids.get(n.name), n.pid(PostgresRecipe.NAME), n.name + "'s PostgreSQL restarted");
        }
        assertEquals(leader.name, cluster.leader().orElseThrow().name, "the leader changed during rotate-ca");
    }

    // ---- helpers

    private String fingerprintOf(TestNode n) {
        try {
            return SecretsFile.load(n.root.resolve(SECRETS)).fingerprint();
        } catch (RuntimeException e) {
            return "";
        }
    }

    private static void assertOk(Curl.Answer r, String what) {
        assertEquals(200, r.status(), what + ": " + r);
    }

    private void copyNext(TestNode to) throws IOException {
        Path from = SecretsRotation.nextFile(cluster.nodes.get(0).root.resolve(SECRETS));
        Path dest = SecretsRotation.nextFile(to.root.resolve(SECRETS));
        Files.copy(from, dest, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
    }

    /** The pids of each node's PostgreSQL and etcd. */
    private Map<String, List<Long>> servicePids() {
        Map<String, List<Long>> pids = new LinkedHashMap<>();
        for (TestNode n : cluster.nodes) {
            List<Long> p = List.of(n.pid(PostgresRecipe.NAME), n.pid(EtcdRecipe.NAME));
            assertFalse(p.contains(0L), n.name + " has a service down: " + p);
            pids.put(n.name, p);
        }
        return pids;
    }

    /** A signed admin call from outside (the check step: it changes nothing), signed with {@code secrets}' key. */
    private Curl.Answer adminCall(TestNode n, Secrets secrets) {
        return adminCall(n, secrets, "check", next.fingerprint());
    }

    /** A rotate-secrets step from outside, signed with {@code secrets}' key. */
    private Curl.Answer adminCall(TestNode n, Secrets secrets, String step, String fingerprint) {
        String body = "{\"step\":\"" + step + "\",\"fingerprint\":\"" + fingerprint + "\"}";
        String path = "/admin/rotate-secrets";
        String header = AdminAuth.sign(secrets.adminKey(), n.address + ":7331", "POST", path,
                body.getBytes(StandardCharsets.UTF_8), System.currentTimeMillis());
        return outside.send("POST", "http://" + n.address + ":7331" + path, body, "-H", AdminAuth.HEADER + ": " + header);
    }

    private boolean etcdLogin(TestNode n, Secrets secrets, String user) {
        Curl.Answer r = outside.send("POST", "https://" + n.address + ":2378/v3/auth/authenticate", "{\"name\":\""
                + user + "\",\"password\":\"" + secrets.etcdPassword(user) + "\"}", "--cacert", caFile.toString(),
                "--cert", n.certificateFiles().certificate().toString(), "--key", n.certificateFiles().key().toString());
        return r.status() == 200 && r.body().contains("\"token\"");
    }

    private int etcdV2AsRoot(TestNode n, Secrets secrets) {
        return outside.send("GET", "https://" + n.address + ":2378/v2/auth/users", null, "--cacert", caFile.toString(),
                "--cert", n.certificateFiles().certificate().toString(), "--key", n.certificateFiles().key().toString(),
                "-u", Secrets.ETCD_ROOT_USER + ":" + secrets.etcdPassword(Secrets.ETCD_ROOT_USER)).status();
    }

    static Connection pg(TestNode n, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "chef_pgsql");
        p.setProperty("password", password);
        p.setProperty("connectTimeout", "2");
        p.setProperty("socketTimeout", "5");
        return DriverManager.getConnection("jdbc:postgresql://" + n.address + ":5432/postgres", p);
    }

    /** A physical replication login as the replication role (what a follower's walreceiver does), over TLS. */
    private static boolean replicationLogin(TestNode n, String password) {
        Properties p = new Properties();
        p.setProperty("user", "replicator");
        p.setProperty("password", password);
        p.setProperty("sslmode", "require");
        p.setProperty("replication", "true");
        p.setProperty("assumeMinServerVersion", "10");
        p.setProperty("preferQueryMode", "simple");
        p.setProperty("connectTimeout", "2");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + n.address + ":5432/postgres", p)) {
            return true;
        } catch (SQLException e) {
            if (!"28P01".equals(e.getSQLState())) {
                throw new AssertionError("replication login: " + e.getMessage(), e);
            }
            return false;
        }
    }

    /** The followers streaming from {@code leader} on a connection that began after {@code sinceMillis}. */
    private List<String> reconnectedReplicas(TestNode leader, long sinceMillis, String password) {
        List<String> out = new ArrayList<>();
        try (Connection c = pg(leader, password); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select application_name, state, backend_start from pg_stat_replication")) {
            while (rs.next()) {
                if (rs.getString(2).equals("streaming") && rs.getTimestamp(3).getTime() > sinceMillis) {
                    out.add(rs.getString(1));
                }
            }
        } catch (SQLException e) {
            out.add("error: " + e.getMessage());
        }
        return out;
    }

    /** The serial number of the certificate served on {@code port}, as openssl s_client sees it; "" when none. */
    private static String serial(TestNode n, int port, boolean postgres) {
        X509Certificate served = served(n, port, postgres);
        return served == null ? "" : served.getSerialNumber().toString(16);
    }

    /** The certificate served on {@code port}, as openssl s_client sees it; null when none. */
    private static X509Certificate served(TestNode n, int port, boolean postgres) {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", n.address + ":" + port));
        if (postgres) {
            command.addAll(List.of("-starttls", "postgres"));
        }
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            Matcher m = PEM.matcher(out);
            return m.find() ? Pem.certificates(m.group(), "the served certificate").get(0) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /**
     * One insert at a time through the leader, each on a fresh connection every 20 writes (so new logins happen all
     * through the rotation), logging in with whichever of the known passwords PostgreSQL takes.
     */
    static final class LoadWriter implements AutoCloseable {
        private final TestCluster cluster;
        private final List<String> passwords;
        private final List<Long> acked = Collections.synchronizedList(new ArrayList<>());
        private final List<Long> ackedAt = Collections.synchronizedList(new ArrayList<>());
        private final AtomicInteger failed = new AtomicInteger();
        private final AtomicBoolean writing = new AtomicBoolean(true);
        private final Thread thread;

        LoadWriter(TestCluster cluster, List<String> passwords) {
            this.cluster = cluster;
            this.passwords = passwords;
            thread = new Thread(this::run, "rotation-load");
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            long id = 0;
            long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            Connection c = null;
            int uses = 0;
            while (writing.get() && System.nanoTime() < end) {
                try {
                    if (c == null || uses >= 20) {
                        close(c);
                        c = connect();
                        uses = 0;
                    }
                    id++;
                    try (Statement st = c.createStatement()) {
                        st.execute("insert into rotation_load values (" + id + ")");
                    }
                    uses++;
                    acked.add(id);
                    ackedAt.add(System.nanoTime());
                    Thread.sleep(10);
                } catch (SQLException | RuntimeException e) {
                    failed.incrementAndGet();
                    close(c);
                    c = null;
                    pause();
                } catch (InterruptedException e) {
                    return;
                }
            }
            close(c);
        }

        private Connection connect() throws SQLException {
            TestNode leader = cluster.leader().orElseThrow(() -> new IllegalStateException("no leader"));
            SQLException last = null;
            for (String password : passwords) {
                try {
                    return pg(leader, password);
                } catch (SQLException e) {
                    last = e;
                }
            }
            throw last;
        }

        private static void close(Connection c) {
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException e) {
                    // broken already
                }
            }
        }

        private static void pause() {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        int acked() {
            return acked.size();
        }

        int failed() {
            return failed.get();
        }

        long longestGapMs() {
            long longest = 0;
            synchronized (ackedAt) {
                for (int i = 1; i < ackedAt.size(); i++) {
                    longest = Math.max(longest, ackedAt.get(i) - ackedAt.get(i - 1));
                }
            }
            return longest / 1_000_000;
        }

        long someAcked() {
            synchronized (acked) {
                return acked.get(acked.size() / 2);
            }
        }

        /** Acknowledged ids missing on {@code n}, read with whichever password it takes. */
        List<Long> missingOn(TestNode n) {
            Set<Long> present = new HashSet<>();
            for (String password : passwords) {
                try (Connection c = pg(n, password); Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery("select id from rotation_load")) {
                    while (rs.next()) {
                        present.add(rs.getLong(1));
                    }
                    synchronized (acked) {
                        return acked.stream().filter(id -> !present.contains(id)).toList();
                    }
                } catch (SQLException e) {
                    // the other password
                }
            }
            throw new AssertionError("cannot read " + n.name + "'s rows with either password");
        }

        @Override
        public void close() throws InterruptedException {
            writing.set(false);
            thread.join(15_000);
        }
    }
}
