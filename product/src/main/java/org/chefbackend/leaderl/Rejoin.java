package org.chefbackend.leaderl;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.chefbackend.cluster.Records;

/**
 * The shell's memory of one rejoin sequence per leader change: which leader this node is becoming a copy of, by
 * which path, how many attempts failed and when the next may start. Without it a node that is not yet streaming
 * looks like one that still has to rewind, and every iteration stopped PostgreSQL to rewind it again (20 cycles
 * seen). Rewinding is retried once after a failure (a clean retry); a base backup is the last resort, taken when
 * pg_rewind lacks WAL it needs or failed twice. Failed attempts back off: 5 s, 10 s, 20 s … up to 60 s.
 *
 * <p>Pure bookkeeping: times are {@link System#nanoTime()} values passed in. Not thread-safe; the loop's thread
 * owns it.
 */
final class Rejoin {
    enum Path {
        REWIND, NONE, BASEBACKUP;

        String jsonName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    static final long FIRST_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(5);
    static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** Failed rewinds after which only a base backup is left (the first one and its clean retry). */
    static final int REWIND_ATTEMPTS = 2;

    private String leader;
    private long startedNanos;
    private Path path;
    private int failures;
    private boolean rewindImpossible;
    private long retryAtNanos;
    private String lastFailure;
    private boolean reported;

    /** A rejoin of {@code leaderName} is about to run: a new leader starts a new sequence. */
    void begin(String leaderName, long now) {
        if (!leaderName.equals(leader) || path == Path.NONE && leader == null) {
            leader = leaderName;
            startedNanos = now;
            path = null;
            failures = 0;
            rewindImpossible = false;
            retryAtNanos = 0;
            lastFailure = null;
            reported = false;
        }
    }

    /**
     * A fenced former leader was made a standby with no upstream (nobody had led since it did): whichever leader it
     * then streams from, it rejoined without a rewind, its WAL ending where that leader's timeline began. Should
     * it have forked, the rewind that follows starts a sequence of its own.
     */
    void reinstated(long now) {
        leader = null;
        startedNanos = now;
        path = Path.NONE;
        failures = 0;
        rewindImpossible = false;
        retryAtNanos = 0;
        lastFailure = null;
        reported = false;
    }

    /** This node leads: a reinstated standby that was elected itself rejoined nobody. */
    void leading() {
        if (leader == null) {
            path = null;
        }
    }

    /** The data directory is now on {@code leader}'s timeline, by {@code how}. */
    void succeeded(Path how) {
        path = how; // failures stay counted: a rejoin that "succeeds" but leaves the node forked counts towards the base backup
        retryAtNanos = 0;
        if (how == Path.BASEBACKUP) {
            rewindImpossible = false;
        }
    }

    /**
     * An attempt failed. {@code walGone}: pg_rewind cannot find WAL it needs here, so a retry cannot help and the
     * base backup follows without waiting.
     */
    void failed(String why, boolean walGone, long now) {
        failures++;
        lastFailure = why;
        if (walGone || failures >= REWIND_ATTEMPTS) {
            rewindImpossible = true;
        }
        retryAtNanos = walGone && failures == 1 ? now : now + backoffNanos(failures);
    }

    /**
     * The node forked from the leader it had rejoined: that rejoin did not work, and counts as a failed attempt
     * (so a rejoin that keeps not working ends in a base backup, not in a rewind every few seconds).
     */
    void stillForked(String why, long now) {
        path = null;
        failed(why, false, now);
    }

    static long backoffNanos(int failures) {
        long b = FIRST_BACKOFF_NANOS << Math.min(failures - 1, 4);
        return Math.min(b, MAX_BACKOFF_NANOS);
    }

    /** The leader whose timeline this node's data directory was last made a copy of, null before any. */
    String rejoinedTo() {
        return path != null ? leader : null;
    }

    boolean rewindImpossible() {
        return rewindImpossible;
    }

    long retryAtNanos() {
        return retryAtNanos;
    }

    String lastFailure() {
        return lastFailure;
    }

    /**
     * This node streams from {@code upstream}: when that completes the current sequence, what to record (once per
     * sequence), else null.
     */
    Records.Rejoin streaming(String upstream, long now, long nowMillis) {
        if (reported || path == null || (leader != null && !upstream.equals(leader))) {
            return null;
        }
        reported = true;
        return new Records.Rejoin(upstream, path.jsonName(), Math.round((now - startedNanos) / 1e8) / 10.0, nowMillis);
    }
}
