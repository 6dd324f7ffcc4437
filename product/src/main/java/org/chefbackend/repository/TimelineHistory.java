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
        for (int i = 1; i < entries.size(); i++) {
            if (entries.get(i).switchpoint() < entries.get(i - 1).switchpoint()) {
                throw new IllegalArgumentException("history of timeline " + timeline + ": switchpoint "
                        + Lsn.format(entries.get(i).switchpoint()) + " goes back from "
                        + Lsn.format(entries.get(i - 1).switchpoint()));
            }
        }
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
        entries.forEach(e -> path.add(e.timeline()));
        path.add(timeline);
        return path;
    }

    /** Where {@code ancestor} ended on the way to this timeline; -1 for this timeline itself (still running). */
    public long switchpointOf(long ancestor) {
        if (ancestor == timeline) {
            return -1;
        }
        return entries.stream().filter(e -> e.timeline() == ancestor).mapToLong(Entry::switchpoint).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("timeline " + ancestor + " is not an ancestor of "
                        + timeline + " (its history: " + path() + ")"));
    }

    /** The timeline on this one's path that wrote the byte at {@code lsn}. */
    public long timelineAt(long lsn) {
        for (Entry e : entries) {
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
