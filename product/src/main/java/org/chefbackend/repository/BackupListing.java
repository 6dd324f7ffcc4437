package org.chefbackend.repository;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.chefbackend.repository.BackupInfo.Backup;

/**
 * The text {@code backup-list} prints: the backups, then the window a restore can reach. Times are UTC in
 * PostgreSQL's recovery_target_time syntax, so an operator can copy one into a restore; lines stay within 100
 * columns (each backup takes two).
 */
public final class BackupListing {
    /** What the operator runs when there is nothing to list. */
    public static final String NO_BACKUP = "no backup yet: take one with chef-backend-ctl backup --repository";
    private static final DateTimeFormatter TARGET_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'+00'")
            .withZone(ZoneOffset.UTC);
    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

    private BackupListing() {
    }

    /**
     * The listing of {@code info}'s stanza; {@code lastArchived} is the newest archived segment and
     * {@code lastArchivedAt} when it was stored (both null when nothing was archived).
     */
    public static String render(BackupInfo info, WalSegment lastArchived, Instant lastArchivedAt) {
        StringBuilder out = new StringBuilder();
        out.append("Stanza ").append(info.stanza()).append(": ").append(info.status().message());
        if (!info.status().ok()) {
            out.append(" (pgBackRest status ").append(info.status().code()).append(')');
        }
        out.append(", cipher ").append(info.cipher()).append('\n');
        if (info.backups().isEmpty()) {
            return out.append(NO_BACKUP).append('\n').toString();
        }
        table(out, info.backups());
        return out.append(window(info.oldestValid(), lastArchived, lastArchivedAt)).append('\n').toString();
    }

    /** {@code at} as PostgreSQL's recovery_target_time takes it, in UTC: "2026-12-07 07:06:25+00". */
    public static String recoveryTargetTime(Instant at) {
        return TARGET_TIME.format(at);
    }

    /** {@code bytes} in binary units, one decimal: "21.9 MiB". */
    public static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < UNITS.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, UNITS[unit]);
    }

    private static void table(StringBuilder out, List<Backup> backups) {
        int width = Math.max("LABEL".length(), backups.stream().mapToInt(b -> b.label().length()).max().orElse(0));
        String row = "%-" + width + "s  %-4s  %-22s  %s\n";
        out.append(String.format(row, "LABEL", "TYPE", "STARTED", "FINISHED"));
        out.append("    database size / repository size, WAL start..stop\n");
        for (Backup b : backups) {
            out.append(String.format(row, b.label(), b.type().name().toLowerCase(Locale.ROOT),
                    recoveryTargetTime(b.started()), recoveryTargetTime(b.stopped())));
            out.append("    ").append(size(b.databaseSize())).append(" / ").append(size(b.repositorySize()))
                    .append(", WAL ").append(b.archiveStart() == null ? "?" : b.archiveStart().name()).append("..")
                    .append(b.archiveStop() == null ? "?" : b.archiveStop().name())
                    .append(b.error() ? "; taken with errors (page checksums): not counted below" : "").append('\n');
        }
    }

    private static String window(Optional<Backup> oldest, WalSegment lastArchived, Instant lastArchivedAt) {
        if (oldest.isEmpty()) {
            return "Recoverable window: none: every backup was taken with errors";
        }
        Instant from = oldest.get().stopped();
        String start = "Recoverable window: from " + recoveryTargetTime(from);
        if (lastArchived == null || lastArchivedAt == null) {
            return start + " only: no archived WAL segment is known";
        }
        if (lastArchivedAt.isBefore(from)) {
            return "Recoverable window: none: the last archived segment " + lastArchived.name() + " ("
                    + recoveryTargetTime(lastArchivedAt) + ")\n  is older than the oldest backup's end";
        }
        return start + " to " + recoveryTargetTime(lastArchivedAt) + "\n  (last archived segment "
                + lastArchived.name() + ")";
    }
}
