package org.chefbackend.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PollTest {
    static final Duration LONG = Duration.ofSeconds(30);
    static final Duration STEP = Duration.ofMillis(10);

    @Test
    void returnsAsSoonAsTheConditionHolds() {
        AtomicInteger checks = new AtomicInteger();
        long t0 = System.nanoTime();
        assertTrue(Poll.until(LONG, STEP, () -> checks.incrementAndGet() >= 3));
        assertEquals(3, checks.get(), "checked again after it held");
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(5).toNanos(), "waited for the timeout instead");
    }

    @Test
    void aConditionThatHoldsAtOnceIsCheckedOnceWithoutSleeping() {
        AtomicInteger checks = new AtomicInteger();
        long t0 = System.nanoTime();
        assertTrue(Poll.until(LONG, Duration.ofSeconds(10), () -> checks.incrementAndGet() > 0));
        assertEquals(1, checks.get());
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(5).toNanos(), "slept before returning");
    }

    @Test
    void timesOutWhenTheConditionNeverHolds() {
        AtomicInteger checks = new AtomicInteger();
        Duration timeout = Duration.ofMillis(200);
        long t0 = System.nanoTime();
        assertFalse(Poll.until(timeout, STEP, () -> {
            checks.incrementAndGet();
            return false;
        }));
        long took = System.nanoTime() - t0;
        assertTrue(took >= timeout.toNanos(), "gave up early, after " + took + " ns");
        assertTrue(took < Duration.ofSeconds(5).toNanos(), "overstayed: " + took + " ns");
        assertTrue(checks.get() >= 2, "checked " + checks.get() + " times");
    }

    @Test
    void checksOnceMoreAtTheDeadline() {
        // an interval longer than the timeout: the one sleep is cut short and the condition checked after it
        AtomicInteger checks = new AtomicInteger();
        long t0 = System.nanoTime();
        assertTrue(Poll.until(Duration.ofMillis(100), Duration.ofSeconds(20), () -> checks.incrementAndGet() == 2));
        assertEquals(2, checks.get());
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(5).toNanos(), "slept the whole interval");
    }

    @Test
    void returnsTheFirstValueFound() {
        AtomicInteger checks = new AtomicInteger();
        Optional<String> got = Poll.forValue(LONG, STEP,
                () -> checks.incrementAndGet() < 4 ? Optional.empty() : Optional.of("found at " + checks.get()));
        assertEquals(Optional.of("found at 4"), got);
    }

    @Test
    void findsNothingWhenTheTimeoutPasses() {
        assertEquals(Optional.empty(), Poll.forValue(Duration.ofMillis(50), STEP, Optional::empty));
    }

    @Test
    void anInterruptEndsTheWaitAndStaysVisible() {
        AtomicInteger checks = new AtomicInteger();
        Thread.currentThread().interrupt();
        try {
            long t0 = System.nanoTime();
            assertFalse(Poll.until(LONG, STEP, () -> {
                checks.incrementAndGet();
                return false;
            }));
            assertEquals(1, checks.get());
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(5).toNanos(), "the interrupt was ignored");
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt flag was swallowed");
        } finally {
            Thread.interrupted();
        }
    }
}
