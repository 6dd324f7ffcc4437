package org.chefbackend.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.chefbackend.repository.ArchiveGaps.Report;
import org.junit.jupiter.api.Test;

/** Against the real listing of the archive after a restore that began timeline 2 (see the fixtures' README). */
class ArchiveListingTest {
    static final ArchiveListing REAL = ArchiveListing.parse(Fixtures.read("repo-ls-archive.json"));

    @Test
    void filesPerArchiveIdWithoutDirectoriesOrArchiveInfo() {
        assertEquals(List.of("15-1"), REAL.ids());
        List<String> names = REAL.names("15-1");
        assertEquals(18, names.size()); // 13 segments, 4 backup labels, 1 history file
        assertEquals("000000010000000000000001-5431154677b02392da80fd2d2e5400e36be45abd.gz", names.get(0));
        assertTrue(names.contains("00000002.history"));
        assertTrue(names.contains("000000010000000000000002.00000028.backup"));
        assertTrue(names.stream().noneMatch(n -> n.contains("/") || n.startsWith("archive.info")), names.toString());
        assertEquals(List.of(), REAL.misplaced());
    }

    @Test
    void theNewestSegmentAndWhenItWasStored() {
        ArchiveListing.Entry newest = REAL.newestSegment("15-1").orElseThrow();
        assertEquals("00000002000000000000000B-b52a1d1deb4218fc27496a9b8fd07ea39bfc8f67.gz", newest.name());
        assertEquals(16385, newest.size());
        assertEquals(Instant.ofEpochSecond(1796627204), newest.modified());
        assertTrue(REAL.newestSegment("16-2").isEmpty());
    }

    @Test
    void theRealArchiveIsCompleteFromTheFullBackupAcrossTheRestore() {
        BackupInfo info = BackupInfo.parse(Fixtures.read("info-timeline2.json"));
        TimelineHistory tl2 = TimelineHistory.parse(2, Fixtures.read("00000002.history"));
        Report r = ArchiveGaps.check(REAL.names("15-1"), Map.of(2L, tl2),
                info.oldestValid().orElseThrow().archiveStart(), info.currentArchive().orElseThrow().max());
        assertTrue(r.recoverable(), r.summary());
        assertEquals(List.of(1L, 2L), r.path());
        // timeline 1 went on to 0A before the restore took the cluster back to 0/9000050
        assertEquals("[00000001000000000000000A]", r.abandoned().toString());
    }

    @Test
    void theFilteredListingHoldsTheHistoryFilesOnly() {
        ArchiveListing histories = ArchiveListing.parse(Fixtures.read("repo-ls-history.json"));
        assertEquals(List.of("00000002.history"), histories.names("15-1"));
    }

    @Test
    void filesWherePgbackrestWouldNotLookAreSetApart() {
        ArchiveListing l = ArchiveListing.parse("""
                {".":{"type":"path"},"15-1":{"type":"path"},
                 "15-1/0000000100000000/000000020000000000000003-5431154677b02392da80fd2d2e5400e36be45abd":{"type":"file"},
                 "15-1/000000010000000000000003-5431154677b02392da80fd2d2e5400e36be45abd.gz":{"type":"file"},
                 "15-1/0000000100000000/00000002.history":{"type":"file"},
                 "15-1/0000000100000000/x.pgbackrest.tmp":{"type":"file"},
                 "15-1/0000000100000000/000000010000000000000004.partial-5431154677b02392da80fd2d2e5400e36be45abd.lz4":
                     {"type":"file"},
                 "15-1/a/b/c":{"type":"file"},
                 "15-1/0000000100000000/link":{"type":"link"}}
                """);
        assertEquals(List.of("x.pgbackrest.tmp",
                "000000010000000000000004.partial-5431154677b02392da80fd2d2e5400e36be45abd.lz4"),
                l.names("15-1").stream().sorted(Comparator.reverseOrder()).toList());
        assertEquals(4, l.misplaced().size(), l.misplaced().toString());
        assertEquals(-1, l.files().get("15-1").get(0).size());
    }

    @Test
    void anotherShapeIsRefusedSayingWhat() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ArchiveListing.parse("[\"15-1\"]"));
        assertEquals("pgbackrest repo-ls output: want an object of paths, got array", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ArchiveListing.parse("{\"15-1/x\":{\"size\":1}}"));
        assertEquals("pgbackrest repo-ls output: 15-1/x.type is missing", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ArchiveListing.parse("{\"15-1/00000002.history\":{\"type\":\"file\",\"time\":\"soon\"}}"));
        assertTrue(e.getMessage().contains("time is not a whole number"), e.getMessage());
    }
}
