package org.chefbackend.system;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waiting for a condition with a deadline: check, sleep {@code interval}, check again, until it holds or
 * {@code timeout} has passed. The check runs at least once and once more at the deadline (the last sleep is cut
 * short), so a condition that holds just in time counts. An interrupt ends the wait as a timeout does, with the
 * thread's interrupt flag set again for the caller to see.
 */
public final class Poll {
    private Poll() {
    }

    /** Whether {@code condition} held within {@code timeout}. */
    public static boolean until(Duration timeout, Duration interval, BooleanSupplier condition) {
        return forValue(timeout, interval, () -> condition.getAsBoolean() ? Optional.of(true) : Optional.empty())
                .isPresent();
    }

    /** The first value {@code probe} found within {@code timeout}, or empty. */
    public static <T> Optional<T> forValue(Duration timeout, Duration interval, Supplier<Optional<T>> probe) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<T> found = probe.get();
            if (found.isPresent()) {
                return found;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return Optional.empty();
            }
            try {
                TimeUnit.NANOSECONDS.sleep(Math.min(interval.toNanos(), left));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
    }
}
