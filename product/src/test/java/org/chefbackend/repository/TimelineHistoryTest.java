package org.chefbackend.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.chefbackend.repository.TimelineHistory.Entry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TimelineHistoryTest {
    @Test
    void readsTheFilePostgresqlWroteOnARestoreThatPromoted() {
        TimelineHistory h = TimelineHistory.parse(2, Fixtures.read("00000002.history"));
        assertEquals(List.of(new Entry(1, Lsn.parse("0/9000050"), "reached consistency")), h.entries());
        assertEquals(List.of(1L, 2L), h.path());
        assertEquals(Fixtures.read("00000002.history"), h.content());
    }

    @Test
    void skipsCommentsAndBlankLinesAndKeepsTheReasonWhole() {
        TimelineHistory h = TimelineHistory.parse(3, """
                # written by hand
                1\t0/9000050\tno recovery target specified

                  2\t0/B0000A0\tafter LSN 0/B000000, a failover
                """);
        assertEquals(List.of(1L, 2L, 3L), h.path());
        assertEquals("after LSN 0/B000000, a failover", h.entries().get(1).reason());
        assertEquals(Lsn.parse("0/B0000A0"), h.switchpointOf(2));
        assertEquals(-1, h.switchpointOf(3));
    }

    @Test
    void aLineWithoutReasonIsAccepted() {
        assertEquals(List.of(new Entry(1, Lsn.parse("0/3000000"), "")),
                TimelineHistory.parse(2, "1\t0/3000000\n").entries());
    }

    @Test
    void timelineOneHasNoAncestors() {
        TimelineHistory h = TimelineHistory.parse(1, "");
        assertEquals(List.of(1L), h.path());
        assertEquals(1, h.timelineAt(Lsn.parse("FF/0")));
    }

    @ParameterizedTest(name = "{0} is on timeline {1}")
    @CsvSource({"0/0, 1", "0/900004F, 1", "0/9000050, 2", "0/B00009F, 2", "0/B0000A0, 4", "1/0, 4"})
    void theTimelineThatWroteAPosition(String lsn, long timeline) {
        TimelineHistory h = TimelineHistory.parse(4, "1\t0/9000050\tx\n2\t0/B0000A0\ty\n");
        assertEquals(timeline, h.timelineAt(Lsn.parse(lsn)));
    }

    @Test
    void anUnrelatedTimelineIsNoAncestor() {
        TimelineHistory h = TimelineHistory.parse(4, "1\t0/9000050\tx\n3\t0/B0000A0\ty\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> h.switchpointOf(2));
        assertEquals("timeline 2 is not an ancestor of 4 (its history: [1, 3, 4])", e.getMessage());
    }

    @Test
    void aRestoreThatStoppedOnAnOlderAncestorsStretchSkipsTheTimelineBetween() {
        // written by PostgreSQL 15 when a restore to a time on timeline 1's stretch of timeline 2's history promoted
        TimelineHistory h = TimelineHistory.parse(3, "1\t0/4000000\tno recovery target specified\n"
                + "2\t0/300B520\tbefore 2026-12-07 07:39:27.59+00\n");
        assertEquals(List.of(1L, 3L), h.path());
        assertEquals(Lsn.parse("0/300B520"), h.switchpointOf(1));
        assertEquals(1, h.timelineAt(Lsn.parse("0/3000000")));
        assertEquals(3, h.timelineAt(Lsn.parse("0/3500000")), "timeline 1's WAL past the switch is not read");
        assertThrows(IllegalArgumentException.class, () -> h.switchpointOf(2));
    }

    @Test
    void anOrdinaryHistoryIsReadAsWritten() {
        TimelineHistory h = TimelineHistory.parse(4, "1\t0/9000050\tx\n3\t0/B0000A0\ty\n");
        assertEquals(h.entries(), h.effective());
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', textBlock = """
            3 | 1\\t0/9000050\\tx\\n1\\t0/A000000\\ty   | must be in increasing sequence (1 after 1)
            3 | 2\\t0/9000050\\tx\\n1\\t0/A000000\\ty   | must be in increasing sequence (1 after 2)
            2 | 2\\t0/9000050\\tx                      | must be less than the child timeline's ID (2)
            2 | 1                                      | line 1: expected a WAL location switchpoint
            2 | \\n1\\t9000050\\tx                     | line 2: syntax error
            2 | one\\t0/9000050\\tx                    | line 1: syntax error
            2 | -1\\t0/9000050\\tx                     | line 1: syntax error
            """)
    void refusesWhatPostgresqlWouldRefuse(long timeline, String content, String why) {
        String real = content.replace("\\t", "\t").replace("\\n", "\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TimelineHistory.parse(timeline, real));
        assertTrue(e.getMessage().contains(why), e.getMessage());
        assertTrue(e.getMessage().startsWith("history of timeline " + timeline), e.getMessage());
    }
}
