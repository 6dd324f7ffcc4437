package org.chefbackend.repository;

import java.util.ArrayList;
import java.util.List;

/**
 * A timeline's ancestry as its history file ({@code NNNNNNNN.history}) records it: each line names an ancestor
 * timeline and the position where it ended (the next one began there). Recovery follows these to pick, for each
 * segment, the timeline whose copy to read; the checks mirror PostgreSQL's readTimeLineHistory.
 *
 * @param entries the ancestors, oldest first; empty for timeline 1 (or a history that names no parent)
 */
public record TimelineHistory(long timeline, List<Entry> entries) {
    /** Ancestor {@code timeline} ran until {@code switchpoint}, where its child began, for {@code reason}. */
    public record Entry(long timeline, long switchpoint, String reason) {
    }

    public TimelineHistory {
        entries = List.copyOf(entries);
        long last = 0;
        for (Entry e : entries) {
            if (e.timeline() <= last) {
                throw new IllegalArgumentException("history of timeline " + timeline
                        + ": timeline IDs must be in increasing sequence (" + e.timeline() + " after " + last + ")");
            }
            last = e.timeline();
        }
        if (last >= timeline) {
            throw new IllegalArgumentException("history of timeline " + timeline
                    + ": timeline IDs must be less than the child timeline's ID (" + last + ")");
        }
    }

    /**
     * The ancestors recovery actually reads, oldest first, each ending where it hands over. A switchpoint may go back
     * from the one before it: a point-in-time restore that stopped on an older ancestor's stretch of its target's
     * history (timeline 3 made from timeline 2's history at a point timeline 1 wrote). PostgreSQL reads the newest entry
     * whose stretch holds a position (tliOfPointInHistory over readTimeLineHistory's newest-first list), so an ancestor
     * that began at or after a later switchpoint is passed over, and one that ran past it ends there.
     */
    public List<Entry> effective() {
        List<Entry> out = new ArrayList<>();
        long cutoff = Long.MAX_VALUE; // where the newer timelines' stretches begin
        for (int i = entries.size() - 1; i >= 0; i--) {
            Entry e = entries.get(i);
            long begin = i == 0 ? 0 : entries.get(i - 1).switchpoint();
            long end = Math.min(e.switchpoint(), cutoff);
            cutoff = Math.min(cutoff, e.switchpoint());
            if (begin < end) {
                out.add(0, new Entry(e.timeline(), end, e.reason()));
                cutoff = Math.min(cutoff, begin);
            }
        }
        return out;
    }

    /**
     * The history file {@code content} of {@code timeline}: lines "parent TAB switchpoint TAB reason"; blank lines
     * and {@code #} comments are skipped. {@link IllegalArgumentException} naming the line that is none of these.
     */
    public static TimelineHistory parse(long timeline, String content) {
        List<Entry> entries = new ArrayList<>();
        String[] lines = content.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] fields = line.split("\\s+", 3);
            String where = "history of timeline " + timeline + ", line " + (i + 1) + ": ";
            if (fields.length < 2) {
                throw new IllegalArgumentException(where + "expected a WAL location switchpoint after the timeline: "
                        + WalSegment.quoted(line));
            }
            long parent;
            long switchpoint;
            try {
                parent = Long.parseUnsignedLong(fields[0]);
                switchpoint = Lsn.parse(fields[1]);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + "syntax error (want timeline, tab, LSN like 0/9000050): "
                        + WalSegment.quoted(line));
            }
            entries.add(new Entry(parent, switchpoint, fields.length == 3 ? fields[2] : ""));
        }
        return new TimelineHistory(timeline, entries);
    }

    /** The timelines recovery passes through to reach this one, oldest first, this one last. */
    public List<Long> path() {
        List<Long> path = new ArrayList<>();
        effective().forEach(e -> path.add(e.timeline()));
        path.add(timeline);
        return path;
    }

    /** Where {@code ancestor} ended on the way to this timeline; -1 for this timeline itself (still running). */
    public long switchpointOf(long ancestor) {
        if (ancestor == timeline) {
            return -1;
        }
        return effective().stream().filter(e -> e.timeline() == ancestor).mapToLong(Entry::switchpoint).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("timeline " + ancestor + " is not an ancestor of "
                        + timeline + " (its history: " + path() + ")"));
    }

    /** The timeline on this one's path that wrote the byte at {@code lsn}. */
    public long timelineAt(long lsn) {
        for (Entry e : effective()) {
            if (lsn < e.switchpoint()) {
                return e.timeline();
            }
        }
        return timeline;
    }

    /** The content of the history file PostgreSQL would have written for this ancestry. */
    public String content() {
        StringBuilder out = new StringBuilder();
        entries.forEach(e -> out.append(e.timeline()).append('\t').append(Lsn.format(e.switchpoint())).append('\t')
                .append(e.reason()).append('\n'));
        return out.toString();
    }
}
