package org.chefbackend.testing;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A client that inserts unique ids into {@code table}, one per transaction, always on the node that answers 200 on
 * /leader, and logs every id whose commit was acknowledged. Stops by itself after {@code limit}.
 */
public final class AckedWriter implements AutoCloseable {
    private final TestCluster cluster;
    private final String table;
    private final List<Long> acked = Collections.synchronizedList(new ArrayList<>());
    /** {@link System#nanoTime()} of each acknowledgement, in the order of {@link #acked}. */
    private final List<Long> ackedAt = Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean writing = new AtomicBoolean(true);
    private final Thread thread;

    public AckedWriter(TestCluster cluster, String table, Duration limit) throws Exception {
        this.cluster = cluster;
        this.table = table;
        TestNode leader = cluster.leader().orElseThrow(() -> new AssertionError("no leader to write to"));
        try (Connection c = cluster.pg(leader); Statement st = c.createStatement()) {
            st.execute("create table if not exists " + table + " (id bigint primary key)");
        }
        thread = new Thread(() -> run(limit), "acked-writer-" + table);
        thread.setDaemon(true);
        thread.start();
    }

    private void run(Duration limit) {
        long id = 0;
        long end = System.nanoTime() + limit.toNanos();
        while (writing.get() && System.nanoTime() < end) {
            id++;
            TestNode to = cluster.leader().orElse(null);
            if (to == null) {
                pause();
                continue;
            }
            try (Connection c = cluster.pg(to); Statement st = c.createStatement()) {
                st.execute("insert into " + table + " values (" + id + ")");
                synchronized (acked) {
                    acked.add(id);
                    ackedAt.add(System.nanoTime());
                }
            } catch (Exception e) {
                pause();
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public int count() {
        return acked.size();
    }

    /**
     * The longest time between two acknowledgements in a row so far: with one insert at a time, how long commits
     * stalled at the worst.
     */
    public Duration longestGap() {
        long longest = 0;
        synchronized (acked) {
            for (int i = 1; i < ackedAt.size(); i++) {
                longest = Math.max(longest, ackedAt.get(i) - ackedAt.get(i - 1));
            }
        }
        return Duration.ofNanos(longest);
    }

    /** Acknowledged ids missing on {@code n}; only after {@link #close}, or a late acknowledgement looks lost. */
    public List<Long> missingOn(TestNode n) throws Exception {
        if (thread.isAlive()) {
            throw new IllegalStateException("close the writer before looking for lost writes");
        }
        Set<Long> present = cluster.ids(n, table);
        synchronized (acked) {
            return acked.stream().filter(id -> !present.contains(id)).toList();
        }
    }

    @Override
    public void close() throws InterruptedException {
        writing.set(false);
        thread.join(15_000);
    }
}
