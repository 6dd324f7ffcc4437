package org.chefbackend.leaderl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.chefbackend.testing.AckedWriter;
import org.chefbackend.testing.TestCluster;
import org.chefbackend.testing.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 17, part 3: in synchronous mode a synchronous standby that stops answering (its WAL receiver frozen by
 * SIGSTOP: connected, silent, as when it is cut off from the leader) must not stall commits until PostgreSQL's
 * wal_sender_timeout; the leader moves its commits to the other standby, which answers, within the leader TTL, and
 * records that standby only once it confirmed every earlier write: crashing the leader right after elects it without
 * an operator, and it holds every acknowledged write.
 *
 * <p>All three nodes are eligible (unlike {@link SynchronousModeIT}, where one has failover off), so there is a
 * standby to switch to. Same addresses and root as SynchronousModeIT: the two never run at once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SynchronousStandbySwitchIT {
    /** FailoverIT.FAST's leader TTL. */
    static final Duration TTL = Duration.ofSeconds(5);
    TestCluster cluster;

    @BeforeAll
    void build() throws Exception {
        String[] config = Stream.concat(Stream.of(FailoverIT.FAST), Stream.of("leaderl.synchronous_mode = true"))
                .toArray(String[]::new);
        cluster = TestCluster.create(List.of("127.0.0.54", "127.0.0.55", "127.0.0.56"), Path.of("/tmp/cbit/sync"), null,
                config);
    }

    @AfterAll
    void destroy() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aSilentSynchronousStandbyIsReplacedWithinTheTtlAndNothingAcknowledgedIsLost() throws Exception {
        TestNode leader = cluster.nodes.get(0);
        assertEquals(leader, cluster.leader().orElseThrow());
        // a synchronous standby, recorded in etcd, and the other follower streaming: a standby to switch to
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(120), () -> recordedStandby(leader).isPresent()
                && recordedStandby(leader).equals(syncStandby(leader)) && streaming(leader).size() == 2),
                "no recorded synchronous standby with a second follower streaming: " + SynchronousModeIT.statusOut(leader));
        TestNode standby = node(recordedStandby(leader).orElseThrow());
        TestNode other = cluster.nodes.stream().filter(n -> n != leader && n != standby).findFirst().orElseThrow();

        List<Long> lost;
        try (AckedWriter writer = new AckedWriter(cluster, "switch_probe", Duration.ofMinutes(4))) {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> writer.count() > 20), "the writer did not write");
            long receiver = TestCluster.walReceiver(standby);
            assertTrue(receiver > 0, "no WAL receiver on " + standby.name);
            String received;
            Duration stall;
            TestCluster.signal(receiver, "STOP");
            try {
                // the fault took effect: once what was in flight is through, no commit is acknowledged for a while
                // (every commit waits for the frozen standby), and the standby receives nothing more
                TestNode.waitUntil(Duration.ofMillis(300), () -> false);
                received = SynchronousModeIT.receivedLsn(cluster, standby);
                int frozenAt = writer.count();
                assertFalse(TestNode.waitUntil(Duration.ofMillis(1500), () -> writer.count() > frozenAt),
                        "commits were acknowledged right after the synchronous standby froze: the fault did not take");
                // commits resume without an operator
                assertTrue(TestNode.waitUntil(Duration.ofSeconds(90), () -> writer.count() > frozenAt + 20),
                        "commits did not resume within 90 s of freezing the synchronous standby");
                stall = writer.longestGap();
                System.out.printf("synchronous standby %s frozen: commits stalled %d ms at the longest (bound %d ms)%n",
                        standby.name, stall.toMillis(), TTL.plusSeconds(2).toMillis());
                // ... through the other standby, named in PostgreSQL and then recorded in etcd
                assertTrue(TestNode.waitUntil(Duration.ofSeconds(10), () -> syncStandby(leader)
                        .equals(Optional.of(other.name)) && recordedStandby(leader).equals(Optional.of(other.name))),
                        "the leader did not switch its synchronous standby to " + other.name + ": "
                                + SynchronousModeIT.reason(leader));
                assertEquals(received, SynchronousModeIT.receivedLsn(cluster, standby),
                        "the frozen standby still received WAL: the freeze did not hold");
                assertTrue(stall.compareTo(TTL.plusSeconds(2)) <= 0, "commits stalled " + stall.toMillis()
                        + " ms, more than the leader TTL + 2 s");

                // nothing acknowledged is lost: the recorded standby is elected when the leader crashes, and it
                // holds every write the old leader acknowledged (the frozen one, not recorded, is not elected)
                cluster.crash(leader);
            } finally {
                TestCluster.signal(receiver, "KILL"); // the postmaster starts a new WAL receiver
            }
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(60), () -> cluster.leaderAnswer(other) == 200),
                    "the recorded synchronous standby " + other.name + " was not elected: "
                            + SynchronousModeIT.reason(other));
            int atFailover = writer.count();
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> writer.count() > atFailover + 10),
                    "no writes through the new leader");
            writer.close();
            lost = writer.missingOn(other);
            System.out.printf("synchronous standby switched, then leader crashed: %d acknowledged writes, %d lost%n",
                    writer.count(), lost.size());
        }
        assertTrue(lost.isEmpty(), "acknowledged writes lost: " + lost);
        assertFalse(cluster.everLeader().contains(standby.name), "the frozen standby, no longer recorded, was elected");
        assertEquals(1, cluster.maxLeaders(), "two nodes answered 200 on /leader in the same sweep");
    }

    TestNode node(String name) {
        return cluster.nodes.stream().filter(n -> n.name.equals(name)).findFirst().orElseThrow();
    }

    /** The standby etcd {@code sync} names. */
    Optional<String> recordedStandby(TestNode n) {
        return cluster.etcdValue(n, HaLoop.SYNC).map(j -> j.path("standby"))
                .filter(s -> s.isTextual()).map(s -> s.asText());
    }

    /** The standby {@code n}'s PostgreSQL counts as synchronous now. */
    Optional<String> syncStandby(TestNode n) {
        try (Connection c = cluster.pg(n); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select application_name from pg_stat_replication"
                        + " where sync_state = 'sync'")) {
            return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    List<String> streaming(TestNode n) {
        List<String> names = new ArrayList<>();
        try (Connection c = cluster.pg(n); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select application_name from pg_stat_replication"
                        + " where state = 'streaming'")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        } catch (Exception e) {
            // not answering yet
        }
        return names;
    }
}
