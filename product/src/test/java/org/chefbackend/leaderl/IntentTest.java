package org.chefbackend.leaderl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

    @Test
    void anOutcomeIsRecordedWithTheRequestItEnds() throws Exception {
        String asked = "{\"id\":\"r-1\",\"kind\":\"demote\",\"target\":\"be1\",\"leader_when_asked\":\"be1\","
                + "\"drained_at_lsn\":-1,\"asked_at\":" + (NOW - 200) + "}";
        JsonNode r = new ObjectMapper().readTree(Intent.Outcome.refused("no eligible follower to hand over to")
                .record(asked, NOW));
        assertEquals("r-1", r.path("id").asText());
        assertEquals("demote", r.path("kind").asText());
        assertEquals("be1", r.path("target").asText());
        assertEquals(NOW - 200, r.path("asked_at").asLong());
        assertEquals("refused", r.path("outcome").asText());
        assertEquals("no eligible follower to hand over to", r.path("reason").asText());
        assertEquals(NOW, r.path("at").asLong());
        assertFalse(r.has("leader_when_asked"), "only what tells the request apart: " + r);
    }

    @Test
    void anUnreadableRequestStillGetsItsOutcomeRecorded() throws Exception {
        JsonNode r = new ObjectMapper().readTree(Intent.Outcome.timedOut().record("not json {", NOW));
        assertEquals("timed_out", r.path("outcome").asText());
        assertTrue(r.path("reason").isNull());
        assertFalse(r.has("id"));
    }
}
