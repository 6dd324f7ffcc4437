package org.chefbackend.leaderl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.chefbackend.cluster.Records;
import org.junit.jupiter.api.Test;

/** One rejoin sequence per leader change: the bookkeeping that keeps a rejoin from looping. */
class RejoinTest {
    static final long T0 = 1_000_000_000_000L;

    static long s(double seconds) {
        return (long) (seconds * TimeUnit.SECONDS.toNanos(1));
    }

    @Test
    void aSuccessfulRewindIsRecordedOnceWhenTheNodeStreamsFromThatLeader() {
        Rejoin r = new Rejoin();
        r.begin("be2", T0);
        assertNull(r.rejoinedTo());
        r.succeeded(Rejoin.Path.REWIND);
        assertEquals("be2", r.rejoinedTo());
        assertNull(r.streaming("be3", T0 + s(1), 0), "streaming from another node does not finish the rejoin of be2");
        Records.Rejoin done = r.streaming("be2", T0 + s(4.26), 1234);
        assertEquals(new Records.Rejoin("be2", "rewind", 4.3, 1234), done);
        assertNull(r.streaming("be2", T0 + s(9), 5678), "recorded once per sequence");
    }

    @Test
    void theSameLeaderAgainContinuesTheSequenceANewLeaderStartsAnother() {
        Rejoin r = new Rejoin();
        r.begin("be2", T0);
        r.failed("connection refused", false, T0);
        r.begin("be2", T0 + s(6));
        r.failed("connection refused", false, T0 + s(6));
        assertTrue(r.rewindImpossible(), "a failed clean retry leaves only the base backup");
        r.begin("be3", T0 + s(20));
        assertFalse(r.rewindImpossible(), "a new leader: rewinding is worth a try again");
        assertEquals(0, r.retryAtNanos());
        r.succeeded(Rejoin.Path.NONE);
        assertEquals("none", r.streaming("be3", T0 + s(21), 0).path());
        assertEquals(1.0, r.streaming("be3", T0 + s(21), 0) == null ? 1.0 : 0.0);
    }

    @Test
    void failuresBackOffAndMissingWalSkipsTheRetry() {
        Rejoin r = new Rejoin();
        r.begin("be2", T0);
        r.failed("could not find previous WAL record at 0/2000100", true, T0);
        assertTrue(r.rewindImpossible());
        assertEquals(T0, r.retryAtNanos(), "WAL gone: the base backup follows at once, there is nothing to wait for");
        r.failed("pg_basebackup failed", false, T0 + s(1));
        assertEquals(T0 + s(1) + s(10), r.retryAtNanos());
        assertEquals(s(5), Rejoin.backoffNanos(1));
        assertEquals(s(40), Rejoin.backoffNanos(4));
        assertEquals(s(60), Rejoin.backoffNanos(9), "capped");
    }

    @Test
    void aNodeStillForkedAfterItsRewindCountsAsAFailedAttempt() {
        Rejoin r = new Rejoin();
        r.begin("be2", T0);
        r.succeeded(Rejoin.Path.NONE);
        r.stillForked("still forked from be2 after rejoining it", T0 + s(3));
        assertNull(r.rejoinedTo());
        assertEquals(T0 + s(8), r.retryAtNanos());
        r.begin("be2", T0 + s(8));
        r.succeeded(Rejoin.Path.REWIND);
        r.stillForked("still forked from be2 after rejoining it", T0 + s(12));
        assertTrue(r.rewindImpossible(), "twice: only a base backup is left");
    }

    @Test
    void aReinstatedFormerLeaderThatStreamsFromTheNewOneRejoinedByNothing() {
        Rejoin r = new Rejoin();
        r.reinstated(T0);
        assertNull(r.rejoinedTo(), "no leader yet");
        Records.Rejoin done = r.streaming("be3", T0 + s(6), 99);
        assertEquals(new Records.Rejoin("be3", "none", 6.0, 99), done);
        assertNull(r.streaming("be3", T0 + s(7), 100));
    }

    @Test
    void aReinstatedNodeElectedItselfRecordsNoRejoinLater() {
        Rejoin r = new Rejoin();
        r.reinstated(T0);
        r.leading();
        assertNull(r.streaming("be3", T0 + s(600), 0), "following someone much later is not this rejoin");
    }

    @Test
    void aReinstatedNodeThatForkedStartsARealSequence() {
        Rejoin r = new Rejoin();
        r.reinstated(T0);
        r.begin("be3", T0 + s(4));
        assertNull(r.rejoinedTo());
        r.succeeded(Rejoin.Path.REWIND);
        assertEquals(new Records.Rejoin("be3", "rewind", 2.0, 0), r.streaming("be3", T0 + s(6), 0));
    }
}
