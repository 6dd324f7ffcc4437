package org.chefbackend.agent;

import java.nio.file.Files;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * leaderl's slot among the services: the HA loop inside the agent (so its pid is the agent's), which also runs the
 * health checks every {@code leaderl.health_check.interval_seconds}. {@code stop leaderl} stops the loop while the agent,
 * its HTTP API and the other services keep running, as the runbooks' manual procedures need.
 */
final class LeaderlService implements Supervised {
    private static final Logger log = LoggerFactory.getLogger(LeaderlService.class);

    private final Supplier<NodeContext> node;
    private final Supplier<? extends HaLoopControl> ha;
    private boolean wantUp;
    private Thread loop;
    private long sinceMillis = System.currentTimeMillis();

    LeaderlService(Supplier<NodeContext> node, Supplier<? extends HaLoopControl> ha, boolean wantUp) {
        this.node = node;
        this.ha = ha;
        this.wantUp = wantUp;
    }

    @Override
    public String name() {
        return "leaderl";
    }

    @Override
    public synchronized ServiceStatus status() {
        boolean running = loop != null && loop.isAlive();
        boolean normallyUp = !Files.exists(NodeState.downMarker(node.get().paths(), name()))
                && (!node.get().settings().bool("leaderl.start_down") || NodeState.inCluster(node.get().paths()));
        String reason = running || !wantUp ? null : "starting";
        return new ServiceStatus(name(), true, running, running ? ProcessHandle.current().pid() : 0, sinceMillis,
                wantUp, normallyUp, reason, 0);
    }

    @Override
    public synchronized void start() {
        wantUp = true;
        tick(System.currentTimeMillis());
    }

    @Override
    public synchronized void tick(long now) {
        if (!wantUp || (loop != null && loop.isAlive())) {
            return;
        }
        loop = new Thread(this::run, "leaderl");
        loop.setDaemon(true);
        sinceMillis = System.currentTimeMillis();
        loop.start();
        log.info("leaderl: started");
    }

    private void run() {
        HaLoopControl loop = ha.get();
        if (loop != null) {
            loop.run();
        }
    }

    @Override
    public void stop() {
        stop(false);
    }

    /** The agent shuts down: the node stops as a whole. */
    @Override
    public void close() {
        stop(true);
    }

    private void stop(boolean nodeStopping) {
        Thread t;
        synchronized (this) {
            wantUp = false;
            t = loop;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(10_000);
                if (t.isAlive()) {
                    // the loop is stuck in a call that ignores interrupts; say where, or nobody can tell why
                    // the next start leaderl cannot start a second one
                    log.warn("leaderl: the HA loop did not stop within 10 s; it is at {}", where(t));
                }
                HaLoopControl loop = ha.get();
                if (loop != null) {
                    loop.stepDown(nodeStopping); // a leader without its loop must not stay one
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (this) {
                sinceMillis = System.currentTimeMillis();
                log.info("leaderl: stopped");
            }
        }
    }

    private static String where(Thread t) {
        StringBuilder b = new StringBuilder();
        for (StackTraceElement e : t.getStackTrace()) {
            b.append("\n\tat ").append(e);
        }
        return b.toString();
    }

    @Override
    public void shutdown() {
        stop();
    }
}
