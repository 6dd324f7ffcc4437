package org.chefbackend.leaderl;

import java.util.Optional;
import org.chefbackend.dcs.ClusterStore;
import org.chefbackend.dcs.LeaseKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Taking the leader key: a create-if-absent bound to a fresh lease, whose keeper the caller owns once the key is
 * taken. A write whose answer was lost may still have happened: then {@link ClusterStore#holds} says whether the key
 * is ours, and it is adopted when it is. In every other outcome the keeper is closed and its lease revoked, so no
 * keeper outlives a failed attempt: a leaked one would keep the key alive for ever while this node waited for
 * "its own" key to expire.
 */
final class LeaderKey {
    private static final Logger log = LoggerFactory.getLogger(LeaderKey.class);

    /** The two etcd calls taking the key needs; a test's stand-in loses an answer after the write happened. */
    interface Keys {
        boolean create(String key, String value, long leaseId);

        boolean holds(String key, long leaseId);
    }

    private LeaderKey() {
    }

    static Keys of(ClusterStore store) {
        return new Keys() {
            @Override
            public boolean create(String key, String value, long leaseId) {
                return store.putIfAbsentWithLease(key, value, leaseId);
            }

            @Override
            public boolean holds(String key, long leaseId) {
                return store.holds(key, leaseId);
            }
        };
    }

    /**
     * The keeper, now holding {@code key}, or empty when another node holds it. Throws when the outcome stays
     * unknown; the keeper is then closed and its lease revoked (or, if etcd does not answer, left to expire
     * unrefreshed: the key goes with it).
     */
    static Optional<LeaseKeeper> take(Keys keys, String key, String value, LeaseKeeper keeper) {
        boolean created;
        try {
            created = keys.create(key, value, keeper.leaseId());
        } catch (RuntimeException lost) {
            boolean ours;
            try {
                ours = keys.holds(key, keeper.leaseId());
            } catch (RuntimeException unknown) {
                lost.addSuppressed(unknown);
                giveUp(keeper);
                throw lost;
            }
            if (!ours) {
                giveUp(keeper);
                throw lost;
            }
            log.info("leaderl: the write of {} failed ({}) but happened: the key is ours", key, lost.getMessage());
            return Optional.of(keeper);
        }
        if (!created) {
            giveUp(keeper);
            return Optional.empty();
        }
        return Optional.of(keeper);
    }

    private static void giveUp(LeaseKeeper keeper) {
        try {
            keeper.close(true);
        } catch (RuntimeException e) {
            // closed before the revoke was tried: nothing refreshes the lease, so it (and any key on it) expires
            log.warn("leaderl: could not revoke lease {}; it expires unrefreshed: {}",
                    Long.toHexString(keeper.leaseId()), e.getMessage());
        }
    }
}
