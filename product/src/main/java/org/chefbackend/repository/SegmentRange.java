package org.chefbackend.repository;

/** Consecutive segments of one timeline, {@code first} to {@code last} included: a gap reads as one line. */
public record SegmentRange(WalSegment first, WalSegment last) {
    public SegmentRange {
        if (first.timeline() != last.timeline() || first.number() > last.number()) {
            throw new IllegalArgumentException("no segment range from " + first + " to " + last);
        }
    }

    /** How many segments the range holds. */
    public long count() {
        return last.number() - first.number() + 1;
    }

    /** "FIRST" for one segment, "FIRST..LAST" for more. */
    @Override
    public String toString() {
        return count() == 1 ? first.name() : first.name() + ".." + last.name();
    }
}
