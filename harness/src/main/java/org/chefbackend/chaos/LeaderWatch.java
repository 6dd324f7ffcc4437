package org.chefbackend.chaos;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.chefbackend.bench.Procs;

/**
 * Asks every node's {@code GET :7331/leader} at once, every 100 ms (each answer bounded to 800 ms), and records each
 * sweep: which nodes answered 200. Two 200s in one sweep is a double leader. Stops itself at its deadline.
 */
public final class LeaderWatch implements AutoCloseable {
    /** One sweep: its time (on {@link Procs#now()}'s clock) and the indexes of the nodes that answered 200. */
    public record Sweep(double at, List<Integer> leaders) {
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    private final List<String> addresses;
    private final List<Sweep> sweeps = new ArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final double deadline;
    private final Thread thread;

    private LeaderWatch(List<String> addresses, double maxSeconds) {
        this.addresses = List.copyOf(addresses);
        this.deadline = Procs.now() + maxSeconds;
        this.thread = new Thread(this::loop, "chaos-leader-watch");
        this.thread.setDaemon(true);
    }

    public static LeaderWatch start(List<String> addresses, double maxSeconds) {
        LeaderWatch w = new LeaderWatch(addresses, maxSeconds);
        w.thread.start();
        return w;
    }

    private void loop() {
        while (running.get() && Procs.now() < deadline) {
            double at = Procs.now();
            List<CompletableFuture<Integer>> answers = new ArrayList<>();
            for (String a : addresses) {
                answers.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://" + a + ":7331/leader"))
                        .timeout(Duration.ofMillis(800)).build(), HttpResponse.BodyHandlers.discarding())
                        .thenApply(HttpResponse::statusCode).exceptionally(e -> -1));
            }
            List<Integer> leaders = new ArrayList<>();
            for (int i = 0; i < answers.size(); i++) {
                try {
                    if (answers.get(i).get(1500, TimeUnit.MILLISECONDS) == 200) {
                        leaders.add(i);
                    }
                } catch (Exception e) {
                    // no answer: not a leader in this sweep
                }
            }
            synchronized (sweeps) {
                sweeps.add(new Sweep(at, List.copyOf(leaders)));
            }
            long wait = (long) ((at + 0.1 - Procs.now()) * 1000);
            if (wait > 0) {
                try {
                    Thread.sleep(wait);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    public List<Sweep> sweeps() {
        synchronized (sweeps) {
            return List.copyOf(sweeps);
        }
    }

    /** The only node that answered 200 in the last sweep, -1 when none or several did. */
    public int current() {
        List<Sweep> s = sweeps();
        if (s.isEmpty()) {
            return -1;
        }
        List<Integer> l = s.get(s.size() - 1).leaders();
        return l.size() == 1 ? l.get(0) : -1;
    }

    /** Sweeps in which two or more nodes answered 200. */
    public static List<Sweep> doubleLeaders(List<Sweep> sweeps) {
        return sweeps.stream().filter(s -> s.leaders().size() > 1).toList();
    }

    /** The first sweep at or after {@code t} in which a node other than {@code old} alone answered 200. */
    public static Sweep firstOtherLeader(List<Sweep> sweeps, double t, int old) {
        for (Sweep s : sweeps) {
            if (s.at() >= t && s.leaders().size() == 1 && s.leaders().get(0) != old) {
                return s;
            }
        }
        return null;
    }

    /** Sweeps where the single leader differs from the last single leader before it (leader changes). */
    public static List<Sweep> changes(List<Sweep> sweeps) {
        List<Sweep> out = new ArrayList<>();
        int last = -1;
        for (Sweep s : sweeps) {
            if (s.leaders().size() == 1) {
                int l = s.leaders().get(0);
                if (last >= 0 && l != last) {
                    out.add(s);
                }
                last = l;
            }
        }
        return out;
    }

    @Override
    public void close() {
        stop(running, thread);
    }

    /** Tells a harness thread to stop and waits for it (at most 5 s). */
    static void stop(AtomicBoolean running, Thread thread) {
        running.set(false);
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
