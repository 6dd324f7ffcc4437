package org.chefbackend.leaderl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.chefbackend.cluster.RecordReader;
import org.chefbackend.dcs.ClusterStore;
import org.junit.jupiter.api.Test;

/**
 * The shell's pure parts: the /leader rule judged at answer time, reading etcd {@code history} (an invalid one is
 * unknown, said once), and a rejoin that
 * left the node forked.
 */
class HaLoopTest {
    static final long NOW = 1_000_000_000_000L;
    static final long TTL = TimeUnit.SECONDS.toNanos(30);

    @Test
    void aLeaderWhoseLoopCompletesAndWhoseLeaseIsFreshAnswers200() {
        assertTrue(HaLoop.answers200(true, true, NOW + TTL, NOW - TimeUnit.SECONDS.toNanos(1), NOW, TTL));
    }

    @Test
    void noStale200FromAnIterationLongAgo() {
        // the lease is fresh (its keeper refreshes it), but the loop has not completed an iteration for a third of
        // the TTL: the 200 was decided on facts that old
        long longAgo = NOW - TTL / 3 - 1;
        assertFalse(HaLoop.answers200(true, true, NOW + TTL, longAgo, NOW, TTL));
    }

    @Test
    void noStale200FromALeaseAboutToRunOut() {
        assertFalse(HaLoop.answers200(true, true, NOW + TTL / 3, NOW, NOW, TTL));
        assertFalse(HaLoop.answers200(true, false, NOW + TTL, NOW, NOW, TTL));
        assertFalse(HaLoop.answers200(false, true, NOW + TTL, NOW, NOW, TTL));
    }

    @Test
    void aReadableHistoryNamesTheLastLeaderAndItsPosition() {
        Facts f = history("{\"leader\":\"be1\",\"lsn\":1234,\"timeline\":3,\"at\":1}");
        assertFalse(f.historyUnreadable());
        assertEquals("be1", f.lastLeaderName());
        assertEquals(1234, f.lastLeaderLsn());
        assertEquals(3, f.lastLeaderTimeline());
    }

    @Test
    void anUnreadableHistoryIsUnknownNotNoLeaderEverAndSaidOnce() {
        for (String garbage : new String[] {"not json", "[]", "{}", "{\"leader\":\"be1\",\"lsn\":\"lots\",\"timeline\":3}",
            "{\"leader\":7,\"lsn\":1234,\"timeline\":3}", "{\"leader\":\"be1\",\"lsn\":1234}",
            "{\"leader\":\"be1\",\"lsn\":-1,\"timeline\":3}", "{\"leader\":\"be1\",\"lsn\":12.5,\"timeline\":3}",
            "{\"leader\":\"be 1\\nforged log line\",\"lsn\":1234,\"timeline\":3}"}) {
            List<String> warned = new ArrayList<>();
            RecordReader records = new RecordReader(warned::add);
            Facts f = history(records, garbage);
            assertTrue(f.historyUnreadable(), garbage);
            assertNull(f.lastLeaderName(), garbage);
            assertEquals(Facts.NO_POSITION, f.lastLeaderLsn(), garbage);
            history(records, garbage); // the next iteration reads the same value: not said again
            assertEquals(1, warned.size(), garbage + " -> " + warned);
            assertTrue(warned.get(0).startsWith("etcd history is unreadable ("), warned.get(0));
            assertTrue(warned.get(0).endsWith("): no automatic election until an operator's promote"), warned.get(0));
            assertFalse(warned.get(0).contains("\n"), warned.get(0));
        }
    }

    @Test
    void noHistoryIsNoLeaderEver() {
        Facts.Builder f = Facts.builder("be2");
        FactGatherer.readHistory(new RecordReader(w -> fail(w)), Optional.empty(), f);
        assertFalse(f.build().historyUnreadable());
        assertNull(f.build().lastLeaderName());
    }

    @Test
    void aStandbyStillForkedFromTheLeaderItRejoinedCountsAFailedRejoin() {
        Rejoin rejoin = rejoinedBe1();
        Facts forked = Facts.builder("be2").now(NOW + 1).pgUpstream("be1").followTrouble(Facts.FollowTrouble.DIVERGED)
                .rejoinedTo(rejoin.rejoinedTo()).build();
        Facts f = FactGatherer.stillForkedAfterRejoin(forked, rejoin, () -> Facts.FollowTrouble.REWIND_FAILED);
        assertNull(f.rejoinedTo());
        assertNull(rejoin.rejoinedTo());
        assertEquals(NOW + 1 + Rejoin.FIRST_BACKOFF_NANOS, f.rejoinRetryAtNanos());
        assertEquals(Facts.FollowTrouble.REWIND_FAILED, f.followTrouble(), "read again after the failure");
        assertEquals("still forked from be1 after rejoining it", rejoin.lastFailure());
    }

    @Test
    void onlyAForkFromTheLeaderRejoinedIsAFailedRejoin() {
        for (Facts f : new Facts[] {
            Facts.builder("be2").pgUpstream("be3").followTrouble(Facts.FollowTrouble.DIVERGED).build(),
            Facts.builder("be2").followTrouble(Facts.FollowTrouble.DIVERGED).build(),
            Facts.builder("be2").pgUpstream("be1").followTrouble(Facts.FollowTrouble.WAL_GONE).build()}) {
            Rejoin rejoin = rejoinedBe1();
            assertSame(f, FactGatherer.stillForkedAfterRejoin(f, rejoin, () -> fail("no second look")));
            assertEquals("be1", rejoin.rejoinedTo());
            assertNull(rejoin.lastFailure());
        }
    }

    static Rejoin rejoinedBe1() {
        Rejoin rejoin = new Rejoin();
        rejoin.begin("be1", NOW);
        rejoin.succeeded(Rejoin.Path.REWIND);
        return rejoin;
    }

    static Facts history(String value) {
        return history(new RecordReader(w -> fail("said of a readable history: " + w)), value);
    }

    static Facts history(RecordReader records, String value) {
        Facts.Builder f = Facts.builder("be2");
        FactGatherer.readHistory(records, Optional.of(new ClusterStore.Versioned(value, 7, 0)), f);
        return f.build();
    }
}
