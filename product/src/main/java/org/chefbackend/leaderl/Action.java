package org.chefbackend.leaderl;

/**
 * What the shell should do, in list order; it stops at the first action that fails, since the next iteration
 * decides again from what is then true. Every action is idempotent: repeating one that already took effect is a
 * no-op. The shell applies {@link Step#leaderEndpoint200()} before running any action, so {@code /leader} turns 503
 * before a fence or a handover starts.
 */
public sealed interface Action {

    /** Create the {@code leader} key if absent, bound to a new lease of leader_ttl_seconds (one txn, not retried). */
    record AcquireLeaderKey() implements Action {
    }

    /** Keep holding the key: refresh the lease when due, checking the key still carries this node's lease. */
    record RefreshLease() implements Action {
    }

    /** Stop refreshing and revoke the lease, deleting the key at once if etcd answers; else it expires at its TTL. */
    record ReleaseLeaderKey() implements Action {
    }

    /** Promote the local standby, wait until it takes writes, then CHECKPOINT (followers and pg_rewind need it). */
    record PromotePostgres() implements Action {
    }

    /** Write {@code no-start-pgsql}, then stop PostgreSQL at once (immediate mode): no more writes here. */
    record FencePostgres() implements Action {
    }

    /**
     * Handover: write {@code no-start-pgsql}, stop PostgreSQL cleanly (fast mode, so the shutdown checkpoint streams
     * to the standbys) and publish its final WAL position as the intent's drain position.
     */
    record StopAcceptingWrites() implements Action {
    }

    /** Start local PostgreSQL as configured: only ever asked of the key holder, whose primary it is. */
    record StartPostgres() implements Action {
    }

    /** Make local PostgreSQL a standby of {@code leader} through this node's slot, (re)starting it as needed. */
    record FollowLeader(String leader) implements Action {
    }

    /** CHECKPOINT on {@code leader}, stop local PostgreSQL cleanly, pg_rewind from it, then follow it. */
    record RewindFrom(String leader) implements Action {
    }

    /** With {@code unsynced} written first and removed on success: replace the data directory from {@code leader}. */
    record BaseBackupFrom(String leader) implements Action {
    }

    /**
     * Make the fenced data directory a standby with no upstream (read-only), remove {@code no-start-pgsql} and start
     * PostgreSQL: this node was the last leader and nobody has led since, so its data is the newest and it may stand
     * for election again (a whole cluster restarted, or a one-node cluster).
     */
    record ReinstateAsStandby() implements Action {
    }

    /** Remove {@code no-start-pgsql}: this node is a healthy follower again (or the key holder restarting). */
    record ClearNoStartPgsql() implements Action {
    }

    /** Append to etcd {@code history}: this node leads (or handed over) at WAL position {@code lsn}. */
    record RecordHistory(long lsn, long timeline) implements Action {
    }

    /**
     * Set local {@code synchronous_standby_names} to {@code standby} (null: commits stop waiting) and reload; for a
     * standby, return only once it has confirmed a flush position at or past the WAL position at which the setting
     * took effect, so every write acknowledged before is on it too.
     */
    record SetSynchronousStandby(String standby) implements Action {
    }

    /** Write etcd {@code sync}: the only node that may be elected automatically (null: none may). */
    record RecordSynchronousStandby(String standby) implements Action {
    }

    /**
     * Delete the pending intent of this kind (null: an unreadable one), recording its {@code outcome} for the
     * operator's command that waits on it.
     */
    record ClearIntent(Intent.Kind kind, Intent.Outcome outcome) implements Action {
    }
}
