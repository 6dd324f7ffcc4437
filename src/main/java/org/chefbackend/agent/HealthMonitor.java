package org.chefbackend.agent;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * leaderl's health checks: each probe runs every {@code leaderl.health_check.interval_seconds}, and a check only
 * counts as failed after {@code max_<check>_failures} consecutive failures (the documents' hysteresis against
 * spurious failovers). Pure bookkeeping; the probes do the I/O.
 */
public final class HealthMonitor {
    /** One check's standing. */
    public record Check(String name, int consecutiveFailures, int maxFailures, long lastRunMillis, Boolean lastResult) {
        public boolean healthy() {
            return consecutiveFailures < maxFailures;
        }
    }

    private final Map<String, BooleanSupplier> probes = new LinkedHashMap<>();
    private final Map<String, Check> checks = new LinkedHashMap<>();

    /** Adds a check that fails after {@code maxFailures} consecutive failed probes. */
    public synchronized HealthMonitor add(String name, int maxFailures, BooleanSupplier probe) {
        probes.put(name, probe);
        checks.put(name, new Check(name, 0, maxFailures, 0, null));
        return this;
    }

    /** Runs every probe once. */
    public void runOnce(long nowMillis) {
        Map<String, BooleanSupplier> snapshot;
        synchronized (this) {
            snapshot = new LinkedHashMap<>(probes);
        }
        snapshot.forEach((name, probe) -> record(name, safely(probe), nowMillis));
    }

    synchronized void record(String name, boolean ok, long nowMillis) {
        Check c = checks.get(name);
        checks.put(name, new Check(name, ok ? 0 : c.consecutiveFailures() + 1, c.maxFailures(), nowMillis, ok));
    }

    public synchronized Map<String, Check> checks() {
        return Map.copyOf(checks);
    }

    private static boolean safely(BooleanSupplier probe) {
        try {
            return probe.getAsBoolean();
        } catch (RuntimeException e) {
            return false;
        }
    }
}
