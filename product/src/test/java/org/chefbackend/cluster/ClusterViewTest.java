package org.chefbackend.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ClusterViewTest {
    static final long NOW = 1_000_000L;
    static final long STALE = 30_000;

    static Records.Member member(String name) {
        return new Records.Member(name, name + "-guid", "127.0.0." + name.charAt(name.length() - 1), 5432, 7331, 9200,
                "slot_" + name, 0);
    }

    static Records.NodeStatus status(String name, boolean eligible, String reason, Records.Search search, long at) {
        return new Records.NodeStatus(name, name + "-guid", "addr", eligible ? "follower" : "waiting_for_leader",
                new Records.Pgsql(true, true, "0/1", null, "streaming", 1), search, List.of(), false, eligible, true,
                at, reason);
    }

    static final Records.Search GREEN = new Records.Search(true, false, "green", 3, null);

    @SuppressWarnings("unchecked")
    static Map<String, Object> node(Map<String, Object> view, String name) {
        return ((List<Map<String, Object>>) view.get("nodes")).stream().filter(n -> n.get("name").equals(name))
                .findFirst().orElseThrow();
    }

    @Test
    void everyIneligibleOrBlockedNodeSaysWhyAndAnEligibleOneSaysNothing() {
        Map<String, Records.Member> members = new LinkedHashMap<>();
        for (String n : List.of("be1", "be2", "be3", "be4", "be5")) {
            members.put(n, member(n));
        }
        Map<String, Records.NodeStatus> statuses = Map.of(
                "be1", status("be1", true, null, GREEN, NOW),
                "be2", status("be2", false, "search unhealthy (elasticsearch check 5/5 failures: no elected cluster "
                        + "manager)", new Records.Search(true, false, "red", 1, "no elected cluster manager"), NOW),
                "be3", status("be3", true, null, GREEN, NOW - 31_000),
                "be5", status("be5", true, null, GREEN, NOW));
        Map<String, Object> view = ClusterView.of(members, statuses, Optional.empty(), Map.of("be5", false), NOW, STALE,
                1000);
        assertNull(node(view, "be1").get("reason"));
        assertEquals("search unhealthy (elasticsearch check 5/5 failures: no elected cluster manager)",
                node(view, "be2").get("reason"));
        assertEquals("no status for 31 s (agent stopped or host down)", node(view, "be3").get("reason"));
        assertEquals("no status published yet", node(view, "be4").get("reason"));
        assertEquals("failover is disabled for this node", node(view, "be5").get("reason"));
    }

    @Test
    void aNodeThatStoppedOrLostTheKeyIsNotShownAsLeaderOrEligible() {
        Records.NodeStatus wasLeader = new Records.NodeStatus("be1", "g", "a", "leader",
                new Records.Pgsql(true, false, "0/1", null, null, 1), GREEN, List.of(), false, true, true, NOW, null);
        assertEquals("deposed_leader", ClusterView.role(wasLeader, true, false),
                "its last status said leader, but the key is another's");
        assertEquals("leader", ClusterView.role(wasLeader, true, true));
        assertEquals("unreachable", ClusterView.role(wasLeader, false, true));
        Records.NodeStatus stopped = wasLeader.stopped(NOW);
        Map<String, Object> view = ClusterView.of(Map.of("be1", member("be1")), Map.of("be1", stopped),
                Optional.empty(), NOW, STALE, 1000);
        assertEquals(false, node(view, "be1").get("eligible_for_leader"));
        assertEquals("stopped", node(view, "be1").get("role"));
        assertEquals("stopped 0 s ago (chef-backend-ctl stop); chef-backend-ctl start on that node starts it",
                node(view, "be1").get("reason"));
    }

    /** A node stopped cleanly stays "stopped" (not "stopping", nor "unreachable" as a crashed one) until it starts. */
    @Test
    void aStoppedNodeIsShownStoppedLongAfterItsStop() {
        Records.NodeStatus synced = status("be1", true, null, GREEN, NOW);
        long later = NOW + 10 * STALE;
        for (Records.NodeStatus st : List.of(synced.stopped(NOW), new Records.NodeStatus("be1", "g", "a", "stopping",
                synced.pgsql(), GREEN, List.of(), false, false, true, NOW, "an agent from before 'stopped'"))) {
            for (long now : new long[] {NOW + 1000, later}) {
                Map<String, Object> n = node(ClusterView.of(Map.of("be1", member("be1")), Map.of("be1", st),
                        Optional.empty(), now, STALE, 1000), "be1");
                assertEquals("stopped", n.get("role"), st.role() + " at +" + (now - NOW) + " ms");
                assertEquals("offline", ((Map<?, ?>) n.get("pgsql")).get("role"), "its last PostgreSQL role is gone");
                assertEquals(false, n.get("eligible_for_leader"));
                assertTrue(((String) n.get("reason")).startsWith("stopped " + (now - NOW) / 1000 + " s ago"),
                        (String) n.get("reason"));
            }
        }
    }

    @Test
    void searchHealthIsShownNotOnlyTheManagerRole() {
        Map<String, Records.Member> members = Map.of("be1", member("be1"), "be2", member("be2"));
        Map<String, Records.NodeStatus> statuses = Map.of(
                "be1", status("be1", true, null, new Records.Search(true, true, "green", 2, null), NOW),
                "be2", status("be2", false, "x", new Records.Search(true, false, "red", 1, "no elected cluster manager"),
                        NOW));
        Map<String, Object> view = ClusterView.of(members, statuses, Optional.empty(), NOW, STALE, 1000);
        assertEquals(Map.of("role", "master", "healthy", true, "status", "green", "nodes", 2),
                node(view, "be1").get("elasticsearch"));
        assertEquals(Map.of("role", "not_master", "healthy", false, "status", "red", "nodes", 1),
                node(view, "be2").get("elasticsearch"));
        // a status published before search health was part of it (no "problem"): reachable counts as healthy
        assertTrue(new Records.Search(true, false, "green", 3, null).healthy());
        assertFalse(new Records.Search(false, false, "unknown", 0, null).healthy());
    }
}
