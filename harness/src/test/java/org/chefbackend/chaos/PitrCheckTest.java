package org.chefbackend.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.chefbackend.bench.Writer;
import org.junit.jupiter.api.Test;

class PitrCheckTest {
    /** A write every second from t = 1 to 40: id i sent at i, acknowledged 0.1 s later. */
    static final List<Writer.Ack> ACKS = LongStream.rangeClosed(1, 40).mapToObj(i -> new Writer.Ack(i, i + 0.1, i))
            .toList();
    static final PitrCheck.Target T1 = new PitrCheck.Target("2026-12-07 07:06:25+00", 20.05);

    /** What a restore that stopped exactly at T1 holds: every write committed before it. */
    static Set<Long> restoredAtT1() {
        return ids(1, 19);
    }

    static Set<Long> ids(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().collect(Collectors.toCollection(HashSet::new));
    }

    @Test
    void theTargetIsTheWholeSecondBeforeTheWallClockOnTheAcknowledgementsClock() {
        PitrCheck.Target t = PitrCheck.Target.of(Instant.parse("2026-12-07T07:06:25.750Z"), 100.0);
        assertEquals("2026-12-07 07:06:25+00", t.time());
        assertEquals(99.25, t.at(), 1e-9);
    }

    @Test
    void aRestoreHoldingEverythingBeforeTheTargetAndNothingAfterPasses() {
        PitrCheck.Verdict v = PitrCheck.atTarget(ACKS, T1, restoredAtT1());
        assertEquals(new PitrCheck.Verdict(19, 0, 20, 0, 1), v); // id 20 (sent 20.0, acked 20.1) is in flight
        assertTrue(v.passed());
        Set<Long> withInFlight = restoredAtT1();
        withInFlight.add(20L);
        assertTrue(PitrCheck.atTarget(ACKS, T1, withInFlight).passed(), "a write in flight at T1 may be present");
    }

    @Test
    void anAcknowledgedWriteBeforeTheTargetMissingFails() {
        Set<Long> restored = restoredAtT1();
        restored.remove(7L);
        PitrCheck.Verdict v = PitrCheck.atTarget(ACKS, T1, restored);
        assertEquals(1, v.missingBefore());
        assertFalse(v.passed());
    }

    @Test
    void anyWriteSentAfterTheTargetPresentFailsAcknowledgedOrNot() {
        Set<Long> restored = restoredAtT1();
        restored.add(25L);
        assertEquals(1, PitrCheck.atTarget(ACKS, T1, restored).presentAfter());
        assertFalse(PitrCheck.atTarget(ACKS, T1, restored).passed());
        Set<Long> unacknowledged = restoredAtT1();
        unacknowledged.add(41L); // sent after the last acknowledgement, its commit answer lost
        assertFalse(PitrCheck.atTarget(ACKS, T1, unacknowledged).passed());
    }

    @Test
    void theNegativeControlClaimingALaterMomentFailsOnTheSameRestore() {
        PitrCheck.Verdict control = PitrCheck.atTarget(ACKS, T1.plus(Pitr.CONTROL_SECONDS), restoredAtT1());
        assertFalse(control.passed());
        assertEquals(20, control.missingBefore()); // ids 20..39 were acknowledged before T1 + 20 s
    }

    @Test
    void aRestoreWithNothingOnOneSideProvesNothing() {
        assertFalse(PitrCheck.atTarget(ACKS, new PitrCheck.Target("x", 100), ids(1, 40)).passed(), "nothing sent after");
        assertFalse(PitrCheck.atTarget(ACKS, new PitrCheck.Target("x", 0), Set.of()).passed(), "nothing acknowledged before");
    }

    @Test
    void theRecoveryPointRunsFromTheNewestAcknowledgedWritePresentToTheLastOne() {
        PitrCheck.RecoveryPoint p = PitrCheck.recoveryPoint(ACKS, ids(1, 10));
        assertEquals(40, p.acked());
        assertEquals(10, p.present());
        assertEquals(30.0, p.seconds(), 1e-9);
        assertEquals(0, p.holes());
        Set<Long> withHole = ids(1, 10);
        withHole.remove(4L);
        assertEquals(1, PitrCheck.recoveryPoint(ACKS, withHole).holes());
        assertTrue(Double.isNaN(PitrCheck.recoveryPoint(ACKS, Set.of()).seconds()));
        assertEquals(List.of(11L, 12L), PitrCheck.missing(ACKS.subList(0, 12), ids(1, 10)));
    }
}
