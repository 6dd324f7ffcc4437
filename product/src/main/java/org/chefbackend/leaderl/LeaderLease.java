package org.chefbackend.leaderl;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.Watchdog;
import org.chefbackend.cluster.ClusterAgent;
import org.chefbackend.cluster.Records;
import org.chefbackend.dcs.LeaseKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's hold on the etcd leader key: taking it, keeping it only while the loop completes iterations,
 * giving it up, and writing what only its holder may write. Also feeds the watchdog, which fences PostgreSQL
 * should the loop freeze while holding it. The sole owner of the lease and the watchdog.
 */
final class LeaderLease {
    // logs as HaLoop: the agent's log names the logger, and its lines stay as operators know them
    private static final Logger log = LoggerFactory.getLogger(HaLoop.class);

    private final ClusterAgent cluster;
    /** Told when the keeper loses the lease (on the keeper's thread). */
    private final Runnable onLost;
    /** When the loop last completed an iteration ({@link System#nanoTime()}). */
    private final LongSupplier completedNanos;
    private volatile LeaseKeeper lease;
    private volatile Watchdog watchdog;

    LeaderLease(ClusterAgent cluster, Runnable onLost, LongSupplier completedNanos) {
        this.cluster = cluster;
        this.onLost = onLost;
        this.completedNanos = completedNanos;
    }

    void watchdog(Watchdog w) {
        this.watchdog = w;
    }

    /** The keeper while this node holds (or last held, until released) the key; null when it has none. */
    LeaseKeeper current() {
        return lease;
    }

    boolean holdsLeaderKey() {
        LeaseKeeper l = lease;
        return l != null && l.alive();
    }

    void acquire(NodeContext ctx) throws IOException {
        // refused here (Records.Invalid) if it is not a record the followers would follow: before any lease exists
        String record = Records.json(new Records.Leader(ctx.nodeName(), ctx.nodeGuid(), ctx.publishAddress(),
                ctx.settings().intValue("postgresql.port"), System.currentTimeMillis()));
        long ttl = ctx.settings().integer("leaderl.leader_ttl_seconds");
        long ttlNanos = TimeUnit.SECONDS.toNanos(ttl);
        // a loop that hangs (not frozen: the JVM runs on) must not keep its lease alive from the keeper's thread;
        // a TTL without an iteration is far longer than any step a leader takes (the watchdog has already
        // stopped PostgreSQL by then, since nobody fed it)
        LeaseKeeper keeper = LeaseKeeper.start(cluster.store(), ttl, why -> {
            log.warn("leaderl: leader lease lost: {}", why);
            onLost.run();
        }, () -> System.nanoTime() - completedNanos.getAsLong() < ttlNanos);
        lease = LeaderKey.take(LeaderKey.of(cluster.store()), HaLoop.LEADER, record, keeper)
                .orElseThrow(() -> new IllegalStateException("another node took the leader key first"));
    }

    void requireLease() {
        if (!holdsLeaderKey()) {
            throw new IllegalStateException("the leader lease is gone");
        }
    }

    void release() {
        LeaseKeeper l = lease;
        lease = null;
        if (l != null) {
            try {
                cluster.store().deleteIfLease(HaLoop.LEADER, l.leaseId());
            } catch (RuntimeException e) {
                log.warn("leaderl: could not delete the leader key; its lease expires: {}", e.getMessage());
            }
            try {
                l.close(true);
            } catch (RuntimeException e) {
                log.warn("leaderl: could not revoke the leader lease; it expires: {}", e.getMessage());
            }
        }
    }

    /**
     * Writes what only the leader may write, in a transaction guarded by this node's hold on the leader key; a
     * record its readers would refuse is not written ({@link Records.Invalid}).
     */
    void putAsLeader(String key, Records.Checked record) {
        String value = Records.json(record);
        LeaseKeeper l = lease;
        if (l == null || !cluster.store().putIfLease(key, value, HaLoop.LEADER, l.leaseId())) {
            throw new IllegalStateException("not holding the leader key");
        }
    }

    /**
     * While leading, PostgreSQL must be down a sixth of the TTL before the lease can expire unless this loop comes
     * round again (it fences itself at a third); otherwise the watchdog is disarmed.
     */
    void feedWatchdog(NodeContext ctx, State state) {
        Watchdog w = watchdog;
        LeaseKeeper l = lease;
        if (w == null) {
            return;
        }
        if (state == State.LEADER && l != null && l.alive()) {
            long ttlMs = ctx.settings().integer("leaderl.leader_ttl_seconds") * 1000L;
            long remainingMs = (l.deadlineNanos() - System.nanoTime()) / 1_000_000;
            w.arm(Watchdog.uptimeMillis() + remainingMs - ttlMs / 6);
        } else {
            w.disarm();
        }
    }

    void disarmWatchdog() {
        if (watchdog != null) {
            watchdog.disarm();
        }
    }
}
