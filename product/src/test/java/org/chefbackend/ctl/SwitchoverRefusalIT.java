package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.chefbackend.testing.TestNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * leaderl's refusal of a switchover reaches the operator as soon as it is decided, with its reason (issue: demote
 * on a one-node cluster waited 60 s, then said "refused or timed out").
 */
class SwitchoverRefusalIT {
    static final Path ROOT = Path.of("/tmp/cbit-h19b/refusal");
    /** Well under the 60 s the command used to wait, with room for a loaded machine. */
    static final Duration ANSWERS_WITHIN = Duration.ofSeconds(15);
    TestNode node;

    @AfterEach
    void cleanUp() {
        if (node != null) {
            node.destroy();
        }
    }

    @Test
    void demoteWithNoFollowerIsRefusedAtOnceSayingWhy() throws Exception {
        node = TestNode.create("127.0.0.127", ROOT, TestNode.secrets());
        node.ctlOk("create-cluster", "-y");
        long askedAt = System.nanoTime();
        try (TestNode.Background demote = node.ctlInBackground("demote")) {
            TestNode.Run r = demote.awaitExit(ANSWERS_WITHIN).orElseThrow(() -> new AssertionError(
                    "demote still waits after " + ANSWERS_WITHIN.toSeconds() + " s; it printed: " + demote.out()));
            System.out.printf("demote exited %d after %d ms: %s", r.code(), (System.nanoTime() - askedAt) / 1_000_000,
                    r.err());
            assertNotEquals(0, r.code(), r.out() + r.err());
            assertEquals(1, r.err().lines().count(), "not one line: " + r.err());
            assertTrue(r.err().contains("demote of " + node.name + " refused: no eligible follower to hand over to"),
                    r.err());
        }
    }
}
