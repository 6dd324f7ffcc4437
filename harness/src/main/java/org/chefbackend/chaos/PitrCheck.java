package org.chefbackend.chaos;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import org.chefbackend.bench.Writer;

/**
 * The checker of a restore to a moment (issue 22), on the writer's acknowledgements and the ids a restored database
 * holds. Times are on {@link org.chefbackend.bench.Procs#now()}'s clock, the one the acknowledgements carry.
 */
final class PitrCheck {
    /**
     * Writes within this many seconds of the target may go either way: the target is read from the wall clock while
     * the acknowledgements carry the monotonic one, read a few microseconds apart.
     */
    static final double SLACK = 0.25;
    private static final DateTimeFormatter TARGET_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'+00'")
            .withZone(ZoneOffset.UTC);

    private PitrCheck() {
    }

    /**
     * A moment both as recovery_target_time takes it (UTC, a whole second) and on the acknowledgements' clock.
     */
    record Target(String time, double at) {
        /** The whole second before {@code wall}, which was read at {@code mono} on the acknowledgements' clock. */
        static Target of(Instant wall, double mono) {
            Instant second = wall.truncatedTo(ChronoUnit.SECONDS);
            return new Target(TARGET_TIME.format(second), mono - (wall.toEpochMilli() - second.toEpochMilli()) / 1000.0);
        }

        /** The same rule applied {@code seconds} later: what the negative control claims the restore reached. */
        Target plus(double seconds) {
            return new Target(time + " + " + seconds + " s", at + seconds);
        }
    }

    /**
     * A restore to {@code target} judged: {@code before} writes acknowledged before it, {@code missingBefore} of them
     * absent; {@code after} acknowledged writes sent after it, and {@code presentAfter} ids of writes sent after it
     * (acknowledged or not: a commit whose acknowledgement was lost counts too) that are present; {@code inFlight}
     * acknowledged writes within {@link #SLACK} of it, which may go either way.
     */
    record Verdict(int before, int missingBefore, int after, int presentAfter, int inFlight) {
        /** Everything before present, nothing after, and writes on both sides to judge by. */
        boolean passed() {
            return before > 0 && after > 0 && missingBefore == 0 && presentAfter == 0;
        }
    }

    /**
     * The rule for a restore to a moment: every id acknowledged before it present, no id whose write started after it
     * present. The writer's ids grow with the order in which writes are sent, so every present id at or above the
     * first one sent after the target was sent after it.
     */
    static Verdict atTarget(List<Writer.Ack> acks, Target target, Set<Long> present) {
        int before = 0;
        int missing = 0;
        int after = 0;
        int inFlight = 0;
        long firstAfter = Long.MAX_VALUE;
        for (Writer.Ack a : acks) {
            if (a.at() < target.at() - SLACK) {
                before++;
                missing += present.contains(a.id()) ? 0 : 1;
            } else if (a.sent() > target.at() + SLACK) {
                after++;
                firstAfter = Math.min(firstAfter, a.id());
            } else {
                inFlight++;
            }
        }
        long from = firstAfter;
        int presentAfter = (int) present.stream().filter(id -> id >= from).count();
        return new Verdict(before, missing, after, presentAfter, inFlight);
    }

    /** Acknowledged ids the restored database does not hold. */
    static List<Long> missing(List<Writer.Ack> acks, Set<Long> present) {
        return acks.stream().map(Writer.Ack::id).filter(id -> !present.contains(id)).toList();
    }

    /**
     * The recovery point of a restore after every node was lost: {@code seconds} from the newest acknowledged write
     * present to the last acknowledged one (NaN when none is present); {@code holes}: acknowledged writes older than the
     * newest present one that are absent (a restore must hold a prefix of the history, never skip).
     */
    record RecoveryPoint(int acked, int present, double seconds, int holes) {
    }

    static RecoveryPoint recoveryPoint(List<Writer.Ack> acks, Set<Long> present) {
        double last = acks.stream().mapToDouble(Writer.Ack::at).max().orElse(Double.NaN);
        double newest = acks.stream().filter(a -> present.contains(a.id())).mapToDouble(Writer.Ack::at).max()
                .orElse(Double.NaN);
        int held = (int) acks.stream().filter(a -> present.contains(a.id())).count();
        int holes = (int) acks.stream().filter(a -> a.at() < newest && !present.contains(a.id())).count();
        return new RecoveryPoint(acks.size(), held, last - newest, holes);
    }
}
