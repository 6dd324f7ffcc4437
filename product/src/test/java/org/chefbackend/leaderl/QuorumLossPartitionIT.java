package org.chefbackend.leaderl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The failure-recovery guide's "Loss of Quorum" partition: every node is cut off from every other, so etcd has no
 * quorum anywhere and the leader fences itself. The leader is then lost for good, and the followers lack what it last
 * recorded (their WAL receivers were frozen while it wrote). When the partition heals, no node can show it holds the
 * last leader's data, so all sit in waiting_for_leader until the operator's {@code promote NODE_IP} elects one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QuorumLossPartitionIT {
    static final List<String> HOSTS = List.of("127.0.0.57", "127.0.0.58", "127.0.0.59");
    TestCluster cluster;

    @BeforeAll
    void build() throws Exception {
        cluster = TestCluster.partitionable("cbitqlp", HOSTS, Path.of("/tmp/cbit/qlp"), FailoverIT.FAST);
    }

    @AfterAll
    void destroy() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void afterAQuorumLossPartitionNodesWaitForTheOperatorsPromote() throws Exception {
        TestNode leader = cluster.leader().orElseThrow();
        List<TestNode> followers = cluster.nodes.stream().filter(n -> n != leader).toList();
        long[] receivers = {TestCluster.walReceiver(followers.get(0)), TestCluster.walReceiver(followers.get(1))};
        assertTrue(receivers[0] > 0 && receivers[1] > 0, "followers do not stream");
        try (AckedWriter writer = new AckedWriter(cluster, "qlp_probe", Duration.ofMinutes(2))) {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> writer.count() > 10), "the writer did not write");
            for (long r : receivers) {
                TestCluster.signal(r, "STOP");
            }
            try {
                long received = Math.max(receivedLsn(followers.get(0)), receivedLsn(followers.get(1)));
                int before = writer.count();
                // the leader records a position no follower holds
                assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> writer.count() > before + 20
                        && historyLsn(leader) > received), "history was not refreshed past the frozen followers");
                writer.close();

                for (int i = 0; i < HOSTS.size(); i++) {
                    for (int j = i + 1; j < HOSTS.size(); j++) {
                        cluster.net.cut(HOSTS.get(i), HOSTS.get(j));
                    }
                }
                // the cut took effect everywhere
                for (String a : HOSTS) {
                    for (String b : HOSTS) {
                        assertTrue(a.equals(b) || !cluster.net.reaches(a, b, 2379), a + " still reaches " + b);
                    }
                }
                // without quorum the leader fences itself, and nobody else is elected
                assertTrue(TestNode.waitUntil(Duration.ofSeconds(15), () -> !cluster.writes(leader)),
                        "the leader kept taking writes without etcd quorum");
                assertFalse(cluster.leader().isPresent(), "a node answers 200 on /leader without etcd quorum");

                cluster.crash(leader); // lost for good, with what only it had
            } finally {
                for (long r : receivers) {
                    TestCluster.signal(r, "KILL"); // the unread WAL in their sockets goes with them
                }
            }
        }
        cluster.net.heal();
        assertTrue(cluster.net.reaches(followers.get(0).address, followers.get(1).address, 2379),
                "the heal did not take effect");

        // healed, but no node can show it holds the last leader's data: nobody is elected by itself
        assertFalse(TestNode.waitUntil(Duration.ofSeconds(20), () -> cluster.leader().isPresent()),
                "a node lacking the last leader's data was elected automatically");
        // the more up-to-date one waits for the operator (rule 3); the other defers to it (rule 2)
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> followers.stream()
                .anyMatch(f -> reason(f).contains("waiting for an operator's promote"))),
                followers.get(0).name + ": " + reason(followers.get(0)) + "; " + followers.get(1).name + ": "
                        + reason(followers.get(1)));
        for (TestNode f : followers) {
            assertEquals("waiting_for_leader", f.status().orElseThrow().path("leaderl").path("state").asText());
        }

        // the operator promotes a node cluster-status shows waiting for them: one whose search engine is still
        // finding its cluster again after the heal is refused, rightly (promote waives the position, not fitness)
        TestNode chosen = followers.stream().filter(f -> reason(f).contains("waiting for an operator's promote"))
                .findFirst().orElseThrow();
        TestNode.Run promote = followers.get(1).ctl("promote", chosen.address);
        assertEquals(0, promote.code(), promote.out() + promote.err());
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(60), () -> cluster.leaderAnswer(chosen) == 200),
                "the promoted node did not lead: " + reason(chosen));
        assertTrue(cluster.writes(chosen), "the promoted node takes no writes");
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(120), () -> cluster.synced(chosen) == 1),
                "the other survivor did not follow the promoted node");
        assertEquals(1, cluster.maxLeaders(), "two nodes answered 200 on /leader in the same sweep");
    }

    long receivedLsn(TestNode n) throws Exception {
        try (Connection c = cluster.pg(n); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select pg_last_wal_receive_lsn()::text")) {
            rs.next();
            return ReplicationStatus.lsnToLong(rs.getString(1));
        }
    }

    long historyLsn(TestNode n) {
        return cluster.etcdValue(n, "history").map(h -> h.path("lsn").asLong(-1)).orElse(-1L);
    }

    static String reason(TestNode n) {
        return n.status().map(s -> s.path("leaderl").path("reason").asText()).orElse("(no status)");
    }
}
