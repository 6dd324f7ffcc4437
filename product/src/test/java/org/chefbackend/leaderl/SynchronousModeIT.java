package org.chefbackend.leaderl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.chefbackend.postgres.ReplicationStatus;
import org.chefbackend.testing.AckedWriter;
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
 * Zero-loss failover in synchronous mode, with its negative control. On loopback a follower is practically never
 * behind, so both runs first freeze the WAL receiver of the follower that will be elected (SIGSTOP): in asynchronous
 * mode the leader keeps acknowledging commits that follower never gets, and electing it loses them; in synchronous
 * mode commits wait for it, so nothing it lacks was ever acknowledged.
 *
 * <p>The third node has node failover off throughout, so the frozen follower is the only candidate, and the poller
 * checks that the third node never once answers 200 on /leader.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SynchronousModeIT {
    static final ObjectMapper JSON = new ObjectMapper();
    TestCluster cluster;
    TestNode first;
    TestNode second;
    TestNode never;

    @BeforeAll
    void build() throws Exception {
        cluster = TestCluster.create(List.of("127.0.0.54", "127.0.0.55", "127.0.0.56"), Path.of("/tmp/cbit/sync"), null,
                FailoverIT.FAST);
        first = cluster.nodes.get(0);
        second = cluster.nodes.get(1);
        never = cluster.nodes.get(2);
    }

    @AfterAll
    void destroy() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void aNodeWithFailoverOffIsNotEligible() throws Exception {
        TestNode.Run off = never.ctl("set-node-failover", "off");
        assertEquals(0, off.code(), off.out() + off.err());
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> member(never).path("eligible_for_leader")
                .asBoolean(true) == false), "the node with failover off is still shown eligible");
    }

    @Test
    @Order(2)
    void asynchronousModeLosesAcknowledgedWritesWhenTheFrozenFollowerIsPromoted() throws Exception {
        assertEquals(first, cluster.leader().orElseThrow());
        List<Long> lost;
        try (AckedWriter writer = new AckedWriter(cluster, "async_probe", Duration.ofMinutes(3))) {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> writer.count() > 20), "the writer did not write");
            long receiver = TestCluster.walReceiver(second);
            assertTrue(receiver > 0, "no WAL receiver on " + second.name);
            TestCluster.signal(receiver, "STOP");
            try {
                // the fault took effect: the leader goes on acknowledging while the frozen follower receives
                // nothing, and the leader's history records a position past the follower's
                String received = receivedLsn(second);
                int before = writer.count();
                assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> writer.count() > before + 30
                        && historyLsn() > ReplicationStatus.lsnToLong(received)),
                        "asynchronous commits stopped, or history was not refreshed, while the follower was frozen");
                assertEquals(received, receivedLsn(second), "the frozen follower still received WAL");
                cluster.crash(first);
            } finally {
                // the frozen receiver dies with whatever WAL still sat unread in its socket (a thaw would let it
                // read what the dead leader's kernel had already sent)
                TestCluster.signal(receiver, "KILL");
            }
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> replayLsn(second) > 0), "the follower is down");
            long[] recorded = {-1}; // etcd may be electing a new leader of its own after the crash
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> (recorded[0] = historyLsn()) > 0));
            assertTrue(replayLsn(second) < recorded[0],
                    "the follower has everything the last leader recorded: nothing would be lost");
            // Rule 3: the follower is behind the last leader's recorded position, so it is not elected by itself
            assertFalse(TestNode.waitUntil(Duration.ofSeconds(12), () -> cluster.leader().isPresent()),
                    "a follower behind the last leader's recorded position was elected automatically");
            assertTrue(reason(second).contains("behind the last leader"), reason(second));
            // the operator accepts the loss (promote, as after a partition with loss of quorum)
            TestNode.Run promote = second.ctl("promote", second.name);
            assertEquals(0, promote.code(), promote.out() + promote.err());
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(60), () -> cluster.leaderAnswer(second) == 200),
                    "the promoted follower did not lead");
            writer.close();
            lost = writer.missingOn(second);
            System.out.printf("asynchronous mode, frozen follower promoted: %d acknowledged writes, %d lost%n",
                    writer.count(), lost.size());
        }
        assertFalse(lost.isEmpty(), "the negative control lost nothing: the freeze did not take effect");
        assertEquals(1, cluster.maxLeaders(), "two nodes answered 200 on /leader in the same sweep");
    }

    @Test
    @Order(3)
    void theCrashedLeaderRejoinsAndSynchronousModeIsSwitchedOn() throws Exception {
        TestNode.Run start = first.ctl("start");
        assertEquals(0, start.code(), start.out() + start.err());
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(120), () -> cluster.synced(second) == 2),
                "the old leader did not rejoin");
        for (TestNode n : cluster.nodes) {
            Files.writeString(n.configFile(), "leaderl.synchronous_mode true\n", StandardOpenOption.APPEND);
            TestNode.Run r = n.ctl("reconfigure");
            assertEquals(0, r.code(), r.out() + r.err());
        }
        // only `first` is eligible besides the leader: it becomes the synchronous standby, shown in status, once
        // it is eligible again (its search node rejoins the search cluster first)
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(120),
                () -> statusOut(second).contains("synchronous standby: " + first.name)),
                "the leader shows no synchronous standby: " + statusOut(second));
        try (Connection c = cluster.pg(second); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select sync_state from pg_stat_replication where application_name = '"
                        + first.name + "'")) {
            assertTrue(rs.next());
            assertEquals("sync", rs.getString(1));
        }
    }

    @Test
    @Order(4)
    void synchronousModeLosesNoAcknowledgedWriteWhenTheLeaderCrashes() throws Exception {
        TestNode leader = second;
        TestNode standby = first;
        assertEquals(leader, cluster.leader().orElseThrow());
        List<Long> lost;
        try (AckedWriter writer = new AckedWriter(cluster, "sync_probe", Duration.ofMinutes(3))) {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> writer.count() > 20), "the writer did not write");
            long receiver = TestCluster.walReceiver(standby);
            assertTrue(receiver > 0, "no WAL receiver on " + standby.name);
            TestCluster.signal(receiver, "STOP");
            long frozen = System.nanoTime();
            try {
                // the fault took effect: with the synchronous standby frozen, no commit is acknowledged. The leader
                // stops waiting for a standby silent for half the TTL (and, with no other to wait for, records that
                // none may be elected): it crashes before that
                TestNode.waitUntil(Duration.ofMillis(300), () -> false);
                int before = writer.count();
                assertFalse(TestNode.waitUntil(Duration.ofMillis(1000), () -> writer.count() > before + 1),
                        "commits were acknowledged while the synchronous standby was frozen");
                long limitMs = new HaSettings(5, 0, 0, false, true).syncReplyTimeoutMillis(); // FAST: TTL 5 s
                long silentMs = (System.nanoTime() - frozen) / 1_000_000;
                assertTrue(silentMs < limitMs - 500, "this test was too slow: the standby was frozen " + silentMs
                        + " ms before the crash, near the " + limitMs + " ms after which the leader gives it up");
                cluster.crash(leader);
            } finally {
                TestCluster.signal(receiver, "KILL"); // as in the asynchronous run: unread WAL is gone
            }
            // the recorded synchronous standby is elected without an operator
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(60), () -> cluster.leaderAnswer(standby) == 200),
                    "the synchronous standby was not elected: " + reason(standby));
            int atFailover = writer.count();
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> writer.count() > atFailover + 10),
                    "no writes through the new leader");
            writer.close();
            lost = writer.missingOn(standby);
            System.out.printf("synchronous mode, leader crashed: %d acknowledged writes, %d lost%n", writer.count(),
                    lost.size());
        }
        assertTrue(lost.isEmpty(), "acknowledged writes lost in synchronous mode: " + lost);
        assertEquals(1, cluster.maxLeaders(), "two nodes answered 200 on /leader in the same sweep");
    }

    @Test
    @Order(5)
    void withoutAStandbyTheLeaderDegradesAfterRecordingThatNoneMayBeElected() throws Exception {
        TestNode leader = first;
        // `never` (failover off) may not be the synchronous standby, and `second` is down: nobody is
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> statusOut(leader)
                .contains("synchronous mode: no synchronous standby, no automatic failover")), statusOut(leader));
        // "none" is recorded first, then commits stop waiting: writes go through from then on
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> cluster.writes(leader)),
                "a degraded leader must take writes without waiting");
        assertFalse(cluster.everLeader().contains(never.name), "the node with failover off answered 200 on /leader");
    }

    long replayLsn(TestNode n) {
        try (Connection c = cluster.pg(n); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select pg_last_wal_replay_lsn()::text")) {
            rs.next();
            return rs.getString(1) == null ? -1 : ReplicationStatus.lsnToLong(rs.getString(1));
        } catch (Exception e) {
            return -1;
        }
    }

    long historyLsn() {
        return cluster.etcdValue(second, "history").map(h -> h.path("lsn").asLong(-1)).orElse(-1L);
    }

    String receivedLsn(TestNode n) throws Exception {
        return receivedLsn(cluster, n);
    }

    /** The last WAL position {@code n}'s WAL receiver received, asked of its PostgreSQL directly. */
    static String receivedLsn(TestCluster cluster, TestNode n) throws Exception {
        try (Connection c = cluster.pg(n); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select pg_last_wal_receive_lsn()::text")) {
            rs.next();
            return rs.getString(1);
        }
    }

    JsonNode member(TestNode n) {
        try {
            for (JsonNode m : JSON.readTree(n.ctl("cluster-status", "--json").out()).path("nodes")) {
                if (m.path("name").asText().equals(n.name)) {
                    return m;
                }
            }
        } catch (Exception e) {
            // not answering yet
        }
        return JSON.createObjectNode();
    }

    static String reason(TestNode n) {
        return n.status().map(s -> s.path("leaderl").path("reason").asText()).orElse("(no status)");
    }

    static String statusOut(TestNode n) {
        try {
            return n.ctl("status").out();
        } catch (Exception e) {
            return "";
        }
    }
}
