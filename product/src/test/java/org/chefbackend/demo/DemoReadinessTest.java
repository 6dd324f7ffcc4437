package org.chefbackend.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class DemoReadinessTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static String node(String name, String role, String pg, boolean eligible, String reason, boolean esHealthy,
            String esStatus, int esNodes) {
        return "{\"name\":\"" + name + "\",\"role\":\"" + role + "\",\"pgsql\":{\"role\":\"" + pg + "\"},"
                + "\"eligible_for_leader\":" + eligible + ",\"reason\":" + (reason == null ? "null" : "\"" + reason + "\"")
                + ",\"elasticsearch\":{\"healthy\":" + esHealthy + ",\"status\":\"" + esStatus + "\",\"nodes\":" + esNodes
                + "}}";
    }

    static JsonNode view(String... nodes) throws Exception {
        return JSON.readTree("{\"nodes\":[" + String.join(",", nodes) + "]}");
    }

    @Test
    void upOnlyWithOneLeaderSyncedEligibleFollowersAndGreenSearchOfEveryNode() throws Exception {
        String leader = node("node1", "leader", "leader", true, null, true, "green", 3);
        String ok2 = node("node2", "follower", "synced", true, null, true, "green", 3);
        String ok3 = node("node3", "follower", "synced", true, null, true, "green", 3);
        assertEquals(List.of(), Demo.notReady(view(leader, ok2, ok3), 3));

        // what the demo once called "up": search of one node, a follower ineligible with no reason shown
        String alone = node("node1", "leader", "leader", true, null, false, "red", 1);
        String ineligible = node("node3", "follower", "synced", false, "search unhealthy", true, "green", 2);
        assertEquals(List.of("node1's search: red, 1/3 nodes, not a member", "node2's search: green, 2/3 nodes",
                "node3 is not eligible (search unhealthy)", "node3's search: green, 2/3 nodes"),
                Demo.notReady(view(alone, node("node2", "follower", "synced", true, null, true, "green", 2), ineligible),
                        3));
        assertEquals(List.of("node2 is follower, PostgreSQL syncing", "2 of 3 nodes are members"),
                Demo.notReady(view(leader, node("node2", "follower", "syncing", true, null, true, "green", 3)), 3));
        assertEquals(List.of("0 leaders"), Demo.notReady(view(node("node1", "follower", "synced", true, null, true,
                "green", 1)), 1));
    }
}
