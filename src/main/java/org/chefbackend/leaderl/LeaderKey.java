package org.chefbackend.leaderl;

import java.util.Optional;
import org.chefbackend.dcs.ClusterStore;
import org.chefbackend.dcs.LeaseKeeper;

/**
 * Taking the leader key: a create-if-absent bound to a fresh lease, whose keeper the caller owns once the key is
 * taken.
 */
final class LeaderKey {
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
     * The keeper, now holding {@code key}, or empty when another node holds it (the keeper is then closed and its
     * lease revoked).
     */
    static Optional<LeaseKeeper> take(Keys keys, String key, String value, LeaseKeeper keeper) {
        if (!keys.create(key, value, keeper.leaseId())) {
            keeper.close(true);
            return Optional.empty();
        }
        return Optional.of(keeper);
    }
}
