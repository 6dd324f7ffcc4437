package org.chefbackend.repository;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The names of the files PostgreSQL archives: a full segment, a segment's {@code .partial} start (left by a promoted
 * standby), a timeline's {@code .history}, and a backup's {@code .backup} label. Anything else is refused, so a
 * stray file is never read as WAL.
 *
 * @param segment the segment named; null for a history file
 * @param timeline the timeline (the segment's for segment kinds)
 * @param backupOffset for {@link Kind#BACKUP}: the backup's start offset in its segment; else 0
 */
public record WalFileName(Kind kind, WalSegment segment, long timeline, long backupOffset) {
    /** What the file holds. */
    public enum Kind { SEGMENT, PARTIAL, HISTORY, BACKUP }

    private static final Pattern SHAPE = Pattern.compile(
            "(?<segment>[0-9A-F]{24})(?:(?<partial>\\.partial)|\\.(?<offset>[0-9A-F]{8})\\.backup)?"
                    + "|(?<history>[0-9A-F]{8})\\.history");

    public WalFileName {
        if ((segment == null) != (kind == Kind.HISTORY)) {
            throw new IllegalArgumentException(kind + " file name " + (segment == null ? "without" : "with")
                    + " a segment");
        }
        if (segment != null && segment.timeline() != timeline) {
            throw new IllegalArgumentException("segment " + segment + " is not on timeline " + timeline);
        }
        if (backupOffset < 0 || backupOffset >= WalSegment.BYTES || (backupOffset != 0 && kind != Kind.BACKUP)) {
            throw new IllegalArgumentException("backup offset " + backupOffset + " does not fit a " + kind + " name");
        }
    }

    /** A full segment's name. */
    public static WalFileName segment(WalSegment segment) {
        return new WalFileName(Kind.SEGMENT, segment, segment.timeline(), 0);
    }

    /** The name of a segment's {@code .partial} file. */
    public static WalFileName partial(WalSegment segment) {
        return new WalFileName(Kind.PARTIAL, segment, segment.timeline(), 0);
    }

    /** The name of {@code timeline}'s history file. */
    public static WalFileName history(long timeline) {
        if (timeline < 2 || timeline > WalSegment.MAX_TIMELINE) {
            throw new IllegalArgumentException("timeline " + timeline + " has no history file: they run 2.."
                    + WalSegment.MAX_TIMELINE);
        }
        return new WalFileName(Kind.HISTORY, null, timeline, 0);
    }

    /** The name of the label of a backup that started at {@code lsn} on {@code timeline}. */
    public static WalFileName backupLabel(long timeline, long lsn) {
        WalSegment segment = WalSegment.containing(timeline, lsn);
        return new WalFileName(Kind.BACKUP, segment, timeline, lsn % WalSegment.BYTES);
    }

    /** What {@code name} names; {@link IllegalArgumentException} saying why it is no archived WAL file name. */
    public static WalFileName parse(String name) {
        Matcher m = name == null ? null : SHAPE.matcher(name);
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("not a WAL file name (a 24-hex-digit segment, optionally .partial,"
                    + " NNNNNNNN.history or a segment's .XXXXXXXX.backup label): " + WalSegment.quoted(name));
        }
        if (m.group("history") != null) {
            return history(Long.parseLong(m.group("history"), 16));
        }
        WalSegment segment = WalSegment.parse(m.group("segment"));
        if (m.group("partial") != null) {
            return partial(segment);
        }
        if (m.group("offset") != null) {
            return backupLabel(segment.timeline(), segment.startLsn() + Long.parseLong(m.group("offset"), 16));
        }
        return segment(segment);
    }

    /** The file name PostgreSQL uses. */
    public String name() {
        return switch (kind) {
            case SEGMENT -> segment.name();
            case PARTIAL -> segment.name() + ".partial";
            case HISTORY -> String.format("%08X.history", timeline);
            case BACKUP -> String.format("%s.%08X.backup", segment.name(), backupOffset);
        };
    }

    @Override
    public String toString() {
        return name();
    }
}
