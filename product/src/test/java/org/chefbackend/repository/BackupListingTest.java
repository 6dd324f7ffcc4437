package org.chefbackend.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class BackupListingTest {
    static final WalSegment LAST = WalSegment.parse("00000002000000000000000B");
    static final Instant LAST_AT = Instant.ofEpochSecond(1796627204);

    @Test
    void backupsThenTheWindowFromTheOldestBackupsEndToTheLastArchivedSegment() {
        String text = BackupListing.render(BackupInfo.parse(Fixtures.read("info-three.json")), LAST, LAST_AT);
        assertEquals("""
                Stanza demo: ok, cipher none
                LABEL                              TYPE  STARTED                 FINISHED
                    database size / repository size, WAL start..stop
                20261207-070622F                   full  2026-12-07 07:06:22+00  2026-12-07 07:06:25+00
                    21.9 MiB / 2.9 MiB, WAL 000000010000000000000002..000000010000000000000003
                20261207-070622F_20261207-070626D  diff  2026-12-07 07:06:26+00  2026-12-07 07:06:27+00
                    28.8 MiB / 3.7 MiB, WAL 000000010000000000000005..000000010000000000000006
                20261207-070622F_20261207-070628I  incr  2026-12-07 07:06:28+00  2026-12-07 07:06:30+00
                    32.3 MiB / 4.1 MiB, WAL 000000010000000000000008..000000010000000000000009
                Recoverable window: from 2026-12-07 07:06:25+00 to 2026-12-07 07:06:44+00
                  (last archived segment 00000002000000000000000B)
                """, text);
    }

    @Test
    void noBackupYetSaysWhatToRun() {
        assertEquals("""
                Stanza demo: no valid backups (pgBackRest status 2), cipher none
                no backup yet: take one with chef-backend-ctl backup --repository
                """, BackupListing.render(BackupInfo.parse(Fixtures.read("info-empty.json")), null, null));
    }

    @Test
    void aBackupWithErrorsIsMarkedAndTheWindowStartsAtTheNextOne() {
        BackupInfo info = BackupInfo.parse(
                Fixtures.read("info-three.json").replaceFirst("\"error\":false", "\"error\":true"));
        String text = BackupListing.render(info, LAST, LAST_AT);
        assertTrue(text.contains("000000010000000000000003; taken with errors (page checksums): not counted below\n"),
                text);
        assertTrue(text.contains("Recoverable window: from 2026-12-07 07:06:27+00 to"), text);
    }

    @Test
    void withoutArchivedWalTheWindowIsTheBackupsEnd() {
        String text = BackupListing.render(BackupInfo.parse(Fixtures.read("info-three.json")), null, null);
        assertTrue(text.endsWith("Recoverable window: from 2026-12-07 07:06:25+00 only: no archived WAL segment is"
                + " known\n"), text);
    }

    @Test
    void anArchiveThatEndsBeforeTheOldestBackupOpensNoWindow() {
        String text = BackupListing.render(BackupInfo.parse(Fixtures.read("info-three.json")),
                WalSegment.parse("000000010000000000000001"), Instant.ofEpochSecond(1796627177));
        assertTrue(text.endsWith("Recoverable window: none: the last archived segment 000000010000000000000001"
                + " (2026-12-07 07:06:17+00)\n  is older than the oldest backup's end\n"), text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"info-three.json", "info-timeline2.json", "info-empty.json", "info-missing-stanza.json"})
    void everyLineFitsIn100Columns(String fixture) {
        String text = BackupListing.render(BackupInfo.parse(Fixtures.read(fixture)), LAST, LAST_AT);
        text.lines().forEach(line -> assertTrue(line.length() <= 100, line.length() + ": " + line));
    }

    @ParameterizedTest(name = "{0} bytes: {1}")
    @CsvSource({"0, 0 B", "1023, 1023 B", "1024, 1.0 KiB", "22992610, 21.9 MiB", "1099511627776, 1.0 TiB",
            "9223372036854775807, 8192.0 PiB"})
    void sizesInBinaryUnits(long bytes, String expected) {
        assertEquals(expected, BackupListing.size(bytes));
    }

    @Test
    void timesAreRecoveryTargetTimeInUtc() {
        assertEquals("2026-12-07 07:06:25+00", BackupListing.recoveryTargetTime(Instant.ofEpochSecond(1796627185)));
    }
}
