package org.chefbackend.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Times a crashed host, started again, back into replication, the same way for chef-backend and Patroni: from its
 * start, every 200 ms, it asks which node leads (the system's own health check, as HAProxy does) and that leader's
 * {@code pg_stat_replication} for a walsender to the host's {@code application_name} (its node name in both systems)
 * in state 'streaming'. The first of two ends counts: seen streaming from another node (a rejoin), or seen leading
 * itself (it came back before another node was elected, or took leadership back: not a rejoin). Stops itself then,
 * or at its deadline.
 */
public final class RejoinWatch implements AutoCloseable {
    /** The ways a node rejoins, as both systems name them; the tally always shows these three. */
    static final List<String> PATHS = List.of("rewind", "none", "basebackup");
    public static final String LED_AGAIN = "led again";

    private final HaCluster c;
    private final int node;
    private final double from = Procs.now();
    private final long fromMillis = System.currentTimeMillis();
    private final double deadline;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    private volatile double streamingAt = Double.NaN;
    private volatile double ledAt = Double.NaN;
    private volatile int upstream = -1;

    private RejoinWatch(HaCluster c, int node, double maxSeconds) {
        this.c = c;
        this.node = node;
        this.deadline = from + maxSeconds;
        this.thread = new Thread(this::loop, "rejoin-watch-" + c.nodeName(node));
        this.thread.setDaemon(true);
    }

    /** Starts watching node {@code node} of {@code c} from now: call it just before the node is started again. */
    public static RejoinWatch start(HaCluster c, int node, double maxSeconds) {
        RejoinWatch w = new RejoinWatch(c, node, maxSeconds);
        w.thread.start();
        return w;
    }

    private void loop() {
        while (running.get() && Procs.now() < deadline) {
            int l = c.leader();
            if (l == node) {
                ledAt = Procs.now();
                return;
            }
            if (l >= 0 && streamsTo(l)) {
                upstream = l;
                streamingAt = Procs.now();
                return;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private boolean streamsTo(int leader) {
        try (Connection conn = c.connect(c.addresses().get(leader), 1, 3);
                PreparedStatement ps = conn.prepareStatement("select 1 from pg_stat_replication where application_name = ? "
                        + "and state = 'streaming'")) {
            ps.setString(1, c.nodeName(node));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            return false; // that leader not (yet) answering is no verdict
        }
    }

    /** Waits (bounded) until the node streams, leads, or the watch's deadline passed; true when one of the first two. */
    public boolean await(Duration limit) throws InterruptedException {
        thread.join(limit.toMillis());
        return streamed() || ledAgain();
    }

    public int node() {
        return node;
    }

    /** Wall-clock time of the start (epoch ms), for what the node records itself. */
    public long fromMillis() {
        return fromMillis;
    }

    public boolean streamed() {
        return !Double.isNaN(streamingAt);
    }

    public boolean ledAgain() {
        return !Double.isNaN(ledAt);
    }

    /** Seconds from the start until the leader showed the node streaming; NaN when not (yet). */
    public double streamingAfter() {
        return streamingAt - from;
    }

    /** The leader it streams from, -1 when none (yet). */
    public int upstream() {
        return upstream;
    }

    /** The path to report, given what the node itself says of its rejoin ({@code said}, null: nothing since the start). */
    public String path(String said) {
        return path(ledAgain(), streamed(), said);
    }

    /**
     * "led again"; or what the node said ("rewind", "none", "basebackup"); "unknown" when it streams but said
     * nothing since its start; "not rejoined" when it neither streamed nor led within the watch's bound.
     */
    public static String path(boolean ledAgain, boolean streamed, String said) {
        if (ledAgain) {
            return LED_AGAIN;
        }
        if (!streamed) {
            return "not rejoined";
        }
        return said != null ? said : "unknown";
    }

    /** True for a rejoin that copied nothing: pg_rewind, or following as it was. */
    public static boolean copyless(String path) {
        return "rewind".equals(path) || "none".equals(path);
    }

    /**
     * The paths of a series of runs: "rewind 5/5, none 0, basebackup 0", then any other outcome seen ("led again 1",
     * "not rejoined 1"); "none measured" for no runs.
     */
    public static String tally(List<String> paths) {
        if (paths.isEmpty()) {
            return "none measured";
        }
        Map<String, Integer> n = new LinkedHashMap<>();
        PATHS.forEach(p -> n.put(p, 0));
        paths.forEach(p -> n.merge(p, 1, Integer::sum));
        List<String> parts = new ArrayList<>();
        n.forEach((p, k) -> parts.add(p + " " + k + (parts.isEmpty() ? "/" + paths.size() : "")));
        return String.join(", ", parts);
    }

    @Override
    public void close() {
        running.set(false);
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
