package org.chefbackend.leaderl;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.chefbackend.cluster.ClusterAgent;
import org.chefbackend.dcs.ClusterStore;
import org.chefbackend.dcs.DcsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What makes the loop run before its next tick: a change of the leader key or of the operator's intent (watches),
 * a lost lease, a step that made progress. Its watches and count are the loop's thread's only.
 */
final class Wakeup {
    // logs as HaLoop: the agent's log names the logger, and its lines stay as operators know them
    private static final Logger log = LoggerFactory.getLogger(HaLoop.class);

    private final Semaphore wake = new Semaphore(0);
    private ClusterStore.Subscription watch;
    private ClusterStore.Subscription intentWatch;
    /** Iterations run at once after one that made progress, in a row; bounded so a step that repeats can't spin. */
    private int immediateRuns;

    /** The next iteration runs at once (callable from any thread). */
    void now() {
        wake.release();
    }

    /** The leader key and the operator's intent: a change of either is acted on at once, not at the next tick. */
    void watch(ClusterAgent cluster) {
        try {
            if (watch == null) {
                watch = cluster.store().watch(HaLoop.LEADER, v -> wake.release());
            }
            if (intentWatch == null) {
                intentWatch = cluster.store().watch("intent", v -> wake.release());
            }
        } catch (DcsException e) {
            log.debug("leaderl: cannot watch the leader key yet: {}", e.getMessage());
        }
    }

    /**
     * A step that changed something is followed at once by the next (a switchover or a promotion takes several),
     * not a tick later; at most three in a row.
     */
    void afterStep(boolean progressed) {
        if (progressed && immediateRuns < 3) {
            immediateRuns++;
            wake.release();
        } else if (!progressed) {
            immediateRuns = 0;
        }
    }

    /** Waits up to {@code tickMs} for a reason to run again; an interrupt is kept for the loop to see. */
    void await(long tickMs) {
        try {
            if (wake.tryAcquire(tickMs, TimeUnit.MILLISECONDS)) {
                wake.drainPermits();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void close() {
        if (watch != null) {
            watch.close();
            watch = null;
        }
        if (intentWatch != null) {
            intentWatch.close();
            intentWatch = null;
        }
    }
}
