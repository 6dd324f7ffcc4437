package org.chefbackend.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.chefbackend.bench.Procs;
import org.junit.jupiter.api.Test;

/** Issue 16's "healed", judged from what cluster-status, each node's OpenSearch and status answer. */
class HealedTest {
    static final List<String> NAMES = List.of("cb1", "cb2", "cb3");

    static JsonNode json(String text) throws Exception {
        return Chaos.JSON.readTree(text.replace('\'', '"'));
    }

    static String node(String name, String role, String pg, boolean eligible, String reason) {
        return "{'name': '" + name + "', 'role': '" + role + "', 'pgsql': {'role': '" + pg + "'}, 'eligible_for_leader': "
                + eligible + ", 'reason': " + (reason == null ? "null" : "'" + reason + "'") + ", 'status_age_seconds': 12}";
    }

    static JsonNode view(String... nodes) throws Exception {
        return json("{'nodes': [" + String.join(", ", nodes) + "]}");
    }

    @Test
    void oneLeaderAndTwoSyncedEligibleFollowersAreHealed() throws Exception {
        assertEquals(List.of(), Healed.clusterProblems(NAMES, view(node("cb1", "leader", "leader", true, null),
                node("cb2", "follower", "synced", true, null), node("cb3", "follower", "synced", true, null))));
    }

    @Test
    void eachFailingConditionIsNamed() throws Exception {
        List<String> p = Healed.clusterProblems(NAMES, view(node("cb1", "unreachable", "offline", false, "no status for 12 s"),
                node("cb2", "follower", "syncing", false, "search: no elected cluster manager")));
        assertEquals(List.of("cb1 unreachable (status 12 s old)", "cb2 pgsql syncing (search: no elected cluster manager)",
                "cb2 not eligible for leader (search: no elected cluster manager)", "cb3 missing from cluster-status",
                "no leader in cluster-status"), p);
        assertEquals(List.of("2 leaders in cluster-status [cb1, cb2]"), Healed.clusterProblems(NAMES, view(
                node("cb1", "leader", "leader", true, null), node("cb2", "leader", "leader", true, null),
                node("cb3", "follower", "synced", true, null))));
        assertEquals(List.of("cluster-status: no agent answered"), Healed.clusterProblems(NAMES, null));
        // before the product gives a reason, the condition is still named
        assertEquals(List.of("cb3 not eligible for leader"), Healed.clusterProblems(NAMES, json("{'nodes': ["
                + node("cb1", "leader", "leader", true, null) + ", " + node("cb2", "follower", "synced", true, null)
                + ", {'name': 'cb3', 'role': 'follower', 'pgsql': {'role': 'synced'}, 'eligible_for_leader': false}]}")));
    }

    @Test
    void searchMustBeGreenWithEveryNode() throws Exception {
        assertNull(Healed.searchProblem("cb1", 3, json("{'status': 'green', 'number_of_nodes': 3}")));
        assertEquals("cb1 search: green with 1 of 3 nodes",
                Healed.searchProblem("cb1", 3, json("{'status': 'green', 'number_of_nodes': 1}")));
        assertEquals("cb2 search: yellow with 3 of 3 nodes",
                Healed.searchProblem("cb2", 3, json("{'status': 'yellow', 'number_of_nodes': 3}")));
        assertTrue(Healed.searchProblem("cb3", 3, null).contains("no elected cluster manager"));
        assertTrue(Healed.inSearchCluster(json("{'status': 'yellow', 'number_of_nodes': 3}"), 3), "in the cluster, not green");
        assertFalse(Healed.inSearchCluster(json("{'status': 'green', 'number_of_nodes': 1}"), 3), "a cluster of its own");
        assertFalse(Healed.inSearchCluster(null, 3));
    }

    @Test
    void statusMustExitZero() {
        assertNull(Healed.statusProblem("cb1", new Procs.Result(0, "all fine", "", 1)));
        assertEquals("cb2 status exit 3: elasticsearch running state: red",
                Healed.statusProblem("cb2", new Procs.Result(3, "elasticsearch  running\n  state: red", "", 1)));
        assertTrue(Healed.statusProblem("cb3", new Procs.Result(3, "x".repeat(400), "", 1)).endsWith("…"));
    }
}
