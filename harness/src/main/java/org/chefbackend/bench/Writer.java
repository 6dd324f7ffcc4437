package org.chefbackend.bench;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A steady writer through HAProxy: one unique-id insert per transaction every {@code periodMs}, every acknowledgement
 * logged with its time. A failed write drops the connection; the next tick connects again. Stops itself at its
 * deadline.
 */
public final class Writer implements AutoCloseable {
    public static final String TABLE = "bench_writes";
    private static final AtomicLong IDS = new AtomicLong(System.currentTimeMillis() * 1000);

    /**
     * One acknowledged write: its id, when the commit returned and when the attempt was sent (seconds on
     * {@link Procs#now()}'s clock).
     */
    public record Ack(long id, double at, double sent) {
        public Ack(long id, double at) {
            this(id, at, at);
        }
    }

    private final HaCluster cluster;
    private final long periodMs;
    private final double deadline;
    private final List<Ack> acks = new ArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong failures = new AtomicLong();
    private final Thread thread;

    private Writer(HaCluster cluster, long periodMs, double maxSeconds) {
        this.cluster = cluster;
        this.periodMs = periodMs;
        this.deadline = Procs.now() + maxSeconds;
        this.thread = new Thread(this::loop, "bench-writer");
        this.thread.setDaemon(true);
    }

    public static void createTable(HaCluster cluster) throws SQLException {
        try (Connection c = cluster.connect(cluster.proxy(), 5, 30); Statement st = c.createStatement()) {
            st.execute("create table if not exists " + TABLE + " (id bigint primary key, at timestamptz default now())");
        }
    }

    public static Writer start(HaCluster cluster, long periodMs, double maxSeconds) {
        Writer w = new Writer(cluster, periodMs, maxSeconds);
        w.thread.start();
        return w;
    }

    private void loop() {
        Connection c = null;
        PreparedStatement ps = null;
        while (running.get() && Procs.now() < deadline) {
            double next = Procs.now() + periodMs / 1000.0;
            long id = IDS.incrementAndGet();
            double sent = Procs.now();
            try {
                if (c == null) {
                    c = cluster.connect(cluster.proxy(), 1, 2);
                    ps = c.prepareStatement("insert into " + TABLE + " (id) values (?)");
                }
                ps.setLong(1, id);
                ps.executeUpdate();
                double at = Procs.now();
                synchronized (acks) {
                    acks.add(new Ack(id, at, sent));
                }
            } catch (SQLException e) {
                failures.incrementAndGet();
                closeQuietly(c);
                c = null;
                ps = null;
            }
            long wait = (long) ((next - Procs.now()) * 1000);
            if (wait > 0) {
                try {
                    Thread.sleep(wait);
                } catch (InterruptedException e) {
                    break;
                }
            }
        }
        closeQuietly(c);
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // the connection is broken anyway
            }
        }
    }

    public List<Ack> acks() {
        synchronized (acks) {
            return List.copyOf(acks);
        }
    }

    public long failures() {
        return failures.get();
    }

    /**
     * The first acknowledgement of a write sent at or after {@code t}, null when none (yet). (A commit sent before a
     * crash may still be acknowledged just after it: that is not a recovery.)
     */
    public Ack firstAckAfter(double t) {
        return firstSentAfter(acks(), t);
    }

    static Ack firstSentAfter(List<Ack> acks, double t) {
        for (Ack a : acks) {
            if (a.sent() >= t) {
                return a;
            }
        }
        return null;
    }

    /** The longest time between consecutive acknowledgements that overlaps [from, to]. */
    public static double maxGap(List<Ack> acks, double from, double to) {
        double gap = 0;
        for (int i = 1; i < acks.size(); i++) {
            double a = acks.get(i - 1).at();
            double b = acks.get(i).at();
            if (b >= from && a <= to) {
                gap = Math.max(gap, b - a);
            }
        }
        return gap;
    }

    @Override
    public void close() {
        running.set(false);
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Acknowledged ids that the cluster (through HAProxy) does not have. */
    public static List<Long> missing(HaCluster cluster, List<Long> ids) throws SQLException {
        return missing(cluster, cluster.proxy(), ids);
    }

    /** Acknowledged ids that the PostgreSQL on {@code host} (a node directly, or HAProxy) does not have. */
    public static List<Long> missing(HaCluster cluster, String host, List<Long> ids) throws SQLException {
        try (Connection c = cluster.connect(host, 5, 60);
                PreparedStatement ps = c.prepareStatement("select id from " + TABLE + " where id = any(?)")) {
            Array arr = c.createArrayOf("bigint", ids.toArray(new Long[0]));
            ps.setArray(1, arr);
            Set<Long> present = new HashSet<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    present.add(rs.getLong(1));
                }
            }
            return ids.stream().filter(id -> !present.contains(id)).toList();
        }
    }

    /**
     * The lost acknowledged writes, with the checker's negative control: an id that was never written must come back
     * as missing, else the check itself is broken and this throws.
     */
    public static List<Long> lost(HaCluster cluster, List<Ack> acks) throws SQLException {
        List<Long> ids = new ArrayList<>(acks.stream().map(Ack::id).toList());
        long never = -IDS.incrementAndGet();
        ids.add(never);
        List<Long> gone = null;
        // right after a failover HAProxy may still be switching: retry the lookup for up to 60 s
        double deadline = Procs.now() + 60;
        while (gone == null) {
            try {
                gone = new ArrayList<>(missing(cluster, ids));
            } catch (SQLException e) {
                if (Procs.now() > deadline) {
                    throw new SQLException("looking up acknowledged writes through HAProxy: " + e.getMessage(), e);
                }
                Procs.sleep(1000);
            }
        }
        if (!gone.remove(Long.valueOf(never))) {
            throw new IllegalStateException("loss checker broken: a never-written id was reported present");
        }
        return gone;
    }
}
