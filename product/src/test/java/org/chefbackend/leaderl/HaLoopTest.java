package org.chefbackend.leaderl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shell's pure parts: the /leader rule judged at answer time, reading etcd {@code history}, and a rejoin that
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
    void anUnreadableHistoryIsUnknownNotNoLeaderEver() {
        for (String garbage : new String[] {"not json", "[]", "{}", "{\"leader\":\"be1\",\"lsn\":\"lots\",\"timeline\":3}",
            "{\"leader\":7,\"lsn\":1234,\"timeline\":3}", "{\"leader\":\"be1\",\"lsn\":1234}"}) {
            Facts f = history(garbage);
            assertTrue(f.historyUnreadable(), garbage);
            assertNull(f.lastLeaderName(), garbage);
        }
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
        Facts.Builder f = Facts.builder("be2");
        FactGatherer.readHistory(value, f);
        return f.build();
    }
}
