package org.chefbackend.leaderl;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Everything one loop iteration observed: the only input of {@link Decision#next}. Immutable. Absent names are
 * {@code null}; absent WAL positions are {@link #NO_POSITION}. Times are {@link System#nanoTime()} values read by the
 * shell, compared only by difference.
 *
 * @param nowNanos when these facts were gathered (monotonic)
 * @param self this node's name
 * @param state the state the previous step chose
 * @param dcsReachable etcd answered this iteration's reads; when false, {@code leader}, {@code intent} and the other
 *     etcd facts are the last known values and prove nothing
 * @param leader holder of the {@code leader} key as read from etcd, null when there is no key or it is unreadable
 * @param leaderUnreadable the {@code leader} key exists but holds no valid record of a member at its recorded
 *     address (anyone with etcd access may have written it): nobody follows it, and nobody can take the key
 * @param holdsLeaderKey this node's lease keeper holds the key and has not reported the lease lost
 * @param leaseDeadlineNanos last successful refresh + TTL: from then on the key may be someone else's
 * @param pgRunning the local PostgreSQL server process runs
 * @param pgAccepting it accepts connections
 * @param pgInRecovery it is a standby (when it accepts no connections: its data directory is set up as one)
 * @param pgLsn its WAL position: replay LSN on a standby, current LSN on a primary
 * @param pgTimeline its timeline
 * @param pgUpstream the node its standby configuration follows, null when none
 * @param pgStreaming its WAL receiver is streaming
 * @param followTrouble why the last attempt to follow or rejoin failed
 * @param rejoinedTo the leader whose timeline this node's data directory was last made a copy of (by pg_rewind, or
 *     found not to need it, or by a base backup) in the current rejoin sequence; null when none was
 * @param rejoinRetryAtNanos a failed rejoin attempt may be tried again from then on (0: at once)
 * @param pgsqlHealthy PostgreSQL check, after {@code max_pgsql_failures} hysteresis
 * @param elasticsearchHealthy search check, after {@code max_elasticsearch_failures}
 * @param etcdHealthy this node's own etcd member, after {@code max_etcd_failures}
 * @param disksHealthy every {@code disk_paths} entry has {@code disk_min_space_mb} free
 * @param noStartPgsql the {@code no-start-pgsql} sentinel exists (fenced former leader)
 * @param bootFenced {@code no-start-pgsql} was written without a fault: at agent start because PostgreSQL was a
 *     primary then (a crash or power loss), or by this leader's own clean stop (node stop, stop leaderl); not by
 *     leaderl fencing a leader that lost its lease or failed its checks
 * @param unsynced the {@code unsynced} sentinel exists (a sync failed or is incomplete: partially_synced)
 * @param clusterFailover failover enabled cluster-wide ({@code set-cluster-failover})
 * @param nodeFailover failover enabled for this node ({@code set-node-failover})
 * @param intent the operator's pending request, null when none
 * @param peers fresh answers of the other nodes asked directly this iteration, by name; silent nodes are absent.
 *     A peer's {@code eligible} is its own {@link Decision#ineligibility} being empty
 * @param lastLeaderLsn the last leader's last recorded WAL position: the newest of its {@code history} entry and
 *     the position in its last published status
 * @param lastLeaderTimeline the timeline recorded with it, 0 when unknown
 * @param lastLeaderName the node {@code history} names as the last leader, null when unknown
 * @param historyUnreadable etcd {@code history} exists but cannot be read: what the last leader had is unknown, not
 *     "nobody ever led" (the last-leader fields then say nothing)
 * @param unreadableIntentTimedOut etcd {@code intent} cannot be read (ignored by everyone: {@code intent} is then
 *     null) and is older than {@code control_worker_timeout_seconds}, or says nothing of its age: the leader clears it
 * @param syncStandby the standby recorded in etcd ({@code sync}) as synchronous, null when none may be elected
 * @param pgSyncStandby the standby local PostgreSQL's {@code synchronous_standby_names} names, null when none
 * @param pgSyncConfirmed that standby has confirmed holding every write made before commits began to wait for it
 * @param streamingFollowers followers streaming from this node through their replication slots
 * @param followerReplyAgeMillis per streaming follower, how long ago (ms, on this node's monotonic clock) its last
 *     reply reached this node: the time since its {@code pg_stat_replication.reply_time} was last seen to change. A
 *     follower not in the map counts as just heard from (0)
 * @param healthNotes what the failed health checks said, by check name ("elasticsearch" -> "elasticsearch check 5/5
 *     failures: no elected cluster manager"): only for the reasons shown to operators, never decided on
 */
public record Facts(
        long nowNanos,
        String self,
        State state,
        boolean dcsReachable,
        String leader,
        boolean leaderUnreadable,
        boolean holdsLeaderKey,
        long leaseDeadlineNanos,
        boolean pgRunning,
        boolean pgAccepting,
        boolean pgInRecovery,
        long pgLsn,
        long pgTimeline,
        String pgUpstream,
        boolean pgStreaming,
        FollowTrouble followTrouble,
        String rejoinedTo,
        long rejoinRetryAtNanos,
        boolean pgsqlHealthy,
        boolean elasticsearchHealthy,
        boolean etcdHealthy,
        boolean disksHealthy,
        boolean noStartPgsql,
        boolean bootFenced,
        boolean unsynced,
        boolean clusterFailover,
        boolean nodeFailover,
        Intent intent,
        Map<String, Peer> peers,
        long lastLeaderLsn,
        long lastLeaderTimeline,
        String lastLeaderName,
        boolean historyUnreadable,
        boolean unreadableIntentTimedOut,
        String syncStandby,
        String pgSyncStandby,
        boolean pgSyncConfirmed,
        Set<String> streamingFollowers,
        Map<String, Long> followerReplyAgeMillis,
        Map<String, String> healthNotes) {

    /** No known WAL position (PostgreSQL never uses LSN 0, so every real position is above this). */
    public static final long NO_POSITION = -1;

    /**
     * Another node, as it answered when asked directly. {@code healthyNow}: its last probe of every health check
     * passed (an eligible node may be failing within its hysteresis; a leader that gives up for its own health hands
     * over only to a node that is not failing too).
     */
    public record Peer(boolean eligible, long lsn, boolean healthyNow) {
        /** A peer whose checks all pass when it is eligible. */
        public Peer(boolean eligible, long lsn) {
            this(eligible, lsn, eligible);
        }
    }

    /** Why the last attempt to follow (or rejoin) failed. The shell resets it when an attempt succeeds. */
    public enum FollowTrouble {
        NONE,
        /** The leader no longer has WAL this standby needs ("requested WAL segment … has already been removed"). */
        WAL_GONE,
        /** This node's timeline forked from the leader's (it has WAL the leader never had). */
        DIVERGED,
        /** pg_rewind cannot work (WAL it needs is gone here, or it failed after a clean retry): a base backup. */
        REWIND_FAILED
    }

    public Facts {
        Objects.requireNonNull(self, "self");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(followTrouble, "followTrouble");
        // sorted copies: iteration order is part of determinism
        peers = Collections.unmodifiableSortedMap(new TreeMap<>(peers));
        streamingFollowers = Collections.unmodifiableSortedSet(new TreeSet<>(streamingFollowers));
        followerReplyAgeMillis = Collections.unmodifiableSortedMap(new TreeMap<>(followerReplyAgeMillis));
        healthNotes = Collections.unmodifiableSortedMap(new TreeMap<>(healthNotes));
    }

    /** Time left on this node's lease (negative once past). */
    public long leaseRemainingNanos() {
        return leaseDeadlineNanos - nowNanos;
    }

    /** How long ago {@code follower}'s last reply arrived, in ms (0 when not known: just heard from). */
    public long replyAgeMillis(String follower) {
        return followerReplyAgeMillis.getOrDefault(follower, 0L);
    }

    /** PostgreSQL here takes writes. */
    public boolean pgWritable() {
        return pgRunning && pgAccepting && !pgInRecovery;
    }

    public static Builder builder(String self) {
        return new Builder(self);
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * Starts from a healthy, streaming-capable standby that sees etcd and no leader, with failover enabled: tests
     * state only what differs.
     */
    public static final class Builder {
        private long nowNanos;
        private String self;
        private State state = State.INITIALIZING;
        private boolean dcsReachable = true;
        private String leader;
        private boolean leaderUnreadable;
        private boolean holdsLeaderKey;
        private long leaseDeadlineNanos;
        private boolean pgRunning = true;
        private boolean pgAccepting = true;
        private boolean pgInRecovery = true;
        private long pgLsn;
        private long pgTimeline = 1;
        private String pgUpstream;
        private boolean pgStreaming;
        private FollowTrouble followTrouble = FollowTrouble.NONE;
        private String rejoinedTo;
        private long rejoinRetryAtNanos;
        private boolean pgsqlHealthy = true;
        private boolean elasticsearchHealthy = true;
        private boolean etcdHealthy = true;
        private boolean disksHealthy = true;
        private boolean noStartPgsql;
        private boolean bootFenced;
        private boolean unsynced;
        private boolean clusterFailover = true;
        private boolean nodeFailover = true;
        private Intent intent;
        private Map<String, Peer> peers = new TreeMap<>();
        private long lastLeaderLsn = NO_POSITION;
        private long lastLeaderTimeline;
        private String lastLeaderName;
        private boolean historyUnreadable;
        private boolean unreadableIntentTimedOut;
        private String syncStandby;
        private String pgSyncStandby;
        private boolean pgSyncConfirmed = true;
        private Set<String> streamingFollowers = new TreeSet<>();
        private Map<String, Long> followerReplyAgeMillis = new TreeMap<>();
        private Map<String, String> healthNotes = new TreeMap<>();

        private Builder(String self) {
            this.self = self;
        }

        private Builder(Facts f) {
            nowNanos = f.nowNanos;
            self = f.self;
            state = f.state;
            dcsReachable = f.dcsReachable;
            leader = f.leader;
            leaderUnreadable = f.leaderUnreadable;
            holdsLeaderKey = f.holdsLeaderKey;
            leaseDeadlineNanos = f.leaseDeadlineNanos;
            pgRunning = f.pgRunning;
            pgAccepting = f.pgAccepting;
            pgInRecovery = f.pgInRecovery;
            pgLsn = f.pgLsn;
            pgTimeline = f.pgTimeline;
            pgUpstream = f.pgUpstream;
            pgStreaming = f.pgStreaming;
            followTrouble = f.followTrouble;
            rejoinedTo = f.rejoinedTo;
            rejoinRetryAtNanos = f.rejoinRetryAtNanos;
            pgsqlHealthy = f.pgsqlHealthy;
            elasticsearchHealthy = f.elasticsearchHealthy;
            etcdHealthy = f.etcdHealthy;
            disksHealthy = f.disksHealthy;
            noStartPgsql = f.noStartPgsql;
            bootFenced = f.bootFenced;
            unsynced = f.unsynced;
            clusterFailover = f.clusterFailover;
            nodeFailover = f.nodeFailover;
            intent = f.intent;
            peers = new TreeMap<>(f.peers);
            lastLeaderLsn = f.lastLeaderLsn;
            lastLeaderTimeline = f.lastLeaderTimeline;
            lastLeaderName = f.lastLeaderName;
            historyUnreadable = f.historyUnreadable;
            unreadableIntentTimedOut = f.unreadableIntentTimedOut;
            syncStandby = f.syncStandby;
            pgSyncStandby = f.pgSyncStandby;
            pgSyncConfirmed = f.pgSyncConfirmed;
            streamingFollowers = new TreeSet<>(f.streamingFollowers);
            followerReplyAgeMillis = new TreeMap<>(f.followerReplyAgeMillis);
            healthNotes = new TreeMap<>(f.healthNotes);
        }

        public Builder now(long nanos) { nowNanos = nanos; return this; }
        public Builder state(State s) { state = s; return this; }
        public Builder dcsReachable(boolean v) { dcsReachable = v; return this; }
        public Builder leader(String name) { leader = name; return this; }
        public Builder leaderUnreadable(boolean v) { leaderUnreadable = v; return this; }
        public Builder holdsLeaderKey(boolean v) { holdsLeaderKey = v; return this; }
        public Builder leaseDeadline(long nanos) { leaseDeadlineNanos = nanos; return this; }
        public Builder pgRunning(boolean v) { pgRunning = v; return this; }
        public Builder pgAccepting(boolean v) { pgAccepting = v; return this; }
        public Builder pgInRecovery(boolean v) { pgInRecovery = v; return this; }
        public Builder pgLsn(long lsn) { pgLsn = lsn; return this; }
        public Builder pgTimeline(long tli) { pgTimeline = tli; return this; }
        public Builder pgUpstream(String name) { pgUpstream = name; return this; }
        public Builder pgStreaming(boolean v) { pgStreaming = v; return this; }
        public Builder followTrouble(FollowTrouble t) { followTrouble = t; return this; }
        public Builder rejoinedTo(String leaderName) { rejoinedTo = leaderName; return this; }
        public Builder rejoinRetryAt(long nanos) { rejoinRetryAtNanos = nanos; return this; }
        public Builder pgsqlHealthy(boolean v) { pgsqlHealthy = v; return this; }
        public Builder elasticsearchHealthy(boolean v) { elasticsearchHealthy = v; return this; }
        public Builder etcdHealthy(boolean v) { etcdHealthy = v; return this; }
        public Builder disksHealthy(boolean v) { disksHealthy = v; return this; }
        public Builder noStartPgsql(boolean v) { noStartPgsql = v; return this; }
        public Builder bootFenced(boolean v) { bootFenced = v; return this; }
        public Builder unsynced(boolean v) { unsynced = v; return this; }
        public Builder clusterFailover(boolean v) { clusterFailover = v; return this; }
        public Builder nodeFailover(boolean v) { nodeFailover = v; return this; }
        public Builder intent(Intent i) { intent = i; return this; }
        public Builder peer(String name, boolean eligible, long lsn) { peers.put(name, new Peer(eligible, lsn)); return this; }
        public Builder peers(Map<String, Peer> p) { peers = new TreeMap<>(p); return this; }
        public Builder lastLeader(long lsn, long timeline) { lastLeaderLsn = lsn; lastLeaderTimeline = timeline; return this; }
        public Builder lastLeaderName(String name) { lastLeaderName = name; return this; }
        public Builder historyUnreadable(boolean v) { historyUnreadable = v; return this; }
        public Builder unreadableIntentTimedOut(boolean v) { unreadableIntentTimedOut = v; return this; }
        public Builder syncStandby(String name) { syncStandby = name; return this; }
        public Builder pgSyncStandby(String name) { pgSyncStandby = name; return this; }
        public Builder pgSyncConfirmed(boolean v) { pgSyncConfirmed = v; return this; }
        public Builder streamingFollowers(String... names) { streamingFollowers = new TreeSet<>(Set.of(names)); return this; }
        public Builder streamingFollowers(Set<String> names) { streamingFollowers = new TreeSet<>(names); return this; }
        public Builder replyAge(String follower, long millis) { followerReplyAgeMillis.put(follower, millis); return this; }
        public Builder followerReplyAgeMillis(Map<String, Long> ages) { followerReplyAgeMillis = new TreeMap<>(ages); return this; }
        public Builder healthNotes(Map<String, String> notes) { healthNotes = new TreeMap<>(notes); return this; }

        public Facts build() {
            return new Facts(nowNanos, self, state, dcsReachable, leader, leaderUnreadable, holdsLeaderKey,
                    leaseDeadlineNanos,
                    pgRunning, pgAccepting, pgInRecovery, pgLsn, pgTimeline, pgUpstream, pgStreaming, followTrouble,
                    rejoinedTo, rejoinRetryAtNanos, pgsqlHealthy, elasticsearchHealthy, etcdHealthy, disksHealthy,
                    noStartPgsql, bootFenced, unsynced,
                    clusterFailover, nodeFailover, intent, peers, lastLeaderLsn, lastLeaderTimeline, lastLeaderName,
                    historyUnreadable, unreadableIntentTimedOut, syncStandby,
                    pgSyncStandby, pgSyncConfirmed, streamingFollowers, followerReplyAgeMillis, healthNotes);
        }
    }
}
