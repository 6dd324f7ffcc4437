package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;

/**
 * The "archive" row of {@code status} (backup.repository set): on the leader, the last segment pgBackRest archived and
 * its age, what waits, and whether archiving fails; on a follower, what it holds until the leader has archived it.
 * Read from the agent's /status "backup" section (PostgreSQL's pg_stat_archiver and archive_status directory).
 */
final class ArchiveLine {
    private ArchiveLine() {
    }

    /** The row's local status; empty for a node without backup.repository. */
    static Optional<String> of(JsonNode status, long nowMillis) {
        JsonNode b = status.path("backup");
        if (b.isMissingNode() || b.isEmpty()) {
            return Optional.empty();
        }
        long waiting = b.path("waiting_segments").asLong(-1);
        JsonNode a = b.path("archiver");
        if (a.isMissingNode() || a.isNull()) {
            return Optional.of("unknown (PostgreSQL is not answering)");
        }
        String running = b.hasNonNull("backup_running") ? "; a scheduled " + b.path("backup_running").asText()
                + " backup runs here" : "";
        if (a.path("in_recovery").asBoolean()) {
            return Optional.of("follower: holds " + waiting + " segment(s) until the leader has archived them" + running);
        }
        return Optional.of(failure(b, nowMillis).map(f -> "FAILING: " + f).orElseGet(() -> "ok: " + lastArchived(a,
                nowMillis)) + "; " + waiting + " segment(s) waiting" + running);
    }

    /** Why archiving on this leader does not work, for the row and the warning below the table. */
    static Optional<String> failure(JsonNode b, long nowMillis) {
        if (b.isMissingNode() || b.path("archiver").path("in_recovery").asBoolean(true)) {
            return Optional.empty();
        }
        if (!b.path("repository_reachable").asBoolean(true)) {
            return Optional.of("the repository " + b.path("repository").asText() + " is missing (not mounted?)");
        }
        if (b.hasNonNull("stanza_problem")) {
            return Optional.of("the repository's stanza cannot be made: " + b.path("stanza_problem").asText());
        }
        JsonNode a = b.path("archiver");
        long failedAt = a.path("last_failed_at").asLong(0);
        long archivedAt = a.path("last_archived_at").asLong(0);
        // failures from before it led are its holding as a follower, not failed archiving
        if (failedAt > 0 && failedAt >= archivedAt && failedAt >= b.path("leading_since").asLong(0)) {
            return Optional.of("could not archive " + a.path("last_failed_wal").asText() + " ("
                    + a.path("failed_count").asLong() + " failure(s), the last " + age(failedAt, nowMillis)
                    + " ago); " + lastArchived(a, nowMillis));
        }
        return Optional.empty();
    }

    private static String lastArchived(JsonNode a, long nowMillis) {
        if (!a.hasNonNull("last_archived_wal")) {
            return "nothing archived yet";
        }
        return "last archived " + a.path("last_archived_wal").asText() + " " + age(a.path("last_archived_at").asLong(),
                nowMillis) + " ago";
    }

    private static String age(long epochSeconds, long nowMillis) {
        return Math.max(0, nowMillis / 1000 - epochSeconds) + " s";
    }
}
