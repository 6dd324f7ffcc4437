package org.chefbackend.repository;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Which WAL a restore would need and the archive lacks, along the path PostgreSQL recovery follows: on each
 * timeline from the oldest backup's first segment until the segment where the next timeline began (that one's
 * copy on the child is read, the parent's may be a mere {@code .partial}), then on the child from that same
 * segment, up to the newest archived segment. Segments of forks that recovery never follows are not missing.
 */
public final class ArchiveGaps {
    private ArchiveGaps() {
    }

    /** One segment that pgBackRest holds more than once (different checksums): it refuses to restore it. */
    public record Conflict(WalSegment segment, List<String> storedNames) {
    }

    /**
     * What the check found.
     *
     * @param path the timelines recovery passes through, from the start's to the end's
     * @param missing segments recovery needs that are not archived
     * @param missingHistories timelines on the path (from the start's on, after timeline 1) without their history file
     * @param conflicts segments stored twice
     * @param abandoned archived segments (full or .partial) of forks that recovery does not follow
     * @param unrecognized names that are no archived WAL; ignored
     * @param problem why the path itself could not be checked (the start is not on it, ...); null when it was
     */
    public record Report(List<Long> path, List<SegmentRange> missing, List<Long> missingHistories,
            List<Conflict> conflicts, List<SegmentRange> abandoned, List<String> unrecognized, String problem) {
        /** Whether a restore from the start to the end has every file it needs, each once. */
        public boolean recoverable() {
            return problem == null && missing.isEmpty() && missingHistories.isEmpty() && conflicts.isEmpty();
        }

        /** Segments missing, in all ranges. */
        public long missingCount() {
            return missing.stream().mapToLong(SegmentRange::count).sum();
        }

        /** The finding as one line for an operator. */
        public String summary() {
            if (recoverable()) {
                return "WAL archive complete along timeline(s) " + joined(path, " -> ")
                        + (abandoned.isEmpty() ? "" : "; not followed (abandoned forks): " + joined(abandoned, ", "));
            }
            List<String> parts = new ArrayList<>();
            if (problem != null) {
                parts.add(problem);
            }
            if (!missing.isEmpty()) {
                parts.add(missingCount() + " segment(s) missing: " + joined(missing, ", "));
            }
            if (!missingHistories.isEmpty()) {
                parts.add("history file(s) missing: " + missingHistories.stream()
                        .map(t -> WalFileName.history(t).name()).collect(Collectors.joining(", ")));
            }
            if (!conflicts.isEmpty()) {
                parts.add("stored twice with different checksums (pgBackRest refuses them): " + conflicts.stream()
                        .map(c -> c.segment().name()).collect(Collectors.joining(", ")));
            }
            return "WAL archive incomplete: " + String.join("; ", parts);
        }

        private static String joined(List<?> items, String separator) {
            return items.stream().map(String::valueOf).collect(Collectors.joining(separator));
        }
    }

    /**
     * Checks the files of one archive directory ({@code storedNames}, directories before a '/' ignored) against
     * the path from {@code start} (the oldest kept backup's first segment) to {@code end} (the newest archived).
     * {@code histories} holds the content of the history files present, by timeline; one present but not given is
     * a caller's mistake ({@link IllegalArgumentException}).
     */
    public static Report check(Collection<String> storedNames, Map<Long, TimelineHistory> histories,
            WalSegment start, WalSegment end) {
        Archive archive = Archive.of(storedNames);
        histories.forEach((timeline, history) -> {
            if (history.timeline() != timeline) {
                throw new IllegalArgumentException("history of timeline " + history.timeline() + " given as " + timeline
                        + "'s");
            }
        });
        TimelineHistory toEnd = end.timeline() == 1 ? new TimelineHistory(1, List.of()) : histories.get(end.timeline());
        if (toEnd == null && archive.histories.contains(end.timeline())) {
            throw new IllegalArgumentException("history of timeline " + end.timeline()
                    + " is in the archive but its content was not given");
        }
        if (toEnd == null && start.timeline() == end.timeline()) {
            toEnd = new TimelineHistory(end.timeline(), List.of());
        }
        if (toEnd == null) {
            return archive.report(List.of(end.timeline()), List.of(), List.of(end.timeline()), List.of(),
                    WalFileName.history(end.timeline()).name() + " is missing: which timelines lead to timeline "
                            + end.timeline() + " is unknown");
        }
        return new Walk(archive, toEnd, start, end).report();
    }

    /** The walk along one path; each timeline's segments are checked in one pass over what is present. */
    private static final class Walk {
        private final Archive archive;
        private final TimelineHistory history;
        private final WalSegment start;
        private final WalSegment end;
        private final List<Long> path;

        Walk(Archive archive, TimelineHistory history, WalSegment start, WalSegment end) {
            this.archive = archive;
            this.history = history;
            this.start = start;
            this.end = end;
            List<Long> all = history.path();
            int from = all.indexOf(start.timeline());
            this.path = from < 0 ? all : all.subList(from, all.size());
        }

        Report report() {
            String problem = pathProblem();
            if (problem != null) {
                return archive.report(path, List.of(), List.of(), List.of(), problem);
            }
            List<SegmentRange> missing = new ArrayList<>();
            for (long timeline : path) {
                long from = timeline == start.timeline() ? start.number() : firstSegment(timeline);
                long to = timeline == end.timeline() ? end.number() : switchSegment(timeline) - 1;
                missing.addAll(archive.gaps(timeline, from, to));
            }
            List<Long> missingHistories = path.stream()
                    .filter(t -> t > 1 && !archive.histories.contains(t)).toList();
            TreeSet<WalSegment> abandoned = new TreeSet<>();
            archive.segments().forEach(s -> {
                if (!history.path().contains(s.timeline())
                        || (s.timeline() != end.timeline() && s.number() > switchSegment(s.timeline()))) {
                    abandoned.add(s);
                }
            });
            return archive.report(path, missing, missingHistories, Archive.ranges(abandoned), null);
        }

        private String pathProblem() {
            if (!history.path().contains(start.timeline())) {
                return "the start " + start + " is on timeline " + start.timeline() + ", which is not on the path to"
                        + " timeline " + end.timeline() + " (" + history.path() + ")";
            }
            if (start.number() < firstSegment(start.timeline())) {
                return "the start " + start + " precedes timeline " + start.timeline() + "'s beginning";
            }
            if (start.timeline() != end.timeline() && start.number() > switchSegment(start.timeline())) {
                return "the start " + start + " lies after timeline " + start.timeline() + " ended at "
                        + Lsn.format(history.switchpointOf(start.timeline()));
            }
            if (end.number() < firstSegment(end.timeline()) || (start.timeline() == end.timeline()
                    && end.number() < start.number())) {
                return "the end " + end + " precedes the start " + start + " or its timeline's beginning";
            }
            return null;
        }

        /** The segment where {@code timeline} began: the one holding its parent's switchpoint. */
        private long firstSegment(long timeline) {
            int i = history.path().indexOf(timeline);
            return i == 0 ? 0 : switchSegment(history.path().get(i - 1));
        }

        /** The segment holding the switchpoint where {@code timeline} ended; recovery reads the child's copy. */
        private long switchSegment(long timeline) {
            return history.switchpointOf(timeline) / WalSegment.BYTES;
        }
    }

    /** The archive directory's files, sorted by what they hold. */
    private static final class Archive {
        final SortedMap<WalSegment, List<String>> full = new TreeMap<>();
        final NavigableSet<WalSegment> partials = new TreeSet<>();
        final NavigableSet<Long> histories = new TreeSet<>();
        final List<String> unrecognized = new ArrayList<>();

        static Archive of(Collection<String> storedNames) {
            Archive a = new Archive();
            for (String path : storedNames) {
                String name = path.substring(path.lastIndexOf('/') + 1);
                if (!ArchivedFile.matches(name)) {
                    a.unrecognized.add(path);
                    continue;
                }
                WalFileName wal = ArchivedFile.parse(name).wal();
                switch (wal.kind()) {
                    case SEGMENT -> a.full.computeIfAbsent(wal.segment(), s -> new ArrayList<>()).add(name);
                    case PARTIAL -> a.partials.add(wal.segment());
                    case HISTORY -> a.histories.add(wal.timeline());
                    case BACKUP -> {
                        // a backup's label: information only, recovery reads none
                    }
                }
            }
            return a;
        }

        NavigableSet<WalSegment> segments() {
            NavigableSet<WalSegment> all = new TreeSet<>(full.keySet());
            all.addAll(partials);
            return all;
        }

        /** The missing stretches of {@code from..to} on {@code timeline}; nothing when the range is empty. */
        List<SegmentRange> gaps(long timeline, long from, long to) {
            List<SegmentRange> gaps = new ArrayList<>();
            if (from > to) {
                return gaps;
            }
            long next = from;
            for (WalSegment s : full.subMap(new WalSegment(timeline, from), new WalSegment(timeline, to).next())
                    .keySet()) {
                if (s.number() > next) {
                    gaps.add(new SegmentRange(new WalSegment(timeline, next), new WalSegment(timeline, s.number() - 1)));
                }
                next = s.number() + 1;
            }
            if (next <= to) {
                gaps.add(new SegmentRange(new WalSegment(timeline, next), new WalSegment(timeline, to)));
            }
            return gaps;
        }

        Report report(List<Long> path, List<SegmentRange> missing, List<Long> missingHistories,
                List<SegmentRange> abandoned, String problem) {
            List<Conflict> conflicts = full.entrySet().stream().filter(e -> e.getValue().size() > 1)
                    .map(e -> new Conflict(e.getKey(), e.getValue().stream().sorted().toList())).toList();
            return new Report(List.copyOf(path), List.copyOf(missing), List.copyOf(missingHistories), conflicts,
                    List.copyOf(abandoned), List.copyOf(unrecognized), problem);
        }

        static List<SegmentRange> ranges(NavigableSet<WalSegment> segments) {
            List<SegmentRange> ranges = new ArrayList<>();
            WalSegment first = null;
            WalSegment last = null;
            for (WalSegment s : segments) {
                if (last != null && (s.timeline() != last.timeline() || s.number() != last.number() + 1)) {
                    ranges.add(new SegmentRange(first, last));
                    first = null;
                }
                first = first == null ? s : first;
                last = s;
            }
            if (first != null) {
                ranges.add(new SegmentRange(first, last));
            }
            return ranges;
        }
    }
}
