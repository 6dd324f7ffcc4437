package org.chefbackend.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.chefbackend.system.Poll;
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
        assertEquals(Map.of("elasticsearch", "elasticsearch check 2/2 failures: not answering"), m.failing());
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
        assertFalse(m.recheckFailed(2, 1000), "within its hysteresis a check is not rechecked");
        assertEquals(1, m.checks().get("elasticsearch").consecutiveFailures());
        m.runOnce(3);
        assertFalse(m.checks().get("elasticsearch").healthy());
        assertFalse(m.recheckFailed(4, 1000), "still failing");
        assertEquals(2, m.checks().get("elasticsearch").consecutiveFailures(), "a recheck does not count failures");
        assertTrue(m.recheckFailed(5, 1000));
        assertTrue(m.checks().get("elasticsearch").healthy());
        assertEquals(0, m.checks().get("elasticsearch").consecutiveFailures());
    }

    @Test
    void aHungProbeFailsOnceARoundAndHoldsUpNeitherTheOtherChecksNorAReader() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger etcdRuns = new AtomicInteger();
        HealthMonitor m = new HealthMonitor()
                .add("etcd", 1, () -> {
                    etcdRuns.incrementAndGet();
                    return null;
                })
                .add("elasticsearch", 3, () -> {
                    try {
                        release.await(); // a frozen search engine: the probe hangs until released, then answers
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return null;
                });
        m.start(() -> 100);
        try {
            // the hung probe fails once a round, as a stopped engine would: judged after 3 rounds, not 3 timeouts
            assertTrue(waitUntil(() -> !m.checks().get("elasticsearch").healthy()));
            assertEquals("no answer within 100 ms", m.checks().get("elasticsearch").lastProblem());
            int runs = etcdRuns.get();
            assertTrue(waitUntil(() -> etcdRuns.get() >= runs + 3), "the other checks went on every round");
            assertTrue(m.checks().get("etcd").healthy());
            long t0 = System.nanoTime();
            assertFalse(m.recheckFailedWithin(Duration.ofMillis(100)), "a bounded recheck of a hung probe gives up");
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(2).toNanos());
            release.countDown();
            assertTrue(waitUntil(() -> m.checks().get("elasticsearch").healthy()), "the thawed probe's answer counts");
        } finally {
            m.stop();
        }
    }

    /** Polls {@code condition} until it holds or 5 s pass. */
    static boolean waitUntil(BooleanSupplier condition) {
        return Poll.until(Duration.ofSeconds(5), Duration.ofMillis(10), condition);
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
