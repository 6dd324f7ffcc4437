package org.chefbackend.leaderl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The shell's pure parts: the /leader rule judged at answer time, and reading etcd {@code history}. */
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

    static Facts history(String value) {
        Facts.Builder f = Facts.builder("be2");
        FactGatherer.readHistory(value, f);
        return f.build();
    }
}
