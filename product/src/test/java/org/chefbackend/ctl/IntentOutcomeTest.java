package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** The CLI's reading of leaderl's outcome record: its own request's only, and one line for the operator. */
class IntentOutcomeTest {
    static JsonNode view(String outcome) throws Exception {
        return new ObjectMapper().readTree("{\"cluster\":{\"leader\":\"be1\"},\"nodes\":[],\"intent_outcome\":"
                + outcome + "}");
    }

    static final String REFUSED = "{\"id\":\"r-2\",\"kind\":\"demote\",\"target\":\"be1\",\"outcome\":\"refused\","
            + "\"reason\":\"no eligible follower to hand over to\"}";

    @Test
    void aRefusalOfThisRequestIsReportedWithItsReason() throws Exception {
        IntentOutcome o = IntentOutcome.of(view(REFUSED), "r-2").orElseThrow();
        assertFalse(o.done());
        assertEquals("demote of be1 refused: no eligible follower to hand over to", o.failure("demote of be1", 30));
    }

    @Test
    void anotherRequestsOutcomeOrNoneMeansStillPending() throws Exception {
        assertTrue(IntentOutcome.of(view(REFUSED), "r-3").isEmpty(), "an earlier request's outcome");
        assertTrue(IntentOutcome.of(view("null"), "r-2").isEmpty());
        assertTrue(IntentOutcome.of(new ObjectMapper().readTree("{\"cluster\":{}}"), "r-2").isEmpty(),
                "an agent that records no outcomes");
        assertTrue(IntentOutcome.of(view(REFUSED), "").isEmpty(), "a request the agent gave no id");
    }

    @Test
    void doneAndTimedOutAreToldApart() throws Exception {
        assertTrue(IntentOutcome.of(view("{\"id\":\"r-4\",\"outcome\":\"done\"}"), "r-4").orElseThrow().done());
        IntentOutcome timedOut = IntentOutcome.of(view("{\"id\":\"r-5\",\"outcome\":\"timed_out\",\"reason\":null}"),
                "r-5").orElseThrow();
        assertFalse(timedOut.done());
        assertEquals("promote of be2 timed out: not completed within leaderl.control_worker_timeout_seconds (30 s); "
                + "see chef-backend-ctl tail leaderl on the leader", timedOut.failure("promote of be2", 30));
    }
}
