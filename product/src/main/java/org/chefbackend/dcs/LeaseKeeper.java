package org.chefbackend.dcs;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one lease alive from a daemon thread: one keep-alive request every TTL/3, retried on errors until the
 * lease's deadline. Not a long-lived keep-alive stream: a client that gives up on the lease when its stream breaks
 * (jetcd's did, and the stream breaks while etcd elects a new leader: etcd 3.4 with 500/5000 ms stalled renewals for
 * 10–11 s) loses a lease that survives an etcd leader election if someone keeps asking.
 *
 * <p>The deadline is the last successful refresh plus the TTL, measured from the moment that request was sent
 * (etcd extended the lease no earlier), on {@link System#nanoTime()} so wall-clock steps cannot move it. After it the
 * lease may be gone; holders of a leased key must stop acting as holders before it.
 *
 * <p>The listener is called once, on the keeper's thread, when etcd says the lease is gone or when the deadline
 * passes without a successful refresh; never after {@link #close}.
 */
public final class LeaseKeeper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LeaseKeeper.class);
    private static final long MAX_RETRY_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    /** One keep-alive request: true when refreshed, false when the lease is gone; throws DcsException otherwise. */
    interface Refresher {
        boolean refresh(long leaseId, long maxWaitNanos);
    }

    private final Refresher refresher;
    private final LongConsumer revoker;
    private final long leaseId;
    private final long ttlNanos;
    private final Consumer<String> onLost;
    private final BooleanSupplier ownerAlive;
    private final Thread thread;
    private final Object lock = new Object();

    private volatile long lastRefreshNanos;
    private boolean lost; // guarded by lock
    private boolean closed; // guarded by lock
    private volatile boolean revoked;

    LeaseKeeper(Refresher refresher, LongConsumer revoker, long leaseId, long ttlNanos, long grantedAtNanos,
            Consumer<String> onLost) {
        this(refresher, revoker, leaseId, ttlNanos, grantedAtNanos, onLost, () -> true);
    }

    LeaseKeeper(Refresher refresher, LongConsumer revoker, long leaseId, long ttlNanos, long grantedAtNanos,
            Consumer<String> onLost, BooleanSupplier ownerAlive) {
        this.ownerAlive = ownerAlive;
        this.refresher = refresher;
        this.revoker = revoker;
        this.leaseId = leaseId;
        this.ttlNanos = ttlNanos;
        this.lastRefreshNanos = grantedAtNanos;
        this.onLost = onLost;
        this.thread = new Thread(this::run, "lease-keeper-" + Long.toHexString(leaseId));
        this.thread.setDaemon(true);
    }

    /**
     * Grants a lease of {@code ttlSeconds} and keeps it alive until {@link #close}. {@code onLost} receives a short
     * reason.
     */
    public static LeaseKeeper start(ClusterStore store, long ttlSeconds, Consumer<String> onLost) {
        return start(store, ttlSeconds, onLost, () -> true);
    }

    /**
     * As {@link #start(ClusterStore, long, Consumer)}, but refreshes only while {@code ownerAlive} says the lease's
     * owner still works: a holder whose own loop hung must lose the lease, not keep it alive from this thread.
     */
    public static LeaseKeeper start(ClusterStore store, long ttlSeconds, Consumer<String> onLost,
            BooleanSupplier ownerAlive) {
        long sent = System.nanoTime(); // the lease cannot have started before its grant was sent
        long leaseId = store.grantLease(ttlSeconds);
        LeaseKeeper keeper = new LeaseKeeper(store::keepAliveOnce, store::revokeLease, leaseId,
                TimeUnit.SECONDS.toNanos(ttlSeconds), sent, onLost, ownerAlive);
        keeper.startThread();
        return keeper;
    }

    void startThread() {
        thread.start();
    }

    public long leaseId() {
        return leaseId;
    }

    /** {@link System#nanoTime()} when the last successful refresh (or the grant) was sent. */
    public long lastRefreshNanos() {
        return lastRefreshNanos;
    }

    /** {@link System#nanoTime()} from which the lease may be gone. */
    public long deadlineNanos() {
        return lastRefreshNanos + ttlNanos;
    }

    /** The lease can still be counted on: not reported lost, not revoked, and its deadline is ahead. */
    public boolean alive() {
        synchronized (lock) {
            if (lost) {
                return false;
            }
        }
        return !revoked && System.nanoTime() - deadlineNanos() < 0;
    }

    /** Stops refreshing; the lease ends by itself at its deadline. */
    @Override
    public void close() {
        close(false);
    }

    /**
     * Stops refreshing, then revokes the lease when asked (its keys go at once). A failed revoke throws
     * DcsException; the lease still ends at its deadline.
     */
    public void close(boolean revoke) {
        synchronized (lock) {
            closed = true;
        }
        LockSupport.unpark(thread);
        if (Thread.currentThread() != thread) {
            try {
                // an in-flight refresh would extend the lease past close(); wait for it (bounded by its timeout)
                thread.join(TimeUnit.NANOSECONDS.toMillis(ttlNanos) + 1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (revoke) {
            revoker.accept(leaseId);
            revoked = true;
        }
    }

    private void run() {
        long intervalNanos = Math.max(1, ttlNanos / 3);
        long retryDelayNanos = Math.min(intervalNanos, MAX_RETRY_DELAY_NANOS);
        long nextAttempt = lastRefreshNanos + intervalNanos;
        int failures = 0;
        while (!isClosed()) {
            long now = System.nanoTime();
            long deadline = deadlineNanos();
            if (now - deadline >= 0) {
                lose("lease " + Long.toHexString(leaseId) + " not refreshed within its "
                        + TimeUnit.NANOSECONDS.toMillis(ttlNanos) + " ms TTL (" + failures + " failed attempts)");
                return;
            }
            long wakeAt = nextAttempt - deadline < 0 ? nextAttempt : deadline;
            if (wakeAt - now > 0) {
                LockSupport.parkNanos(this, wakeAt - now); // close() unparks; spurious wake-ups just loop
                continue;
            }
            if (!ownerAlive.getAsBoolean()) {
                if (failures++ == 0) {
                    LOG.warn("lease {}: its owner stopped checking in; no longer refreshing it",
                            Long.toHexString(leaseId));
                }
                nextAttempt = System.nanoTime() + retryDelayNanos;
                continue;
            }
            long sent = System.nanoTime();
            try {
                // never wait past the deadline: the listener must hear of the loss on time
                if (!refresher.refresh(leaseId, deadline - sent)) {
                    lose("lease " + Long.toHexString(leaseId) + " expired or was revoked");
                    return;
                }
                lastRefreshNanos = sent;
                nextAttempt = sent + intervalNanos;
                failures = 0;
            } catch (RuntimeException e) {
                failures++;
                nextAttempt = System.nanoTime() + retryDelayNanos;
                if (failures == 1) { // one line per outage, not one per attempt
                    LOG.warn("keep-alive of lease {} failed, retrying until its deadline: {}",
                            Long.toHexString(leaseId), e.getMessage());
                }
            }
        }
    }

    private boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    private void lose(String reason) {
        synchronized (lock) {
            if (closed || lost) {
                return;
            }
            lost = true;
        }
        LOG.warn("{}", reason);
        try {
            onLost.accept(reason);
        } catch (RuntimeException e) {
            LOG.warn("lease-loss listener failed", e);
        }
    }
}
