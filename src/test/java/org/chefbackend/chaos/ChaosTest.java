package org.chefbackend.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
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
}
