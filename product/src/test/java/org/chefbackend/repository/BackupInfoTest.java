package org.chefbackend.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import org.chefbackend.repository.BackupInfo.ArchiveRange;
import org.chefbackend.repository.BackupInfo.Backup;
import org.chefbackend.repository.BackupInfo.Status;
import org.chefbackend.repository.BackupInfo.Type;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Against real pgBackRest 2.45 outputs (src/test/resources/org/chefbackend/repository/README.md). */
class BackupInfoTest {
    @Test
    void aFullADiffAndAnIncr() {
        BackupInfo info = BackupInfo.parse(Fixtures.read("info-three.json"));
        assertEquals("demo", info.stanza());
        assertEquals(new Status(0, "ok"), info.status());
        assertTrue(info.status().ok());
        assertEquals("none", info.cipher());
        assertEquals(List.of(Type.FULL, Type.DIFF, Type.INCR), info.backups().stream().map(Backup::type).toList());
        assertEquals(new Backup("20261207-070622F", Type.FULL, Instant.ofEpochSecond(1796627182),
                Instant.ofEpochSecond(1796627185), WalSegment.parse("000000010000000000000002"),
                WalSegment.parse("000000010000000000000003"), "0/2000028", "0/3000050", 22992610, 3043458, List.of(),
                false, 1), info.backups().get(0));
        Backup incr = info.backups().get(2);
        assertEquals("20261207-070622F_20261207-070628I", incr.label());
        assertEquals(List.of("20261207-070622F", "20261207-070622F_20261207-070626D"), incr.references());
        assertEquals("2026-12-07T07:06:28Z", incr.started().toString());
        assertEquals("0/9000050", incr.lsnStop());
        assertEquals(List.of(new ArchiveRange("15-1", 1, WalSegment.parse("000000010000000000000001"),
                WalSegment.parse("000000010000000000000009"))), info.archives());
        assertEquals("20261207-070622F", info.oldestValid().orElseThrow().label());
        assertEquals(incr, info.newestValid().orElseThrow());
    }

    @Test
    void aBackupOnTheNewTimelineAfterARestore() {
        BackupInfo info = BackupInfo.parse(Fixtures.read("info-timeline2.json"));
        Backup last = info.backups().get(3);
        assertEquals(Type.INCR, last.type());
        assertEquals(2, last.archiveStart().timeline());
        assertEquals("00000002000000000000000B", info.currentArchive().orElseThrow().max().name());
    }

    @Test
    void aStanzaWithoutBackups() {
        BackupInfo info = BackupInfo.parse(Fixtures.read("info-empty.json"));
        assertEquals(new Status(2, "no valid backups"), info.status());
        assertFalse(info.status().ok());
        assertTrue(info.backups().isEmpty());
        assertTrue(info.oldestValid().isEmpty());
        ArchiveRange archive = info.currentArchive().orElseThrow();
        assertEquals("15-1", archive.id());
        assertNull(archive.min());
        assertNull(archive.max());
    }

    @Test
    void aStanzaThatDoesNotExist() {
        BackupInfo info = BackupInfo.parse(Fixtures.read("info-missing-stanza.json"));
        assertEquals("nostanza", info.stanza());
        assertEquals(new Status(1, "missing stanza path"), info.status());
        assertTrue(info.archives().isEmpty());
        assertTrue(info.currentArchive().isEmpty());
    }

    @Test
    void aBackupWithErrorsDoesNotOpenTheWindow() {
        String json = Fixtures.read("info-three.json").replaceFirst("\"error\":false", "\"error\":true");
        BackupInfo info = BackupInfo.parse(json);
        assertTrue(info.backups().get(0).error());
        assertEquals("20261207-070622F_20261207-070626D", info.oldestValid().orElseThrow().label());
    }

    @Test
    void lsnIsOptional() {
        String json = Fixtures.read("info-three.json").replace("\"lsn\":{\"start\":\"0/2000028\",\"stop\":\"0/3000050\"},",
                "");
        Backup full = BackupInfo.parse(json).backups().get(0);
        assertNull(full.lsnStart());
        assertNull(full.lsnStop());
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', textBlock = """
            "type":"full"              | "type":"snapshot"       | backup[0] (20261207-070622F).type snapshot is not full, diff or incr
            "label":"20261207-070622F" | "label":7                | backup[0].label is not text: 7
            "start":1796627182         | "start":"1796627182"    | backup[0] (20261207-070622F).timestamp.start is not a whole number
            "start":1796627182         | "begin":1796627182      | backup[0] (20261207-070622F).timestamp.start is missing
            "error":false              | "error":"no"            | backup[0] (20261207-070622F).error is not true or false
            "000000010000000000000002" | "00000001000000000000002" | backup[0] (20261207-070622F).archive.start: not a WAL segment name
            "0/2000028"                | "2000028"               | backup[0] (20261207-070622F).lsn.start: not an LSN
            "code":0,"lock"            | "code":null,"lock"      | stanza demo.status.code is missing
            "reference":["20261207-070622F"] | "reference":[1]   | backup[1] (20261207-070622F_20261207-070626D).reference[0] is not a label
            """)
    void aFieldOfAnotherShapeIsNamed(String from, String to, String message) {
        String json = Fixtures.read("info-three.json").replaceFirst(from.replace("[", "\\["), to);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BackupInfo.parse(json));
        assertTrue(e.getMessage().startsWith("pgbackrest info output: "), e.getMessage());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @CsvSource(delimiter = '|', textBlock = """
            ''                 | empty output
            ERROR: [056]: unable to find primary cluster | not JSON
            []                 | got 0 stanzas
            {}                 | got no array
            [{}]               | stanza.name is missing
            [{"name":"a"}] []  | not JSON
            """)
    void whatIsNoSingleStanzaIsRefused(String json, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BackupInfo.parse(json));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void twoStanzasAreRefused() {
        String one = Fixtures.read("info-empty.json").strip();
        String two = one.substring(0, one.length() - 1) + "," + one.substring(1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BackupInfo.parse(two));
        assertTrue(e.getMessage().contains("got 2 stanzas"), e.getMessage());
    }
}
