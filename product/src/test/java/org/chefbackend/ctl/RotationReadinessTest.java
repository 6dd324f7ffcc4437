package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class RotationReadinessTest {
    static final String CURRENT = "c".repeat(64);
    static final String NEXT = "n".repeat(64);

    static RotationReadiness.Answer ready(String node) {
        return new RotationReadiness.Answer(node, 200, CURRENT, NEXT, null, null);
    }

    @Test
    void everyNodeHoldingTheSameNextFileIsReady() {
        List<RotationReadiness.Answer> all = List.of(ready("a"), ready("b"), ready("c"));
        assertEquals(List.of(), RotationReadiness.problems(CURRENT, NEXT, all));
        assertEquals(List.of("a", "b", "c"), RotationReadiness.pending(NEXT, all));
    }

    @Test
    void eachNodeThatIsNotReadyIsNamedWithItsReason() {
        List<RotationReadiness.Answer> answers = List.of(ready("a"),
                new RotationReadiness.Answer("b", 200, CURRENT, null, "no /etc/chef-backend/x.next", null),
                new RotationReadiness.Answer("c", 200, CURRENT, "d".repeat(64), null, null),
                new RotationReadiness.Answer("d", 200, "e".repeat(64), NEXT, null, null),
                new RotationReadiness.Answer("e", 0, null, null, null, "its agent does not answer"),
                new RotationReadiness.Answer("f", 401, null, null, null, "admin call not signed with this node's key"));
        assertEquals(List.of("b: no /etc/chef-backend/x.next", "c: its next secrets file differs from this node's",
                "d holds other secrets than this node", "e: its agent does not answer",
                "f: admin call not signed with this node's key"), RotationReadiness.problems(CURRENT, NEXT, answers));
    }

    @Test
    void aNodeThatSwitchedInARunBeforeIsReadyAndNotPending() {
        List<RotationReadiness.Answer> answers = List.of(ready("a"),
                new RotationReadiness.Answer("b", 200, NEXT, null, "no x.next", null));
        assertEquals(List.of(), RotationReadiness.problems(CURRENT, NEXT, answers));
        assertEquals(List.of("a"), RotationReadiness.pending(NEXT, answers));
    }

    @Test
    void aNextFileThatWouldNotDoIsRefusedEvenWithTheRightFingerprint() {
        List<RotationReadiness.Answer> answers = List.of(
                new RotationReadiness.Answer("a", 200, CURRENT, NEXT, "the next secrets hold another cluster CA", null));
        assertEquals(List.of("a: the next secrets hold another cluster CA"),
                RotationReadiness.problems(CURRENT, NEXT, answers));
    }
}
