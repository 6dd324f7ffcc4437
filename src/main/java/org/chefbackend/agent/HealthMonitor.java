package org.chefbackend.agent;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * leaderl's health checks: each probe runs every {@code leaderl.health_check.interval_seconds}, and a check only
 * counts as failed after {@code max_<check>_failures} consecutive failures (the documents' hysteresis against
 * spurious failovers). Pure bookkeeping; the probes do the I/O.
 */
public final class HealthMonitor {
    /** One probe: null when all is well, else what is wrong, in a few words ("no elected cluster manager"). */
    @FunctionalInterface
    public interface Probe {
        String problem();

        /** A probe that can only say yes or no. */
        static Probe of(java.util.function.BooleanSupplier ok, String problem) {
            return () -> ok.getAsBoolean() ? null : problem;
        }
    }

    /** One check's standing; {@code lastProblem} is what the last failed probe said (null after a success). */
    public record Check(String name, int consecutiveFailures, int maxFailures, long lastRunMillis, Boolean lastResult,
            String lastProblem) {
        public boolean healthy() {
            return consecutiveFailures < maxFailures;
        }

        /** For an operator: "elasticsearch check 5/5 failures: no elected cluster manager". */
        public String describe() {
            return name + " check " + Math.min(consecutiveFailures, maxFailures) + "/" + maxFailures + " failures"
                    + (lastProblem != null ? ": " + lastProblem : "");
        }
    }

    private final Map<String, Probe> probes = new LinkedHashMap<>();
    private final Map<String, Check> checks = new LinkedHashMap<>();

    /** Adds a check that fails after {@code maxFailures} consecutive failed probes. */
    public synchronized HealthMonitor add(String name, int maxFailures, Probe probe) {
        probes.put(name, probe);
        checks.put(name, new Check(name, 0, maxFailures, 0, null, null));
        return this;
    }

    /** Runs every probe once. */
    public void runOnce(long nowMillis) {
        Map<String, Probe> snapshot;
        synchronized (this) {
            snapshot = new LinkedHashMap<>(probes);
        }
        snapshot.forEach((name, probe) -> record(name, safely(probe), nowMillis));
    }

    /**
     * Probes the failed checks (past their hysteresis) once more, now: one that passes is healthy again; one that
     * fails keeps its count (failures are counted once an interval, so the hysteresis keeps its length). For a
     * decision that a stale failure would make wrong: a leader about to give up for a check that has since recovered.
     * True when any of them recovered.
     */
    public boolean recheckFailed(long nowMillis) {
        Map<String, Probe> failed = new LinkedHashMap<>();
        synchronized (this) {
            checks.values().stream().filter(c -> !c.healthy()).forEach(c -> failed.put(c.name(), probes.get(c.name())));
        }
        boolean recovered = false;
        for (Map.Entry<String, Probe> e : failed.entrySet()) {
            if (safely(e.getValue()) == null) {
                record(e.getKey(), null, nowMillis);
                recovered = true;
            }
        }
        return recovered;
    }

    synchronized void record(String name, String problem, long nowMillis) {
        Check c = checks.get(name);
        boolean ok = problem == null;
        checks.put(name, new Check(name, ok ? 0 : c.consecutiveFailures() + 1, c.maxFailures(), nowMillis, ok,
                problem));
    }

    public synchronized Map<String, Check> checks() {
        return Map.copyOf(checks);
    }

    /** The last probe of every check named passed (none is failing, not even within its hysteresis). */
    public synchronized boolean allPassing(java.util.Collection<String> names) {
        return checks.values().stream().filter(c -> names.contains(c.name())).allMatch(c -> c.consecutiveFailures() == 0);
    }

    /** The failed checks (past their hysteresis), described, by name. */
    public synchronized Map<String, String> failing() {
        Map<String, String> out = new LinkedHashMap<>();
        checks.values().stream().filter(c -> !c.healthy()).forEach(c -> out.put(c.name(), c.describe()));
        return out;
    }

    private static String safely(Probe probe) {
        try {
            return probe.problem();
        } catch (RuntimeException e) {
            return "probe failed: " + e.getMessage();
        }
    }
}
