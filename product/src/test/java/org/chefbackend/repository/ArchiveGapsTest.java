package org.chefbackend.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.chefbackend.repository.ArchiveGaps.Report;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each row: an archive directory (segments given as timeline and numbers, stored as pgBackRest names them), the
 * history files present, the start and end; out: what is missing, stored twice and abandoned. Timeline 2 begins
 * mid-segment 9 (0/9000050, the real restore's switchpoint); timeline 3 at the boundary 0/C000000.
 */
class ArchiveGapsTest {
    static final String TL2 = "1\t0/9000050\treached consistency\n";
    static final String TL3 = TL2 + "2\t0/C000000\tno recovery target specified\n";
    /** Timeline 3 forked from 1: timeline 2 is a fork recovery never follows. */
    static final String TL3_FROM_1 = "1\t0/A000000\tno recovery target specified\n";

    /** The archive directory under construction, and the check's arguments. */
    static final class Dir {
        final List<String> files = new ArrayList<>();
        final Map<Long, TimelineHistory> histories = new HashMap<>();
        WalSegment start = seg(1, 2);
        WalSegment end = seg(1, 6);

        Dir segments(long timeline, long from, long to) {
            for (long n = from; n <= to; n++) {
                files.add(stored(seg(timeline, n).name(), n, ".gz"));
            }
            return this;
        }

        Dir without(long timeline, long number) {
            files.removeIf(f -> f.startsWith(seg(timeline, number).name() + "-"));
            return this;
        }

        Dir partial(long timeline, long number) {
            files.add(stored(seg(timeline, number).name() + ".partial", number, ".zst"));
            return this;
        }

        Dir twice(long timeline, long number) {
            files.add(stored(seg(timeline, number).name(), number + 1000, ".gz"));
            return this;
        }

        Dir history(long timeline, String content) {
            files.add(WalFileName.history(timeline).name());
            histories.put(timeline, TimelineHistory.parse(timeline, content));
            return this;
        }

        Dir from(long timeline, long number) {
            start = seg(timeline, number);
            return this;
        }

        Dir to(long timeline, long number) {
            end = seg(timeline, number);
            return this;
        }

        Dir withoutHistoryFile(long timeline) {
            files.remove(WalFileName.history(timeline).name());
            return this;
        }

        Dir also(String name) {
            files.add(name);
            return this;
        }

        Report check() {
            return ArchiveGaps.check(files, histories, start, end);
        }
    }

    static WalSegment seg(long timeline, long number) {
        return new WalSegment(timeline, number);
    }

    static String stored(String walName, long seed, String ext) {
        return walName + "-" + String.format("%040x", seed * 7919 + 17) + ext;
    }

    /** The steady case: timeline 1, segments 2..6 archived. */
    static Dir tl1() {
        return new Dir().segments(1, 2, 6);
    }

    /** Timeline 1 from 2 until the switch in 9 (its 9 only a .partial), timeline 2 from 9 to 0B. */
    static Dir switched() {
        return new Dir().segments(1, 2, 8).partial(1, 9).history(2, TL2).segments(2, 9, 11).to(2, 11);
    }

    /** Then timeline 3 from 0C (switch on a segment boundary: timeline 2's last segment is 0B) to 0E. */
    static Dir twoSwitches() {
        return switched().history(3, TL3).segments(3, 12, 14).to(3, 14);
    }

    record Row(String name, Dir dir, List<String> missing, List<Long> missingHistories, List<String> conflicts,
            List<String> abandoned, List<Long> path) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Row row(String name, Dir dir, List<String> missing, List<Long> missingHistories, List<String> conflicts,
            List<String> abandoned, List<Long> path) {
        return new Row(name, dir, missing, missingHistories, conflicts, abandoned, path);
    }

    static Stream<Row> rows() {
        List<String> none = List.of();
        return Stream.of(
                row("no gap", tl1(), none, List.of(), none, none, List.of(1L)),
                row("one segment missing", tl1().without(1, 4),
                        List.of("000000010000000000000004"), List.of(), none, none, List.of(1L)),
                row("the end itself missing", tl1().without(1, 6),
                        List.of("000000010000000000000006"), List.of(), none, none, List.of(1L)),
                row("segments before the start are not needed", tl1().without(1, 2).from(1, 3),
                        none, List.of(), none, none, List.of(1L)),
                row("a gap across the FF..00 boundary reads as one range",
                        new Dir().segments(1, 0xFE, 0xFE).segments(1, 0x104, 0x104).from(1, 0xFE).to(1, 0x104),
                        List.of("0000000100000000000000FF..000000010000000100000003"), List.of(), none, none,
                        List.of(1L)),
                row("switch mid-segment, the parent's segment only a .partial", switched(),
                        none, List.of(), none, none, List.of(1L, 2L)),
                row("switch mid-segment, the parent's segment complete too", switched().segments(1, 9, 9),
                        none, List.of(), none, none, List.of(1L, 2L)),
                row("the parent's last segment before the switch missing", switched().without(1, 8),
                        List.of("000000010000000000000008"), List.of(), none, none, List.of(1L, 2L)),
                row("the child's copy of the switch segment missing (the .partial does not replace it)",
                        switched().without(2, 9),
                        List.of("000000020000000000000009"), List.of(), none, none, List.of(1L, 2L)),
                row("the parent's segments after the switch are an abandoned fork",
                        switched().segments(1, 9, 10),
                        none, List.of(), none, List.of("00000001000000000000000A"), List.of(1L, 2L)),
                row("two switches 1 -> 2 -> 3", twoSwitches(), none, List.of(), none, none, List.of(1L, 2L, 3L)),
                row("two switches, the middle timeline's last segment missing", twoSwitches().without(2, 11),
                        List.of("00000002000000000000000B"), List.of(), none, none, List.of(1L, 2L, 3L)),
                row("two switches, the new timeline's first segment missing", twoSwitches().without(3, 12),
                        List.of("00000003000000000000000C"), List.of(), none, none, List.of(1L, 2L, 3L)),
                row("a missing history file on the path",
                        twoSwitches().withoutHistoryFile(2),
                        none, List.of(2L), none, none, List.of(1L, 2L, 3L)),
                row("the start on timeline 2, timeline 1 expired, the end on 3",
                        new Dir().history(2, TL2).history(3, TL3).segments(2, 10, 11).segments(3, 12, 13)
                                .from(2, 10).to(3, 13),
                        none, List.of(), none, none, List.of(2L, 3L)),
                row("timeline 2 abandoned: 3 forked from 1",
                        new Dir().segments(1, 2, 9).history(2, TL2).segments(2, 9, 11).history(3, TL3_FROM_1)
                                .segments(3, 10, 12).to(3, 12),
                        none, List.of(), none, List.of("000000020000000000000009..00000002000000000000000B"),
                        List.of(1L, 3L)),
                row("one segment stored twice with two checksums", tl1().twice(1, 3),
                        none, List.of(), List.of("000000010000000000000003"), none, List.of(1L)),
                row("backup labels and stray files do not count", tl1()
                        .also("000000010000000000000002.00000028.backup").also("archive.info").without(1, 5),
                        List.of("000000010000000000000005"), List.of(), none, none, List.of(1L)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void findsWhatRecoveryWouldMiss(Row row) {
        Report r = row.dir().check();
        assertNull(r.problem());
        assertEquals(row.path(), r.path());
        assertEquals(row.missing(), r.missing().stream().map(SegmentRange::toString).toList());
        assertEquals(row.missingHistories(), r.missingHistories());
        assertEquals(row.conflicts(), r.conflicts().stream().map(c -> c.segment().name()).toList());
        assertEquals(row.abandoned(), r.abandoned().stream().map(SegmentRange::toString).toList());
        assertEquals(row.missing().isEmpty() && row.missingHistories().isEmpty() && row.conflicts().isEmpty(),
                r.recoverable(), r.summary());
    }

    @Test
    void aConflictNamesBothStoredFiles() {
        Report r = tl1().twice(1, 3).check();
        assertEquals(2, r.conflicts().get(0).storedNames().size());
        assertTrue(r.conflicts().get(0).storedNames().stream().allMatch(n -> n.startsWith("000000010000000000000003-")));
        assertEquals("WAL archive incomplete: stored twice with different checksums (pgBackRest refuses them): "
                + "000000010000000000000003", r.summary());
    }

    @Test
    void theSummarySaysAllThatIsWrongInOneLine() {
        Report r = twoSwitches().without(1, 3).without(1, 4).without(3, 13).withoutHistoryFile(3).check();
        assertEquals("WAL archive incomplete: 3 segment(s) missing: 000000010000000000000003..000000010000000000000004,"
                + " 00000003000000000000000D; history file(s) missing: 00000003.history", r.summary());
        assertEquals(3, r.missingCount());
    }

    @Test
    void theSummaryOfACompleteArchiveNamesThePathAndTheForks() {
        assertEquals("WAL archive complete along timeline(s) 1 -> 2; not followed (abandoned forks): "
                + "00000001000000000000000A", switched().segments(1, 9, 10).check().summary());
    }

    @Test
    void withoutTheEndTimelinesHistoryThePathIsUnknown() {
        Dir dir = twoSwitches();
        dir.files.remove("00000003.history");
        dir.histories.remove(3L);
        Report r = dir.check();
        assertFalse(r.recoverable());
        assertEquals(List.of(3L), r.missingHistories());
        assertEquals("00000003.history is missing: which timelines lead to timeline 3 is unknown", r.problem());
    }

    @Test
    void onOneTimelineItsOwnMissingHistoryIsReportedButTheSegmentsStillChecked() {
        Report r = new Dir().segments(2, 10, 12).without(2, 11).from(2, 10).to(2, 12).check();
        assertNull(r.problem());
        assertEquals(List.of(2L), r.missingHistories());
        assertEquals("[00000002000000000000000B]", r.missing().toString());
    }

    @Test
    void aStartOffThePathIsAProblemNotAGap() {
        Report r = new Dir().history(3, TL3_FROM_1).segments(2, 9, 11).from(2, 9).to(3, 12).check();
        assertEquals("the start 000000020000000000000009 is on timeline 2, which is not on the path to timeline 3"
                + " ([1, 3])", r.problem());
        assertFalse(r.recoverable());
    }

    @Test
    void aStartAfterItsTimelineEndedIsAProblem() {
        Report r = switched().from(1, 10).check();
        assertEquals("the start 00000001000000000000000A lies after timeline 1 ended at 0/9000050", r.problem());
    }

    @Test
    void aHistoryPresentButNotGivenIsTheCallersMistake() {
        Dir dir = switched();
        dir.histories.clear();
        assertThrows(IllegalArgumentException.class, dir::check);
    }

    @Test
    void directoriesBeforeTheNameAreIgnoredAndStrayNamesListed() {
        Dir dir = new Dir();
        dir.files.addAll(tl1().files.stream().map(f -> "0000000100000000/" + f).toList());
        dir.files.add("0000000100000000/000000010000000000000007-x.gz");
        Report r = dir.check();
        assertTrue(r.recoverable(), r.summary());
        assertEquals(List.of("0000000100000000/000000010000000000000007-x.gz"), r.unrecognized());
    }
}
