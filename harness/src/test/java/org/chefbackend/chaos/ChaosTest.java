package org.chefbackend.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.chefbackend.cluster.Records;
import org.junit.jupiter.api.Test;

class ChaosTest {
    static final String HANDED = "ok: handed leadership over to cb2\nok: restarted elasticsearch";

    @Test
    void theOneAnnouncedHandOverIsPlanned() {
        assertNull(Chaos.unplanned(List.of("cb2"), HANDED, List.of()));
    }

    @Test
    void anythingElseIsAnUnplannedFailover() {
        assertEquals("2 leader changes", Chaos.unplanned(List.of("cb2", "cb3"), HANDED, List.of()));
        assertEquals("leadership went to cb3, not where the command handed it (ok: handed leadership over to cb2)",
                Chaos.unplanned(List.of("cb3"), HANDED, List.of()));
        assertEquals("the command announced no hand-over", Chaos.unplanned(List.of("cb2"), "ok: restarted elasticsearch",
                List.of()));
        assertEquals("0 leader changes", Chaos.unplanned(List.of(), HANDED, List.of()));
        String why = Chaos.unplanned(List.of("cb2"), HANDED, List.of("  leaderl: search unhealthy: giving up leadership"));
        assertEquals("the old leader's leaderl log: leaderl: search unhealthy: giving up leadership", why);
        assertTrue(Chaos.unplanned(List.of("cb22"), HANDED, List.of()).contains("went to cb22"), "cb2 is not cb22");
    }

    @Test
    void theUnfitBoundComesFromTheHarnessSettings() {
        List<String> rb = Chaos.settings(5);
        assertEquals(1, Chaos.setting(rb, "leaderl.health_check.interval_seconds", 5));
        assertEquals(5 * 1 + 5, Chaos.unfitBound(rb));
        assertEquals(3 * 2 + 5, Chaos.unfitBound(List.of("leaderl.health_check.max_elasticsearch_failures = 3",
                "leaderl.health_check.interval_seconds=2")));
        assertEquals(5 * 5 + 5, Chaos.unfitBound(List.of()), "the product's defaults");
        assertEquals(9200, Chaos.setting(rb, "elasticsearch.port", 9200));
    }

    @Test
    void aRestartedLeadersRejoinIsTimedFromItsStart() {
        // started at 1 000 000 ms; its record: first seen streaming 8.5 s later, 5.2 s after leaderl began the rejoin
        Chaos.RejoinSeen r = Chaos.rejoinSeen("cb1", false, 8.9, 1_000_000, new Records.Rejoin("cb2", "rewind", 5.2, 1_008_500));
        assertEquals(new Chaos.RejoinSeen("cb1", "rewind", 8.9, 8.5, 5.2), r);
        assertEquals(new Chaos.RejoinSeen("cb1", "unknown", 8.9, Double.NaN, Double.NaN),
                Chaos.rejoinSeen("cb1", false, 8.9, 1_000_000, null), "streams, wrote no record since its start");
        assertEquals(new Chaos.RejoinSeen("cb1", "led again", Double.NaN, Double.NaN, Double.NaN),
                Chaos.rejoinSeen("cb1", true, Double.NaN, 1_000_000, null));
        assertEquals("not rejoined", Chaos.rejoinSeen("cb1", false, Double.NaN, 1_000_000, null).path());
    }
}
