package org.chefbackend.repository;

import java.util.regex.Pattern;

/**
 * One 16 MB WAL segment of one timeline: what PostgreSQL names {@code TTTTTTTTXXXXXXXXYYYYYYYY} (timeline, then
 * the segment number split into "log" and "segment" parts, 256 segments a log). Ordered by timeline, then number,
 * so sorted lists read like an archive directory.
 */
public record WalSegment(long timeline, long number) implements Comparable<WalSegment> {
    /** The segment size this product's PostgreSQL is built with (initdb's default). */
    public static final long BYTES = 16L << 20;
    /** Segments in one "log" (the XXXXXXXX part): 4 GB of WAL. */
    public static final long PER_LOG = 0x1_0000_0000L / BYTES;
    static final long MAX_TIMELINE = 0xFFFF_FFFFL;
    static final long MAX_NUMBER = 0xFFFF_FFFFL * PER_LOG + PER_LOG - 1;
    private static final Pattern NAME = Pattern.compile("[0-9A-F]{24}");

    public WalSegment {
        if (timeline < 1 || timeline > MAX_TIMELINE) {
            throw new IllegalArgumentException("timeline " + timeline + " is outside 1.." + MAX_TIMELINE);
        }
        if (number < 0 || number > MAX_NUMBER) {
            throw new IllegalArgumentException("segment number " + number + " is outside 0.." + MAX_NUMBER);
        }
    }

    /** The segment {@code name} (24 upper-case hex digits) names; {@link IllegalArgumentException} saying why not. */
    public static WalSegment parse(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not a WAL segment name (24 upper-case hex digits): " + quoted(name));
        }
        long timeline = Long.parseLong(name.substring(0, 8), 16);
        long log = Long.parseLong(name.substring(8, 16), 16);
        long segment = Long.parseLong(name.substring(16), 16);
        if (timeline == 0) {
            throw new IllegalArgumentException("not a WAL segment name: timeline 0 does not exist: " + name);
        }
        if (segment >= PER_LOG) {
            throw new IllegalArgumentException("not a 16 MB WAL segment name: its last 8 digits run 00000000.."
                    + String.format("%08X", PER_LOG - 1) + ": " + name);
        }
        return new WalSegment(timeline, log * PER_LOG + segment);
    }

    /** The segment of {@code timeline} that holds the byte at {@code lsn} ("0/5000028"). */
    public static WalSegment containing(long timeline, String lsn) {
        return containing(timeline, Lsn.parse(lsn));
    }

    /** The segment of {@code timeline} that holds the byte at {@code lsn}. */
    public static WalSegment containing(long timeline, long lsn) {
        if (lsn < 0) {
            throw new IllegalArgumentException("LSN " + Lsn.format(lsn) + " is beyond any segment");
        }
        return new WalSegment(timeline, lsn / BYTES);
    }

    /** The segment after this one on the same timeline. */
    public WalSegment next() {
        return new WalSegment(timeline, number + 1);
    }

    /** The segment with the same number on {@code other}: where recovery looks when it switches timelines. */
    public WalSegment onTimeline(long other) {
        return new WalSegment(other, number);
    }

    /** The position of this segment's first byte. */
    public long startLsn() {
        return number * BYTES;
    }

    /** The file name PostgreSQL gives this segment. */
    public String name() {
        return String.format("%08X%08X%08X", timeline, number / PER_LOG, number % PER_LOG);
    }

    @Override
    public int compareTo(WalSegment o) {
        int byTimeline = Long.compare(timeline, o.timeline);
        return byTimeline != 0 ? byTimeline : Long.compare(number, o.number);
    }

    @Override
    public String toString() {
        return name();
    }

    static String quoted(String s) {
        return s == null ? "null" : "\"" + (s.length() > 80 ? s.substring(0, 80) + "..." : s) + "\"";
    }
}
