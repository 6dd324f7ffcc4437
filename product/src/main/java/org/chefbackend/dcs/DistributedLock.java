package org.chefbackend.dcs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A lock for rare, slow cluster operations (join-cluster): a key created only if absent, bound to a lease that a
 * {@link LeaseKeeper} refreshes while the lock is held. If the holder dies, the lock frees itself after the TTL.
 *
 * <p>Like every lease-based lock it cannot guarantee mutual exclusion on its own (a paused holder may still act
 * after its lease ended): use it to keep nodes from stepping on each other, and check {@link #held()} before each
 * step, not as a fence for data.
 */
public final class DistributedLock implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DistributedLock.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    private final ClusterStore store;
    private final String key;
    private final String holder;
    private final LeaseKeeper keeper;
    private boolean released;

    private DistributedLock(ClusterStore store, String key, String holder, LeaseKeeper keeper) {
        this.store = store;
        this.key = key;
        this.holder = holder;
        this.keeper = keeper;
    }

    /** Takes the lock if nobody holds it; empty when someone does. */
    public static Optional<DistributedLock> tryAcquire(ClusterStore store, String key, String holder, long ttlSeconds) {
        LeaseKeeper keeper = LeaseKeeper.start(store, ttlSeconds,
                reason -> LOG.warn("lock {} held by {} is lost: {}", key, holder, reason));
        boolean won;
        try {
            won = store.putIfAbsentWithLease(key, encode(holder), keeper.leaseId());
        } catch (DcsException e) {
            // the outcome is unknown: revoking the lease removes the key if the write did happen
            revokeQuietly(keeper);
            throw e;
        }
        if (!won) {
            revokeQuietly(keeper);
            return Optional.empty();
        }
        return Optional.of(new DistributedLock(store, key, holder, keeper));
    }

    /**
     * Takes the lock, polling until {@code wait} has passed; then throws DcsException "lock &lt;key&gt; is held by
     * &lt;holder&gt;". etcd errors while waiting (an election, say) are retried until then too.
     */
    public static DistributedLock acquire(ClusterStore store, String key, String holder, long ttlSeconds,
            Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            String heldBy;
            try {
                Optional<ClusterStore.Versioned> current = store.get(key);
                if (current.isEmpty()) { // only then spend a lease on an attempt
                    Optional<DistributedLock> lock = tryAcquire(store, key, holder, ttlSeconds);
                    if (lock.isPresent()) {
                        return lock.get();
                    }
                    current = store.get(key);
                }
                heldBy = "is held by " + current.map(v -> holderOf(v.value())).orElse("nobody any more; try again");
            } catch (DcsException e) {
                heldBy = "could not be taken: " + e.getMessage();
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new DcsException("lock " + key + " " + heldBy);
            }
            sleepNanos(Math.min(left, POLL_NANOS));
        }
    }

    public String key() {
        return key;
    }

    public String holder() {
        return holder;
    }

    public long leaseId() {
        return keeper.leaseId();
    }

    /** Still ours as far as this process can tell: not released and the lease's deadline is ahead. */
    public synchronized boolean held() {
        return !released && keeper.alive();
    }

    /**
     * Deletes the key if it is still ours and revokes the lease. Throws DcsException when etcd could be reached for
     * neither; the lock then frees itself when the lease expires.
     */
    public synchronized void release() {
        if (released) {
            return;
        }
        released = true;
        keeper.close(); // stop refreshing first, so nothing extends the lease after this
        DcsException failure = null;
        try {
            store.deleteIfLease(key, keeper.leaseId());
        } catch (DcsException e) {
            failure = e;
        }
        try {
            store.revokeLease(keeper.leaseId()); // also removes the key if the delete failed
        } catch (DcsException e) {
            throw failure != null ? failure : e;
        }
    }

    @Override
    public void close() {
        release();
    }

    static String encode(String holder) {
        try {
            return JSON.writeValueAsString(Map.of("holder", holder));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The holder named in a lock's value; the raw value when it is not ours. */
    static String holderOf(String value) {
        try {
            JsonNode holder = JSON.readTree(value).path("holder");
            return holder.isTextual() ? holder.asText() : value;
        } catch (JsonProcessingException | RuntimeException e) {
            return value;
        }
    }

    private static void revokeQuietly(LeaseKeeper keeper) {
        try {
            keeper.close(true);
        } catch (DcsException e) {
            LOG.warn("could not revoke lease {}; it expires by itself: {}", Long.toHexString(keeper.leaseId()),
                    e.getMessage());
        }
    }

    private static void sleepNanos(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DcsException("interrupted while waiting for a lock");
        }
    }
}
