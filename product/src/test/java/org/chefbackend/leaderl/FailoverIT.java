package org.chefbackend.leaderl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.chefbackend.postgres.ReplicationSlots;
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
 * Crash failover on 3 real nodes with a short lease (TTL 5 s over etcd 100/1000 ms: TTL ≥ 3 × election timeout),
 * while a poller asserts that never two nodes answer 200 on /leader at the same moment.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailoverIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String[] FAST = {
        "etcd.heartbeat_interval = 100", "etcd.election_timeout = 1000", "leaderl.leader_ttl_seconds = 5",
        "leaderl.health_check.interval_seconds = 1", "leaderl.status_post_update_interval_seconds = 2",
        "elasticsearch.heap_size = 384",
        // little WAL kept, so a follower that falls off its slot really loses what it needs
        "postgresql.wal_keep_segments = 1", "postgresql.min_wal_size = 2", "postgresql.max_wal_size = 4"};
    TestCluster cluster;
    List<TestNode> nodes;

    @BeforeAll
    void build() throws Exception {
        cluster = TestCluster.create(List.of("127.0.0.21", "127.0.0.22", "127.0.0.23"), Path.of("/tmp/cbit"), null, FAST);
        nodes = cluster.nodes;
    }

    @AfterAll
    void destroy() {
        if (cluster != null) {
            cluster.close();
        }
    }

    int leaderAnswer(TestNode n) {
        return cluster.leaderAnswer(n);
    }

    int synced(TestNode n) {
        return cluster.synced(n);
    }

    Connection pg(TestNode n) throws Exception {
        return cluster.pg(n);
    }

    boolean writes(TestNode n) {
        return cluster.writes(n);
    }

    @Test
    @Order(1)
    void exactlyTheFirstNodeLeads() {
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(10), () -> leaderAnswer(nodes.get(0)) == 200));
        assertEquals(503, leaderAnswer(nodes.get(1)));
        assertEquals(503, leaderAnswer(nodes.get(2)));
        assertTrue(writes(nodes.get(0)));
        assertFalse(writes(nodes.get(1)), "a follower took a write");
    }

    @Test
    @Order(2)
    void killingEveryProcessOfTheLeaderElectsOneNewLeader() throws Exception {
        TestNode old = nodes.get(0);
        List<Long> pids = old.processes();
        assertFalse(pids.isEmpty());
        long t0 = System.nanoTime();
        pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        // the crash took effect: nothing of the old leader answers
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(5), () -> !open(old.address, 5432) && !open(old.address, 7331)));

        AtomicReference<TestNode> winner = new AtomicReference<>();
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(60), () -> {
            for (TestNode n : nodes.subList(1, 3)) {
                if (leaderAnswer(n) == 200 && writes(n)) {
                    winner.set(n);
                    return true;
                }
            }
            return false;
        }), "no new leader within 60 s");
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("crash failover: new leader %s took a write %.1f s after the kill%n", winner.get().address, seconds);
        TestNode other = winner.get() == nodes.get(1) ? nodes.get(2) : nodes.get(1);
        assertEquals(503, leaderAnswer(other));
        assertFalse(writes(other), "the other follower took a write");
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(60), () -> synced(winner.get()) == 1),
                "the remaining follower did not follow the new leader");
        assertEquals(1, cluster.maxLeaders(), "two nodes answered 200 on /leader in the same sweep");
        assertTrue(cluster.sweeps() > 30, "the poller hardly ran: " + cluster.sweeps());
    }

    @Test
    @Order(3)
    void theOldLeaderRejoinsAsAFollower() throws Exception {
        TestNode old = nodes.get(0);
        TestNode.Run start = old.ctl("start");
        assertEquals(0, start.code(), start.out() + start.err());
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(120), () -> synced(nodes.get(1)) == 2),
                "the old leader did not rejoin as a synced follower");
        assertEquals(503, leaderAnswer(old));
        assertFalse(writes(old), "the old leader took a write after rejoining");
        assertEquals(1, cluster.maxLeaders(), "two nodes answered 200 on /leader in the same sweep");
    }

    @Test
    @Order(5)
    void withClusterFailoverOffALostLeaderIsNotReplacedUntilItIsOnAgain() throws Exception {
        TestNode leader = currentLeader();
        TestNode survivor = nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
        TestNode.Run off = survivor.ctl("set-cluster-failover", "off");
        assertEquals(0, off.code(), off.out() + off.err());
        assertTrue(JSON.readTree(survivor.ctl("cluster-status", "--json").out()).at("/cluster/failover_enabled")
                .isBoolean());
        assertEquals(2, survivor.ctl("set-cluster-failover", "sideways").code());

        leader.processes().forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(5), () -> !open(leader.address, 7331)));
        // three lease lifetimes pass with nobody taking over
        assertFalse(TestNode.waitUntil(Duration.ofSeconds(15), () -> nodes.stream().anyMatch(n -> leaderAnswer(n) == 200)),
                "a node was elected while cluster failover was off");

        TestNode.Run on = survivor.ctl("set-cluster-failover", "on");
        assertEquals(0, on.code(), on.out() + on.err());
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(60), () -> nodes.stream().anyMatch(n -> leaderAnswer(n) == 200)),
                "no leader after failover was switched on again");
        assertEquals(1, cluster.maxLeaders(), "two nodes answered 200 on /leader in the same sweep");
    }

    @Test
    @Order(6)
    void aFrozenLeaderAgentIsFencedByItsWatchdogBeforeANewLeaderIsElected() throws Exception {
        TestNode leader = currentLeader();
        TestNode other = nodes.stream().filter(n -> n != leader && open(n.address, 7331)).findFirst().orElseThrow();
        long agent = leader.status().orElseThrow().path("agent").path("pid").asLong();
        assertTrue(writes(leader));
        new ProcessBuilder("kill", "-STOP", String.valueOf(agent)).start().waitFor();
        try {
            // the fault took effect: the frozen agent no longer answers
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(3), () -> leaderAnswer(leader) != 200));
            long t0 = System.nanoTime();
            AtomicReference<Double> fencedAt = new AtomicReference<>();
            AtomicReference<Double> electedAt = new AtomicReference<>();
            TestNode.waitUntil(Duration.ofSeconds(60), () -> {
                double now = (System.nanoTime() - t0) / 1e9;
                if (fencedAt.get() == null && !writes(leader)) {
                    fencedAt.set(now);
                }
                if (electedAt.get() == null && leaderAnswer(other) == 200) {
                    electedAt.set(now);
                }
                return fencedAt.get() != null && electedAt.get() != null;
            });
            System.out.printf("frozen leader: PostgreSQL fenced after %.1f s, new leader after %.1f s%n",
                    fencedAt.get(), electedAt.get());
            assertTrue(fencedAt.get() != null, "the frozen leader's PostgreSQL kept taking writes");
            assertTrue(electedAt.get() != null, "no new leader");
            assertTrue(fencedAt.get() < electedAt.get(), "a new leader existed while the old one still took writes");
        } finally {
            new ProcessBuilder("kill", "-CONT", String.valueOf(agent)).start().waitFor();
        }
        assertFalse(writes(leader), "the resumed old leader took a write");
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(90), () -> {
            try {
                JsonNode view = JSON.readTree(other.ctl("cluster-status", "--json").out());
                for (JsonNode n : view.path("nodes")) {
                    if (n.path("ip").asText().equals(leader.address)) {
                        return n.path("pgsql").path("role").asText().equals("synced");
                    }
                }
                return false;
            } catch (Exception e) {
                return false;
            }
        }), "the resumed old leader did not rejoin as a synced follower");
        assertEquals(1, cluster.maxLeaders(), "two nodes answered 200 on /leader in the same sweep");
    }

    @Test
    @Order(7)
    void promoteUnderWriteLoadLosesNoAcknowledgedWrite() throws Exception {
        TestNode leader = currentLeader();
        TestNode target = eligibleFollower(leader); // not the node the last test deposed, still rejoining
        TestNode.Run force = target.ctl("force-leader");
        assertEquals(2, force.code(), "force-leader with a leader must be refused: " + force.out());
        assertTrue(force.err().contains("has a leader"), force.err());
        try (Connection c = pg(leader); Statement st = c.createStatement()) {
            st.execute("create table if not exists promote_probe (id bigint primary key)");
        }
        List<Long> acked = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread writer = new Thread(() -> {
            long id = 0;
            long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (writing.get() && System.nanoTime() < end) {
                id++;
                TestNode to = nodes.stream().filter(n -> leaderAnswer(n) == 200).findFirst().orElse(null);
                if (to == null) {
                    sleep(50);
                    continue;
                }
                try (Connection c = pg(to); Statement st = c.createStatement()) {
                    st.execute("insert into promote_probe values (" + id + ")");
                    acked.add(id);
                } catch (Exception e) {
                    sleep(50);
                }
            }
        }, "writer");
        writer.start();
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(10), () -> acked.size() > 20), "the writer did not write");
        TestNode.Run promote = leader.ctl("promote", target.name);
        assertEquals(0, promote.code(), promote.out() + promote.err());
        assertTrue(promote.out().contains("ok: " + target.name + " is the leader"), promote.out());
        int before = acked.size();
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> acked.size() > before + 20),
                "no writes through the new leader");
        writing.set(false);
        writer.join(10_000);
        Set<Long> present = new HashSet<>();
        try (Connection c = pg(target); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select id from promote_probe")) {
            while (rs.next()) {
                present.add(rs.getLong(1));
            }
        }
        List<Long> lost = acked.stream().filter(id -> !present.contains(id)).toList();
        System.out.printf("promote: %d acknowledged writes, %d lost%n", acked.size(), lost.size());
        assertTrue(lost.isEmpty(), "acknowledged writes lost in the switchover: " + lost);
        assertEquals(1, cluster.maxLeaders(), "two nodes answered 200 on /leader in the same sweep");
    }

    @Test
    @Order(4)
    void stoppingSearchOnTheLeaderMovesTheLeadershipFirst() throws Exception {
        // the operator's stop of a service on the leader is planned: a switchover first, not a health-check failover
        // (a search engine that fails by itself is ClusterLifecycleIT's frozen-search case)
        TestNode leader = currentLeader();
        List<TestNode> others = nodes.stream().filter(n -> n != leader && open(n.address, 7331)).toList();
        eligibleFollower(leader);
        TestNode.Run stop = leader.ctl("stop", "elasticsearch");
        assertEquals(0, stop.code(), stop.out() + stop.err());
        assertTrue(stop.out().contains("ok: handed leadership over to "), stop.out());
        assertFalse(open(leader.address, 9200), "search still answers on the old leader");
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> others.stream()
                .anyMatch(n -> leaderAnswer(n) == 200 && writes(n))), "no new leader after the hand-over");
        assertEquals(503, leaderAnswer(leader));
        assertFalse(writes(leader), "the old leader took a write");
        assertEquals(1, cluster.maxLeaders(), "two nodes answered 200 on /leader in the same sweep");
        leader.ctlOk("start", "elasticsearch");
    }

    @Test
    @Order(8)
    void aFollowerWhoseWalIsGoneResyncsByItself() throws Exception {
        TestNode leader = currentLeader();
        TestNode follower = nodes.stream().filter(n -> n != leader && open(n.address, 7331)).findFirst().orElseThrow();
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(90), () -> synced(leader) >= 1), "no synced follower");
        // the runbook's order: leaderl first, so nothing restarts PostgreSQL behind the operator's back
        follower.ctlOk("stop", "leaderl");
        follower.ctlOk("stop", "postgresql");
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(10), () -> !open(follower.address, 5432)));
        try (Connection c = pg(leader); Statement st = c.createStatement()) {
            st.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '"
                    + ReplicationSlots.nameFor(follower.name) + "'");
            st.execute("create table if not exists wal_fill (x text)");
            for (int i = 0; i < 6; i++) {
                st.execute("insert into wal_fill select repeat('x', 1000) from generate_series(1, 20000)");
                st.execute("select pg_switch_wal()");
                st.execute("checkpoint");
            }
        }
        follower.ctlOk("start", "postgresql");
        follower.ctlOk("start", "leaderl");
        Path log = follower.root.resolve("var/log/chef-backend/postgresql/15/current");
        // the fault took effect: the leader no longer has the WAL the follower asks for
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(60), () -> {
            try {
                return Files.readString(log).contains("has already been removed");
            } catch (Exception e) {
                return false;
            }
        }), "the follower never missed WAL; the test proves nothing");
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(180), () -> synced(leader) >= 1 && count(follower) == count(leader)),
                "the follower did not re-sync by itself");
    }

    @Test
    @Order(9)
    void stoppingTheLeaderHandsOverAndLeavesNothingRunning() throws Exception {
        // bring back the node killed earlier: with two of three etcd members gone nobody could be elected
        for (TestNode n : nodes) {
            if (!open(n.address, 7331)) {
                n.ctlOk("start");
            }
        }
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(120), () -> synced(currentLeaderOrFirst()) == 2),
                "not all three nodes synced before the stop");
        TestNode leader = currentLeader();
        long t0 = System.nanoTime();
        TestNode.Run stop = leader.ctl("stop");
        assertEquals(0, stop.code(), stop.out() + stop.err());
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> leader.processes().isEmpty()),
                "still running after stop: " + leader.processes());
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> nodes.stream().anyMatch(n -> leaderAnswer(n) == 200)),
                "no leader after the old one stopped");
        System.out.printf("stop of the leader: a new leader %.1f s after the stop began%n", (System.nanoTime() - t0) / 1e9);
        assertEquals(1, cluster.maxLeaders(), "two nodes answered 200 on /leader in the same sweep");
    }

    @Test
    @Order(10)
    void repeatedPostgresFailureOnTheLeaderLeadsToFailover() throws Exception {
        for (TestNode n : nodes) {
            if (!open(n.address, 7331)) {
                n.ctlOk("start");
            }
        }
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(120), () -> synced(currentLeaderOrFirst()) == 2),
                "not all three nodes synced");
        TestNode leader = currentLeader();
        // kill its postmaster whenever it is up, for at most 40 s, until another node leads
        long end = System.nanoTime() + Duration.ofSeconds(40).toNanos();
        int kills = 0;
        TestNode next = null;
        while (System.nanoTime() < end && next == null) {
            long pid = leader.pid("postgresql");
            if (pid > 0) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                kills++;
            }
            next = nodes.stream().filter(n -> n != leader && leaderAnswer(n) == 200).findFirst().orElse(null);
            sleep(300);
        }
        assertTrue(kills >= 2, "the fault hardly happened: " + kills + " kills");
        assertTrue(next != null, "no failover after " + kills + " PostgreSQL crashes on the leader");
        TestNode newLeader = next;
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> writes(newLeader)));
        assertEquals(503, leaderAnswer(leader));
        assertEquals(1, cluster.maxLeaders(), "two nodes answered 200 on /leader in the same sweep");
    }

    long count(TestNode n) {
        try (Connection c = pg(n); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select count(*) from wal_fill")) {
            rs.next();
            return rs.getLong(1);
        } catch (Exception e) {
            return -1;
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A follower cluster-status shows as eligible, waited for up to 2 minutes. */
    TestNode eligibleFollower(TestNode leader) {
        List<String> seen = new ArrayList<>();
        AtomicReference<TestNode> found = new AtomicReference<>();
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(120), () -> {
            try {
                JsonNode view = JSON.readTree(leader.ctl("cluster-status", "--json").out());
                seen.clear();
                seen.add(view.toString());
                for (JsonNode n : view.path("nodes")) {
                    for (TestNode t : nodes) {
                        if (t != leader && t.name.equals(n.path("name").asText())
                                && n.path("eligible_for_leader").asBoolean()) {
                            found.set(t);
                            return true;
                        }
                    }
                }
                return false;
            } catch (Exception e) {
                return false;
            }
        }), "no eligible follower: " + seen);
        return found.get();
    }

    TestNode currentLeaderOrFirst() {
        return nodes.stream().filter(n -> leaderAnswer(n) == 200).findFirst().orElse(nodes.get(0));
    }

    TestNode currentLeader() {
        return nodes.stream().filter(n -> leaderAnswer(n) == 200).findFirst().orElseThrow();
    }

    static boolean open(String address, int port) {
        return TestCluster.open(address, port);
    }
}
