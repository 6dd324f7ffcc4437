package org.chefbackend.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.chefbackend.repository.WalFileName.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** WAL file names as PostgreSQL writes them, in and out, and the segment arithmetic recovery relies on. */
class WalFileNameTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            000000010000000000000001                 | SEGMENT | 1        | 1          | 0
            0000000A00000002000000FF                 | SEGMENT | 10       | 767        | 0
            FFFFFFFFFFFFFFFF000000FF                 | SEGMENT | 4294967295 | 1099511627775 | 0
            000000010000000000000009.partial         | PARTIAL | 1        | 9          | 0
            00000002.history                         | HISTORY | 2        | -1         | 0
            000000010000000000000002.00000028.backup | BACKUP  | 1        | 2          | 40
            00000003000000010000000A.00FFFFF8.backup | BACKUP  | 3        | 266        | 16777208
            """)
    void parsesAndFormatsBack(String name, Kind kind, long timeline, long number, long offset) {
        WalFileName parsed = WalFileName.parse(name);
        assertEquals(kind, parsed.kind());
        assertEquals(timeline, parsed.timeline());
        assertEquals(number, parsed.segment() == null ? -1 : parsed.segment().number());
        assertEquals(offset, parsed.backupOffset());
        assertEquals(name, parsed.name());
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            00000001000000000000001                  | not a WAL file name
            0000000100000000000000010                | not a WAL file name
            00000001000000000000000a                 | not a WAL file name
            000000010000000000000100                 | its last 8 digits run 00000000..000000FF
            000000000000000000000001                 | timeline 0 does not exist
            00000001.history                         | timeline 1 has no history file
            00000000.history                         | timeline 0 has no history file
            0000000100000000000000010.history        | not a WAL file name
            000000010000000000000001.partial.gz      | not a WAL file name
            000000010000000000000001.0028.backup     | not a WAL file name
            000000010000000000000001-5431154677b02392da80fd2d2e5400e36be45abd.gz | not a WAL file name
            archive.info                             | not a WAL file name
            ''                                       | not a WAL file name
            """)
    void refusesAnythingElseSayingWhy(String name, String why) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WalFileName.parse(name));
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }

    @Test
    void refusesNull() {
        assertThrows(IllegalArgumentException.class, () -> WalFileName.parse(null));
        assertThrows(IllegalArgumentException.class, () -> WalSegment.parse(null));
    }

    @Test
    void nextCrossesIntoTheNextLogAfterFF() {
        assertEquals("0000000100000000000000FF", WalSegment.parse("0000000100000000000000FE").next().name());
        assertEquals("000000010000000100000000", WalSegment.parse("0000000100000000000000FF").next().name());
        assertEquals(256, WalSegment.parse("000000010000000100000000").number());
    }

    @ParameterizedTest(name = "{1} on timeline {0}")
    @CsvSource(delimiter = '|', textBlock = """
            1 | 0/5000028          | 000000010000000000000005
            1 | 0/0                | 000000010000000000000000
            2 | 0/9000050          | 000000020000000000000009
            2 | 0/8FFFFFF          | 000000020000000000000008
            2 | 0/9000000          | 000000020000000000000009
            3 | 16/B374D848        | 0000000300000016000000B3
            1 | 1/0                | 000000010000000100000000
            """)
    void segmentContainingAnLsn(long timeline, String lsn, String expected) {
        WalSegment s = WalSegment.containing(timeline, lsn);
        assertEquals(expected, s.name());
        assertTrue(s.startLsn() <= Lsn.parse(lsn) && Lsn.parse(lsn) < s.next().startLsn());
    }

    @Test
    void aMalformedLsnIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> WalSegment.containing(1, "5000028"));
        assertThrows(IllegalArgumentException.class, () -> WalSegment.containing(0, "0/5000028"));
    }

    @Test
    void lsnFormatsAsPostgresqlPrintsIt() {
        assertEquals("0/5000028", Lsn.format(Lsn.parse("0/05000028")));
        assertEquals("16/B374D848", Lsn.format(Lsn.parse("16/b374d848")));
    }

    @Test
    void labelsSplitTheirLsnIntoSegmentAndOffset() {
        WalFileName label = WalFileName.backupLabel(1, Lsn.parse("0/2000028"));
        assertEquals("000000010000000000000002.00000028.backup", label.name());
    }

    @Test
    void segmentsSortByTimelineThenNumber() {
        List<WalSegment> segments = new ArrayList<>(List.of(WalSegment.parse("000000020000000000000001"),
                WalSegment.parse("000000010000000100000000"), WalSegment.parse("0000000100000000000000FF")));
        Collections.sort(segments);
        assertEquals("[0000000100000000000000FF, 000000010000000100000000, 000000020000000000000001]",
                segments.toString());
    }
}
