package org.chefbackend.leaderl;

/**
 * The synchronous standby as this node last knew it: the one PostgreSQL confirmed (commits waited for it and it
 * held every earlier write) and the one etcd {@code sync} names. The sole owner of both: the loop's thread writes
 * them (facts and actions), /status reads them, hence volatile.
 */
final class SyncStandbys {
    /** The standby that confirmed holding every write made before commits started waiting for it. */
    private volatile String confirmed;
    /** What etcd {@code sync} said at the last look (or was last written here), for status. */
    private volatile String recorded;

    String confirmed() {
        return confirmed;
    }

    void confirmed(String standby) {
        confirmed = standby;
    }

    String recorded() {
        return recorded;
    }

    void recorded(String standby) {
        recorded = standby;
    }
}
