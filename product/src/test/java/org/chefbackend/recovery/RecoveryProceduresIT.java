package org.chefbackend.recovery;

import static org.chefbackend.recovery.RecoveryTestSupport.checksum;
import static org.chefbackend.recovery.RecoveryTestSupport.clusterStatus;
import static org.chefbackend.recovery.RecoveryTestSupport.ids;
import static org.chefbackend.recovery.RecoveryTestSupport.pg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.postgres.ReplicationSlots;
import org.chefbackend.system.FileTrees;
import org.chefbackend.testing.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The manual procedures of Chef's failure-recovery guide on one real 3-node cluster, in the order an unlucky
 * operator might meet them: a follower whose WAL is gone resynced with pgsql-follow --force-basebackup; a failed
 * sync leaving partially_synced and its documented resolution; promoting a previous leader (refused while
 * no-start-pgsql exists); and last, a two-node failure recovered with create-cluster --quorum-loss-recovery, two new
 * nodes joining.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RecoveryProceduresIT {
    static final Path BASE = Path.of("/tmp/cbit-i7/rp");
    static final String TABLE = "recovery_probe";
    static final Map<String, String> INTERNAL_OK = Map.of("PSQL_INTERNAL_OK", "true");
    /** Default lease timing (a loaded CI machine must not fence anyone); quick status and little WAL. */
    static final String[] FAST = {
        "leaderl.health_check.interval_seconds = 1", "leaderl.status_post_update_interval_seconds = 2",
        "elasticsearch.heap_size = 384",
        // little WAL kept, so a follower that falls off its slot really loses what it needs
        "postgresql.wal_keep_segments = 1", "postgresql.min_wal_size = 2", "postgresql.max_wal_size = 4"};
    final List<TestNode> nodes = new ArrayList<>();
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    Secrets secrets;
    Path secretsFile;

    @BeforeAll
    void build() throws Exception {
        FileTrees.deleteTree(BASE);
        for (int i = 0; i < 3; i++) {
            nodes.add(TestNode.create("127.0.0." + (61 + i), BASE.resolve("n" + (i + 1)), TestNode.secrets(), FAST));
        }
        TestNode.Run create = nodes.get(0).ctl("create-cluster", "-y");
        assertEquals(0, create.code(), create.out() + create.err());
        secretsFile = nodes.get(0).root.resolve("etc/chef-backend/chef-backend-secrets.json");
        secrets = SecretsFile.load(secretsFile);
        for (TestNode n : nodes.subList(1, 3)) {
            TestNode.Run join = n.ctl("join-cluster", nodes.get(0).address, "-s", secretsFile.toString(), "-y");
            assertEquals(0, join.code(), join.out() + join.err());
        }
        RecoveryTestSupport.waitSynced(nodes.get(0), 2, Duration.ofSeconds(180));
        try (Connection c = pg(nodes.get(0), secrets); Statement st = c.createStatement()) {
            st.execute("create table " + TABLE + " (id bigint primary key, payload text)");
            st.execute("insert into " + TABLE + " select g, md5(g::text) from generate_series(1000000, 1000999) g");
        }
    }

    @AfterAll
    void destroy() {
        nodes.forEach(TestNode::destroy);
    }

    TestNode leader() {
        String name = clusterStatus(nodes.get(0)).at("/cluster/leader").asText();
        return nodes.stream().filter(n -> n.name.equals(name)).findFirst().orElseGet(() -> {
            for (TestNode viewer : nodes) {
                String l = clusterStatus(viewer).at("/cluster/leader").asText();
                for (TestNode n : nodes) {
                    if (n.name.equals(l)) {
                        return n;
                    }
                }
            }
            throw new AssertionError("no leader");
        });
    }

    String rowsOf(TestNode n) {
        try (Connection c = pg(n, secrets)) {
            return checksum(c, TABLE);
        } catch (Exception e) {
            return "unreachable: " + e.getMessage();
        }
    }

    boolean writable(TestNode n) {
        try (Connection c = pg(n, secrets); Statement st = c.createStatement()) {
            st.execute("insert into " + TABLE + " values (-" + System.nanoTime() % 1_000_000_000 + ", 'probe')");
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    int get(String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    String body(String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (Exception e) {
            return "";
        }
    }

    int put(String url, String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    boolean open(String address, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, port), 300);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    String leaderlState(TestNode n) {
        return n.status().map(s -> s.path("leaderl").path("state").asText()).orElse("?");
    }

    Path sentinel(TestNode n, String name) {
        return n.root.resolve("var/opt/chef-backend/leaderl/data/" + name);
    }

    void insert(TestNode leader, long id) throws Exception {
        try (Connection c = pg(leader, secrets); Statement st = c.createStatement()) {
            st.execute("insert into " + TABLE + " values (" + id + ", 'marker')");
        }
    }

    void waitSameRows(TestNode a, TestNode b, Duration limit) {
        assertTrue(TestNode.waitUntil(limit, () -> rowsOf(a).equals(rowsOf(b))), b.name + " has " + rowsOf(b)
                + ", " + a.name + " has " + rowsOf(a));
    }

    // ---- General Follower Recovery Process: WAL gone, pgsql-follow --force-basebackup ------------------------

    @Test
    @Order(1)
    void aFollowerWhoseWalIsGoneIsResyncedByPgsqlFollowForceBasebackup() throws Exception {
        TestNode leader = leader();
        TestNode follower = nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
        // the runbook: leaderl stopped first, so nothing resyncs behind the operator's back
        assertEquals(0, follower.ctl("stop", "leaderl").code());
        assertEquals(0, follower.ctl("stop", "postgresql").code());
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(10), () -> !open(follower.address, 5432)));
        try (Connection c = pg(leader, secrets); Statement st = c.createStatement()) {
            st.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '"
                    + ReplicationSlots.nameFor(follower.name) + "'");
            st.execute("create table if not exists wal_fill (x text)");
            for (int i = 0; i < 6; i++) {
                st.execute("insert into wal_fill select repeat('x', 1000) from generate_series(1, 20000)");
                st.execute("select pg_switch_wal()");
                st.execute("checkpoint");
            }
            st.execute("truncate wal_fill");
            // the slot back, reserving WAL only from now on: the follower then asks for WAL that is gone (without
            // it, the follower would only report its missing slot)
            st.execute("select pg_create_physical_replication_slot('"
                    + ReplicationSlots.nameFor(follower.name) + "', true)");
        }
        insert(leader, 1);
        assertEquals(0, follower.ctl("start", "postgresql").code());
        Path log = follower.root.resolve("var/log/chef-backend/postgresql/15/current");
        // the fault took effect: the leader no longer has the WAL the follower asks for
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(60), () -> {
            try {
                return Files.readString(log).contains("has already been removed");
            } catch (Exception e) {
                return false;
            }
        }), "the follower never missed WAL; the test proves nothing");
        assertNotEquals(rowsOf(leader), rowsOf(follower), "the follower caught up without help");

        long pgPid = follower.pid("postgresql");
        TestNode.Run unguarded = follower.ctl("pgsql-follow", leader.address, "--force-basebackup");
        assertEquals(2, unguarded.code(), unguarded.out() + unguarded.err());
        // the command to run, as it can be pasted: this node's root and bin/chef-backend-ctl by its path
        assertTrue(unguarded.err().contains("PSQL_INTERNAL_OK=true CHEF_BACKEND_ROOT="), unguarded.err());
        assertTrue(unguarded.err().contains("bin/chef-backend-ctl pgsql-follow " + leader.address), unguarded.err());
        assertEquals(pgPid, follower.pid("postgresql"), "the refused pgsql-follow touched PostgreSQL");

        assertTrue(clusterStatus(follower).path("nodes").size() == 3, "cluster-status does not answer on the follower");
        TestNode.Run follow = follower.ctl(INTERNAL_OK, "pgsql-follow", "--force-basebackup", "--verbose", leader.address);
        assertEquals(0, follow.code(), follow.out() + follow.err());
        assertTrue(follow.out().contains("base backup complete"), follow.out());
        assertTrue(follow.out().contains("ok: PostgreSQL follows " + leader.address), follow.out());
        insert(leader, 2);
        waitSameRows(leader, follower, Duration.ofSeconds(60));
        assertEquals(0, follower.ctl("start").code());
        RecoveryTestSupport.waitSynced(leader, 2, Duration.ofSeconds(90));
    }

    // ---- Handling nodes reporting partially_synced: true ----------------------------------------------------

    @Test
    @Order(2)
    void aFailedSyncLeavesPartiallySyncedUntilTheDocumentedResolution() throws Exception {
        TestNode leader = leader();
        TestNode follower = nodes.stream().filter(n -> n != leader).skip(1).findFirst().orElseThrow();
        assertEquals(0, follower.ctl("stop", "leaderl").code());
        TestNode.Run failed;
        try (Connection c = pg(leader, secrets); Statement st = c.createStatement()) {
            st.execute("alter role replicator nologin"); // the cause an operator has to find
            try {
                failed = follower.ctl(INTERNAL_OK, "pgsql-follow", leader.address, "--force-basebackup", "--verbose");
            } finally {
                st.execute("alter role replicator login");
            }
        }
        assertEquals(1, failed.code(), failed.out() + failed.err());
        assertTrue(failed.err().contains("not permitted to log in"), failed.err());
        assertTrue(failed.err().contains("partially synced"), failed.err());
        assertTrue(Files.exists(sentinel(follower, "unsynced")), "no unsynced sentinel after the failed sync");

        assertEquals(0, follower.ctl("start", "leaderl").code());
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> {
            JsonNode m = RecoveryTestSupport.member(leader, follower.name);
            return m.path("pgsql").path("partially_synced").asBoolean() && m.path("role").asText().equals("waiting_for_leader")
                    && !m.path("eligible_for_leader").asBoolean();
        }), "partially_synced not reported: " + RecoveryTestSupport.member(leader, follower.name));
        TestNode.Run promote = leader.ctl("promote", follower.name);
        assertEquals(2, promote.code(), promote.out() + promote.err());
        assertTrue(promote.err().contains("partially synced"), promote.err());

        // the documented resolution: stop leaderl, sync by hand, read its output, remove the sentinel, start leaderl
        assertEquals(0, follower.ctl("stop", "leaderl").code());
        TestNode.Run manual = follower.ctl(INTERNAL_OK, "pgsql-follow", leader.address, "--verbose");
        assertEquals(0, manual.code(), manual.out() + manual.err());
        Files.deleteIfExists(sentinel(follower, "unsynced"));
        assertEquals(0, follower.ctl("start", "leaderl").code());
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(90), () -> {
            JsonNode m = RecoveryTestSupport.member(leader, follower.name);
            return !m.path("pgsql").path("partially_synced").asBoolean(true)
                    && m.path("pgsql").path("role").asText().equals("synced");
        }), "still partially synced: " + RecoveryTestSupport.member(leader, follower.name));
        insert(leader, 3);
        waitSameRows(leader, follower, Duration.ofSeconds(30));
    }

    // ---- Promoting a Previous Leader ------------------------------------------------------------------------

    @Test
    @Order(3)
    void aPreviousLeaderIsReinstatedOnlyAfterItsNoStartPgsqlIsRemoved() throws Exception {
        TestNode old = leader();
        List<TestNode> others = nodes.stream().filter(n -> n != old).toList();
        // no leader anywhere, the deposed one fenced: the followers' leaderl is stopped, then the leader's
        for (TestNode n : others) {
            assertEquals(0, n.ctl("stop", "leaderl").code());
        }
        insert(old, 4);
        String atStop = rowsOf(old);
        assertEquals(0, old.ctl("stop", "leaderl").code());
        assertTrue(Files.exists(sentinel(old, "no-start-pgsql")), "the deposed leader was not fenced");
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> old.pid("postgresql") == 0), "PostgreSQL still runs");
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> clusterStatus(others.get(0)).at("/cluster/leader").isNull()
                || clusterStatus(others.get(0)).at("/cluster/leader").isMissingNode()), "there is still a leader");
        assertEquals(0, old.ctl("start", "leaderl").code());
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> leaderlState(old).equals("deposed_leader")),
                "leaderl state " + leaderlState(old));
        assertEquals(0, old.pid("postgresql"), "no-start-pgsql did not hold PostgreSQL down");

        TestNode.Run refused = old.ctl("promote", old.name);
        assertEquals(2, refused.code(), refused.out() + refused.err());
        assertTrue(refused.err().contains("no-start-pgsql is in place"), refused.err());
        assertTrue(refused.err().contains("bin/chef-backend-ctl restart postgresql"), refused.err());

        // "Promoting a Previous Leader": remove the sentinel, restart postgresql, promote
        Files.delete(sentinel(old, "no-start-pgsql"));
        TestNode.Run restart = old.ctl("restart", "postgresql");
        assertEquals(0, restart.code(), restart.out() + restart.err());
        TestNode.Run promote = old.ctl("promote", old.name);
        assertEquals(0, promote.code(), promote.out() + promote.err());
        assertTrue(promote.out().contains("ok: " + old.name + " is the leader"), promote.out());
        assertEquals(atStop, rowsOf(old), "the reinstated leader's data differs from when it was deposed");
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> writable(old)), "the reinstated leader takes no writes");
        for (TestNode n : others) {
            assertEquals(0, n.ctl("start", "leaderl").code());
        }
        RecoveryTestSupport.waitSynced(old, 2, Duration.ofSeconds(120));
        insert(old, 5);
        for (TestNode n : others) {
            waitSameRows(old, n, Duration.ofSeconds(30));
        }
    }

    // ---- two-node failure -----------------------------------------------------------------------------------

    @Test
    @Order(20)
    void quorumLossRecoveryIsRefusedWhileTheClusterHasQuorum() throws Exception {
        TestNode follower = nodes.stream().filter(n -> n != leader()).findFirst().orElseThrow();
        long pg = follower.pid("postgresql");
        TestNode.Run r = follower.ctl("create-cluster", "--quorum-loss-recovery", "-y");
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("the cluster still has quorum"), r.err());
        assertEquals(pg, follower.pid("postgresql"), "the refused recovery touched PostgreSQL");
    }

    @Test
    @Order(21)
    void twoNodeFailureQuorumLossRecoveryAndTwoNewNodesJoin() throws Exception {
        TestNode leader = leader();
        TestNode survivor = nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
        List<TestNode> lost = nodes.stream().filter(n -> n != survivor).toList();
        // search data the survivor must keep: an index with a copy on every node
        assertEquals(200, put("http://" + leader.address + ":9200/qprobe",
                "{\"settings\":{\"number_of_replicas\":2}}"));
        assertTrue(put("http://" + leader.address + ":9200/qprobe/_doc/1?refresh=true", "{\"note\":\"kept\"}") / 100 == 2);
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(60), () -> body("http://" + leader.address
                + ":9200/_cluster/health/qprobe").contains("\"status\":\"green\"")), "qprobe not green");

        List<Long> acked;
        try (RecoveryTestSupport.Writer w = new RecoveryTestSupport.Writer(leader.address, secrets.dbSuperuserPassword(),
                TABLE, Duration.ofMinutes(2))) {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> w.acked.size() > 200), "the writer did not write");
            w.close();
            acked = w.snapshot();
        }
        // the two-node procedure's premise: the survivor has the most up-to-date data
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> {
            try (Connection c = pg(survivor, secrets)) {
                return ids(c, TABLE).containsAll(acked);
            } catch (Exception e) {
                return false;
            }
        }), "the survivor did not receive every acknowledged row before the failure");

        for (TestNode n : lost) {
            n.processes().forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
        for (TestNode n : lost) {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(10), () -> n.processes().isEmpty()), n.name + " survived kill -9");
        }
        // the fault took effect: no etcd quorum, and the survivor takes no writes
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> !survivor.etcdGet("/health")
                .contains("\"health\":\"true\"")), "etcd still has quorum");
        assertFalse(writable(survivor), "the survivor took a write before the recovery");

        TestNode.Run r = survivor.ctl("create-cluster", "--quorum-loss-recovery", "-y");
        assertEquals(0, r.code(), r.out() + r.err());
        System.out.println(r.out());
        assertTrue(r.out().contains("opensearch-node unsafe-bootstrap"), r.out());
        assertTrue(r.out().contains("is its leader"), r.out());
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> writable(survivor)), "the survivor does not take writes");
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(60), () -> body("http://" + survivor.address
                + ":9200/qprobe/_doc/1").contains("\"found\":true")), "the survivor's search data was not kept: "
                + body("http://" + survivor.address + ":9200/qprobe/_doc/1"));
        JsonNode view = clusterStatus(survivor);
        assertEquals(1, view.path("nodes").size(), view.toString());
        assertEquals(survivor.name, view.at("/cluster/leader").asText());

        // the lost nodes are rebuilt: cleanse, their configuration back, join (one at a time)
        for (TestNode n : lost) {
            TestNode.Run cleanse = n.ctl("cleanse", "-y");
            assertEquals(0, cleanse.code(), cleanse.out() + cleanse.err());
            restoreCleansedConfig(n);
            TestNode.Run join = n.ctl("join-cluster", survivor.address, "-s",
                    survivor.root.resolve("etc/chef-backend/chef-backend-secrets.json").toString(), "-y");
            assertEquals(0, join.code(), join.out() + join.err());
        }
        RecoveryTestSupport.waitSynced(survivor, 2, Duration.ofSeconds(180));
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(120), () -> body("http://" + survivor.address
                + ":9200/_cluster/health/qprobe").contains("\"status\":\"green\"")), "search did not replicate to the new nodes");
        assertTrue(body("http://" + survivor.address + ":9200/_cluster/health").contains("\"number_of_nodes\":3"));

        // every acknowledged row on every node, all nodes alike
        String reference = rowsOf(survivor);
        for (TestNode n : nodes) {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> rowsOf(n).equals(reference)),
                    n.name + ": " + rowsOf(n) + " vs " + reference);
            try (Connection c = pg(n, secrets)) {
                Set<Long> present = ids(c, TABLE);
                List<Long> missing = acked.stream().filter(id -> !present.contains(id)).toList();
                assertTrue(missing.isEmpty(), n.name + " lost acknowledged rows: " + missing);
            }
        }
        System.out.printf("quorum loss: %d acknowledged rows, all present on %d nodes (%s)%n", acked.size(), nodes.size(),
                reference);
    }

    static void restoreCleansedConfig(TestNode n) throws Exception {
        Path saved;
        try (Stream<Path> dirs = Files.list(n.root.resolve("root"))) {
            saved = dirs.filter(p -> p.getFileName().toString().startsWith("chef-backend-cleanse-"))
                    .max(Comparator.naturalOrder()).orElseThrow();
        }
        Files.createDirectories(n.root.resolve("etc/chef-backend"));
        Files.copy(saved.resolve("chef-backend.rb"), n.configFile(), StandardCopyOption.REPLACE_EXISTING);
    }
}
