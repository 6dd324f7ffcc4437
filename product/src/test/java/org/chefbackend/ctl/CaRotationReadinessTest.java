package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class CaRotationReadinessTest {
    static final String NEXT = "n".repeat(64);

    static CaRotationReadiness.Answer at(String node, int phase) {
        return new CaRotationReadiness.Answer(node, 200, NEXT, phase, null, null);
    }

    @Test
    void nodesAtTheSamePhaseAreReadyForTheNext() {
        List<CaRotationReadiness.Answer> all = List.of(at("a", 0), at("b", 0), at("c", 0));
        assertEquals(List.of(), CaRotationReadiness.problems(NEXT, all));
        assertEquals(0, CaRotationReadiness.lowest(all));
    }

    @Test
    void aRunCutShortGoesOnFromTheLowestPhase() {
        List<CaRotationReadiness.Answer> all = List.of(at("a", 2), at("b", 1), at("c", 1));
        assertEquals(List.of(), CaRotationReadiness.problems(NEXT, all));
        assertEquals(1, CaRotationReadiness.lowest(all));
    }

    @Test
    void nodesTwoPhasesApartAreRefused() {
        assertEquals(List.of("the nodes are more than one phase apart (a 2, b 0)"),
                CaRotationReadiness.problems(NEXT, List.of(at("a", 2), at("b", 0))));
    }

    @Test
    void eachNodeThatIsNotReadyIsNamed() {
        List<CaRotationReadiness.Answer> answers = List.of(at("a", 0),
                new CaRotationReadiness.Answer("b", 200, null, null, "no /etc/chef-backend/x.next-ca", null),
                new CaRotationReadiness.Answer("c", 200, "d".repeat(64), 0, null, null),
                new CaRotationReadiness.Answer("d", 0, null, null, null, "its agent does not answer"));
        assertEquals(List.of("b: no /etc/chef-backend/x.next-ca", "c: its next CA file differs from this node's",
                "d: its agent does not answer"), CaRotationReadiness.problems(NEXT, answers));
    }
}
