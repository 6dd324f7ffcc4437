package org.chefbackend.leaderl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Reading an operator's request back from etcd: what anybody wrote there, a plain etcd write included. */
class IntentTest {
    static final long NOW = 1_700_000_000_000L;
    static final long TIMEOUT = 30_000;

    static Intent parse(String json) {
        return Intent.parse(json, NOW, TIMEOUT);
    }

    @Test
    void aRequestAsTheAgentRecordsItIsRead() {
        Intent in = parse("{\"kind\":\"promote\",\"target\":\"be2\",\"leader_when_asked\":\"be1\","
                + "\"drained_at_lsn\":-1,\"asked_at\":" + (NOW - 1000) + "}");
        assertEquals(Intent.Kind.PROMOTE, in.kind());
        assertEquals("be2", in.target());
        assertEquals("be1", in.leaderWhenAsked());
        assertFalse(in.drained());
        assertFalse(in.timedOut());
    }

    @Test
    void forceLeaderIsReadInBothSpellings() {
        assertEquals(Intent.Kind.FORCE_LEADER, parse("{\"kind\":\"force_leader\",\"target\":\"be1\"}").kind());
        assertEquals(Intent.Kind.FORCE_LEADER, parse("{\"kind\":\"force-leader\",\"target\":\"be1\"}").kind());
    }

    @Test
    void olderThanTheTimeoutOrOfUnknownAgeItHasTimedOut() {
        assertTrue(parse("{\"kind\":\"demote\",\"target\":\"be1\",\"asked_at\":" + (NOW - TIMEOUT - 1) + "}")
                .timedOut());
        assertTrue(parse("{\"kind\":\"demote\",\"target\":\"be1\"}").timedOut());
    }

    @Test
    void anUnknownKindIsRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> parse("{\"kind\":\"explode\",\"target\":\"be1\"}"));
        assertTrue(e.getMessage().contains("unknown kind 'explode'"), e.getMessage());
    }

    @Test
    void whatIsNotAnIntentIsRefusedSayingWhy() {
        // the signed body [] once became an intent {"kind":"","target":""} that every node failed to read
        assertTrue(assertThrows(IllegalArgumentException.class, () -> parse("[]")).getMessage()
                .contains("not a JSON object"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> parse("not json")).getMessage()
                .contains("not a JSON object"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> parse("{\"target\":\"be1\"}")).getMessage()
                .contains("kind"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> parse("{\"kind\":\"promote\"}")).getMessage()
                .contains("target"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> parse("{\"kind\":\"promote\",\"target\":\"be 1; drop\"}")).getMessage().contains("target"));
    }

    @Test
    void anUnreadableIntentsAgeComesFromItsAskedAtWhenItHasOne() {
        assertEquals(NOW - 5, Intent.askedAt("{\"kind\":\"explode\",\"asked_at\":" + (NOW - 5) + "}"));
        assertEquals(0, Intent.askedAt("[]"));
        assertEquals(0, Intent.askedAt("{\"kind\":\"explode\",\"asked_at\":\"yesterday\"}"));
    }
}
