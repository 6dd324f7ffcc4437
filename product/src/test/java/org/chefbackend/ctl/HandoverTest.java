package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class HandoverTest {
    static JsonNode view(boolean clusterFailover, String nodes) throws Exception {
        return new ObjectMapper().readTree("{\"cluster\":{\"leader\":\"be1\",\"failover_enabled\":" + clusterFailover
                + "},\"nodes\":[" + nodes + "]}");
    }

    static String node(String name, boolean eligible, boolean failover) {
        return "{\"name\":\"" + name + "\",\"eligible_for_leader\":" + eligible + ",\"failover_enabled\":" + failover + "}";
    }

    @Test
    void theLeaderHandsOverWhenAFollowerCanTakeOverAndRestartsInPlaceOnlyWhenNoneCould() throws Exception {
        assertNull(Handover.whyInPlace(view(true, node("be1", true, true) + "," + node("be2", false, true) + ","
                + node("be3", true, true)), "be1"));
        assertEquals("no follower is eligible to take over", Handover.whyInPlace(view(true, node("be1", true, true)
                + "," + node("be2", false, true)), "be1"));
        assertEquals("failover is disabled for the cluster", Handover.whyInPlace(view(false, node("be1", true, true)
                + "," + node("be2", true, true)), "be1"));
        assertEquals("failover is disabled for it", Handover.whyInPlace(view(true, node("be1", true, false) + ","
                + node("be2", true, true)), "be1"));
    }
}
