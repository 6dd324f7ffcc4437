package org.chefbackend.agent;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * leaderl's health checks: each probe runs every {@code leaderl.health_check.interval_seconds}, and a check only
 * counts as failed after {@code max_<check>_failures} consecutive failures (the documents' hysteresis against
 * spurious failovers). The bookkeeping is pure; the probes do the I/O, each on a thread of its own, in rounds at a
 * fixed rate ({@link #start}). A probe that has not answered by the end of its round counts as a failure of that
 * round, and every later round it is still running counts as another: a frozen search engine (it takes connections
 * and answers nothing) fails once an interval, as a stopped one does, and so is judged within max failures ×
 * interval. No probe ever holds up leaderl's loop, whose every turn the watchdog and the lease wait for.
 */
public final class HealthMonitor {
    /** How often a failed check (past its hysteresis) is probed again between rounds, to see a recovery at once. */
    static final long RECHECK_MILLIS = 1000;

    /** One probe: null when all is well, else what is wrong, in a few words ("no elected cluster manager"). */
    @FunctionalInterface
    public interface Probe {
        String problem();

        /** A probe that can only say yes or no. */
        static Probe of(BooleanSupplier ok, String problem) {
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
    /** The probe each check last started, until a later one replaces it: at most one runs per check. */
    private final Map<String, CompletableFuture<String>> running = new HashMap<>();
    private final ExecutorService probeThreads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "health-probe");
        t.setDaemon(true);
        return t;
    });
    private Thread thread;

    /** Adds a check that fails after {@code maxFailures} consecutive failed probes. */
    public synchronized HealthMonitor add(String name, int maxFailures, Probe probe) {
        probes.put(name, probe);
        checks.put(name, new Check(name, 0, maxFailures, 0, null, null));
        return this;
    }

    /**
     * A round of every probe every {@code intervalMillis} (read anew each round: reconfigure may change it), and the
     * failed checks probed again every second in between, on a thread named health-checks, until {@link #stop}.
     */
    public synchronized void start(LongSupplier intervalMillis) {
        if (thread != null) {
            return;
        }
        thread = new Thread(() -> {
            long nextRound = System.nanoTime();
            while (!Thread.currentThread().isInterrupted()) {
                long interval = Math.max(1, intervalMillis.getAsLong());
                if (System.nanoTime() - nextRound >= 0) {
                    nextRound += TimeUnit.MILLISECONDS.toNanos(interval);
                    // a round that ran long (a busy machine) does not make the next ones pile up
                    nextRound = Math.max(nextRound, System.nanoTime());
                    round(System.currentTimeMillis(), interval);
                } else {
                    recheckFailed(System.currentTimeMillis(),
                            Math.min(RECHECK_MILLIS, TimeUnit.NANOSECONDS.toMillis(nextRound - System.nanoTime())));
                }
                long pause = Math.min(RECHECK_MILLIS, TimeUnit.NANOSECONDS.toMillis(nextRound - System.nanoTime()));
                if (pause > 0) {
                    try {
                        Thread.sleep(pause);
                    } catch (InterruptedException e) {
                        return; // stop() asked
                    }
                }
            }
        }, "health-checks");
        thread.setDaemon(true);
        thread.start();
    }

    public synchronized void stop() {
        if (thread != null) {
            thread.interrupt();
            thread = null;
        }
        probeThreads.shutdownNow();
    }

    /** One round, waiting as long as a probe may take: what tests and a single check call for. */
    public void runOnce(long nowMillis) {
        round(nowMillis, TimeUnit.MINUTES.toMillis(1));
    }

    /**
     * Starts every probe (except one still running from an earlier round, which counts as failed again) and records
     * what they answer within {@code waitMillis}; one that does not answer in time is a failure.
     */
    void round(long nowMillis, long waitMillis) {
        Map<String, CompletableFuture<String>> started = new LinkedHashMap<>();
        synchronized (this) {
            for (String name : probes.keySet()) {
                CompletableFuture<String> previous = running.get(name);
                if (previous != null && !previous.isDone()) {
                    record(name, noAnswer(waitMillis), nowMillis);
                } else {
                    started.put(name, launch(name));
                }
            }
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        started.forEach((name, probe) -> record(name, await(probe, deadline, noAnswer(waitMillis)), nowMillis));
    }

    /**
     * Probes the failed checks (past their hysteresis) once more, waiting at most {@code waitMillis}: one that
     * passes is healthy again; one that fails or does not answer keeps its count (failures are counted once a round,
     * so the hysteresis keeps its length). True when any of them recovered.
     */
    boolean recheckFailed(long nowMillis, long waitMillis) {
        Map<String, CompletableFuture<String>> started = new LinkedHashMap<>();
        synchronized (this) {
            for (Check c : checks.values()) {
                CompletableFuture<String> previous = running.get(c.name());
                if (!c.healthy()) {
                    started.put(c.name(), previous != null && !previous.isDone() ? previous : launch(c.name()));
                }
            }
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        boolean recovered = false;
        for (Map.Entry<String, CompletableFuture<String>> e : started.entrySet()) {
            if (await(e.getValue(), deadline, "still failing") == null) {
                record(e.getKey(), null, nowMillis);
                recovered = true;
            }
        }
        return recovered;
    }

    /**
     * Before a decision a stale failure would make wrong (a leader about to give up for a check that has since
     * recovered): the failed checks probed now, waiting at most {@code limit}; a probe that hangs counts as failing.
     */
    public boolean recheckFailedWithin(Duration limit) {
        return recheckFailed(System.currentTimeMillis(), limit.toMillis());
    }

    private CompletableFuture<String> launch(String name) {
        Probe probe = probes.get(name);
        CompletableFuture<String> f = CompletableFuture.supplyAsync(() -> safely(probe), probeThreads);
        running.put(name, f);
        return f;
    }

    private static String await(CompletableFuture<String> probe, long deadlineNanos, String whenLate) {
        try {
            return probe.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return whenLate;
        } catch (ExecutionException e) {
            return "probe failed: " + e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return whenLate;
        }
    }

    private static String noAnswer(long waitMillis) {
        return "no answer within " + waitMillis + " ms";
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
    public synchronized boolean allPassing(Collection<String> names) {
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
