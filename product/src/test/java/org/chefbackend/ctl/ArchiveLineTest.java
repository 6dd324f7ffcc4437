package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ArchiveLineTest {
    static final long NOW = 1_000_000_000L * 1000;

    static JsonNode status(String backup) throws Exception {
        return new ObjectMapper().readTree("{\"backup\": " + backup + "}");
    }

    static String archiver(boolean inRecovery, String failedWal, long failedAt, long archivedAt) {
        return "{\"archived_count\": 3, \"last_archived_wal\": \"000000010000000000000003\", \"last_archived_at\": "
                + archivedAt + ", \"failed_count\": " + (failedWal == null ? 0 : 2) + ", \"last_failed_wal\": "
                + (failedWal == null ? "null" : "\"" + failedWal + "\"") + ", \"last_failed_at\": "
                + (failedAt == 0 ? "null" : failedAt) + ", \"in_recovery\": " + inRecovery + "}";
    }

    @Test
    void aNodeWithoutARepositoryHasNoRow() throws Exception {
        assertEquals(Optional.empty(), ArchiveLine.of(new ObjectMapper().readTree("{}"), NOW));
    }

    @Test
    void aLeaderThatArchivesSaysWhatAndHowLongAgo() throws Exception {
        JsonNode s = status("{\"repository\": \"/b\", \"repository_reachable\": true, \"waiting_segments\": 0,"
                + " \"archiver\": " + archiver(false, null, 0, 1_000_000_000L - 12) + "}");
        assertEquals("ok: last archived 000000010000000000000003 12 s ago; 0 segment(s) waiting",
                ArchiveLine.of(s, NOW).orElseThrow());
        assertEquals(Optional.empty(), ArchiveLine.failure(s.path("backup"), NOW));
    }

    @Test
    void aFailureNewerThanTheLastSuccessIsFailing() throws Exception {
        JsonNode s = status("{\"repository\": \"/b\", \"repository_reachable\": true, \"waiting_segments\": 2,"
                + " \"archiver\": " + archiver(false, "000000010000000000000004", 1_000_000_000L - 3,
                1_000_000_000L - 60) + "}");
        assertEquals("FAILING: could not archive 000000010000000000000004 (2 failure(s), the last 3 s ago); last"
                + " archived 000000010000000000000003 60 s ago; 2 segment(s) waiting", ArchiveLine.of(s, NOW).orElseThrow());
    }

    @Test
    void anOldFailureSinceRecoveredIsNot() throws Exception {
        JsonNode s = status("{\"repository\": \"/b\", \"repository_reachable\": true, \"waiting_segments\": 0,"
                + " \"archiver\": " + archiver(false, "000000010000000000000002", 1_000_000_000L - 300,
                1_000_000_000L - 5) + "}");
        assertEquals(Optional.empty(), ArchiveLine.failure(s.path("backup"), NOW));
    }

    @Test
    void failuresFromBeforeTheNodeLedAreItsHoldingAsAFollower() throws Exception {
        JsonNode s = status("{\"repository\": \"/b\", \"repository_reachable\": true, \"waiting_segments\": 0,"
                + " \"leading_since\": " + (1_000_000_000L - 10) + ", \"archiver\": " + archiver(false,
                "000000010000000000000004", 1_000_000_000L - 12, 1_000_000_000L - 60) + "}");
        assertEquals(Optional.empty(), ArchiveLine.failure(s.path("backup"), NOW));
        JsonNode sinceLeading = status("{\"repository\": \"/b\", \"repository_reachable\": true, \"waiting_segments\": 0,"
                + " \"leading_since\": " + (1_000_000_000L - 10) + ", \"archiver\": " + archiver(false,
                "000000010000000000000004", 1_000_000_000L - 3, 1_000_000_000L - 60) + "}");
        assertTrue(ArchiveLine.failure(sinceLeading.path("backup"), NOW).isPresent());
    }

    @Test
    void anUnmountedRepositoryIsNamed() throws Exception {
        JsonNode s = status("{\"repository\": \"/mnt/b\", \"repository_reachable\": false, \"waiting_segments\": 1,"
                + " \"archiver\": " + archiver(false, null, 0, 1_000_000_000L - 5) + "}");
        assertEquals("the repository /mnt/b is missing (not mounted?)", ArchiveLine.failure(s.path("backup"), NOW)
                .orElseThrow());
    }

    @Test
    void aFollowerHoldsAndNeverFails() throws Exception {
        JsonNode s = status("{\"repository\": \"/b\", \"repository_reachable\": false, \"waiting_segments\": 4,"
                + " \"archiver\": " + archiver(true, "000000010000000000000004", 1_000_000_000L - 3, 0) + "}");
        assertEquals("follower: holds 4 segment(s) until the leader has archived them", ArchiveLine.of(s, NOW)
                .orElseThrow());
        assertEquals(Optional.empty(), ArchiveLine.failure(s.path("backup"), NOW));
    }
}
