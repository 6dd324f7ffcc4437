package org.chefbackend.chaos;

import java.util.concurrent.atomic.AtomicBoolean;
import org.chefbackend.bench.Procs;

/**
 * Times a node's OpenSearch back into the search cluster: from {@code from} (the node's or the service's start, or
 * the fault that restarts it) it asks that node's {@code _cluster/health} every 200 ms, and once it has seen the node
 * out of the cluster (down, no elected cluster manager, or fewer nodes than the cluster has), records the first
 * answer with a cluster manager and every node. Stops itself when back or at its deadline.
 */
final class SearchRejoin implements AutoCloseable {
    private final String address;
    private final int port;
    private final int nodes;
    private final double from;
    private final double deadline;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    private volatile boolean seenOut;
    private volatile double backAt = Double.NaN;

    private SearchRejoin(String address, int port, int nodes, double from, double maxSeconds) {
        this.address = address;
        this.port = port;
        this.nodes = nodes;
        this.from = from;
        this.deadline = from + maxSeconds;
        this.thread = new Thread(this::loop, "chaos-search-rejoin-" + address);
        this.thread.setDaemon(true);
    }

    /** Starts watching node {@code address}'s OpenSearch (a cluster of {@code nodes}) from now. */
    static SearchRejoin watch(String address, int port, int nodes, double maxSeconds) {
        SearchRejoin w = new SearchRejoin(address, port, nodes, Procs.now(), maxSeconds);
        w.thread.start();
        return w;
    }

    private void loop() {
        while (running.get() && Procs.now() < deadline) {
            boolean in = Healed.inSearchCluster(Healed.searchHealth(address, port), nodes);
            if (!in) {
                seenOut = true;
            } else if (seenOut) {
                backAt = Procs.now();
                return;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    String address() {
        return address;
    }

    /** Seconds from the start until back in the search cluster; NaN when not (yet), or never seen out of it. */
    double after() {
        return backAt - from;
    }

    @Override
    public void close() {
        LeaderWatch.stop(running, thread);
    }
}
