package org.chefbackend.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.List;
import org.junit.jupiter.api.Test;

class HealthMonitorTest {
    @Test
    void aCheckFailsOnlyAfterMaxConsecutiveFailures() {
        ArrayDeque<Boolean> results = new ArrayDeque<>(List.of(false, false, true, false, false, false));
        HealthMonitor m = new HealthMonitor().add("pgsql", 3, HealthMonitor.Probe.of(results::poll, "down"));
        m.runOnce(1);
        m.runOnce(2);
        assertTrue(m.checks().get("pgsql").healthy(), "two failures are under the threshold of three");
        m.runOnce(3); // success resets the count
        assertEquals(0, m.checks().get("pgsql").consecutiveFailures());
        m.runOnce(4);
        m.runOnce(5);
        assertTrue(m.checks().get("pgsql").healthy());
        m.runOnce(6);
        assertFalse(m.checks().get("pgsql").healthy());
        assertEquals(6, m.checks().get("pgsql").lastRunMillis());
    }

    @Test
    void aFailedCheckSaysWhatItsLastProbeSaid() {
        ArrayDeque<String> answers = new ArrayDeque<>(List.of("no elected cluster manager", "not answering"));
        HealthMonitor m = new HealthMonitor().add("elasticsearch", 2, answers::poll).add("etcd", 1, () -> null);
        m.runOnce(1);
        assertTrue(m.failing().isEmpty(), "one failure of two allowed: not failing yet");
        assertFalse(m.allPassing(List.of("elasticsearch", "etcd")), "failing within its hysteresis is not passing");
        assertTrue(m.allPassing(List.of("etcd")));
        m.runOnce(2);
        assertEquals(java.util.Map.of("elasticsearch", "elasticsearch check 2/2 failures: not answering"), m.failing());
        m.runOnce(3); // the queue is empty: poll answers null, a success
        assertTrue(m.failing().isEmpty());
        assertTrue(m.allPassing(List.of("elasticsearch", "etcd")));
        assertEquals(null, m.checks().get("elasticsearch").lastProblem());
    }

    @Test
    void aRecheckClearsARecoveredFailureButNeverAddsOne() {
        ArrayDeque<Boolean> results = new ArrayDeque<>(List.of(false, false, false, true));
        HealthMonitor m = new HealthMonitor().add("elasticsearch", 2, HealthMonitor.Probe.of(results::poll, "down"))
                .add("etcd", 1, () -> null);
        m.runOnce(1);
        assertFalse(m.recheckFailed(2), "within its hysteresis a check is not rechecked");
        assertEquals(1, m.checks().get("elasticsearch").consecutiveFailures());
        m.runOnce(3);
        assertFalse(m.checks().get("elasticsearch").healthy());
        assertFalse(m.recheckFailed(4), "still failing");
        assertEquals(2, m.checks().get("elasticsearch").consecutiveFailures(), "a recheck does not count failures");
        assertTrue(m.recheckFailed(5));
        assertTrue(m.checks().get("elasticsearch").healthy());
        assertEquals(0, m.checks().get("elasticsearch").consecutiveFailures());
    }

    @Test
    void aThrowingProbeCountsAsAFailure() {
        HealthMonitor m = new HealthMonitor().add("etcd", 1, () -> {
            throw new IllegalStateException("boom");
        });
        m.runOnce(1);
        assertFalse(m.checks().get("etcd").healthy());
    }
}
