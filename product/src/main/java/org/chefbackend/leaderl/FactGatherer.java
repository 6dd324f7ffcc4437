package org.chefbackend.leaderl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.chefbackend.agent.HealthMonitor;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeState;
import org.chefbackend.agent.Supervisor;
import org.chefbackend.cluster.ClusterAgent;
import org.chefbackend.cluster.RecordReader;
import org.chefbackend.cluster.Records;
import org.chefbackend.dcs.ClusterStore;
import org.chefbackend.dcs.DcsException;
import org.chefbackend.dcs.LeaseKeeper;
import org.chefbackend.postgres.LocalSession;
import org.chefbackend.postgres.ReplicationStatus;
import org.chefbackend.postgres.StandbyConfig;
import org.chefbackend.postgres.SynchronousStandby;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loop's eyes: gathers one iteration's {@link Facts} from etcd, the local PostgreSQL (its session, its log),
 * the health checks and the peers' fresh positions. Reads only; what it remembers between iterations is its own
 * (the PostgreSQL session, followers' reply times, unreadable keys already reported).
 */
final class FactGatherer {
    // logs as HaLoop: the agent's log names the logger, and its lines stay as operators know them
    private static final Logger log = LoggerFactory.getLogger(HaLoop.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Supplier<NodeContext> node;
    private final ClusterAgent cluster;
    private final Supervisor supervisor;
    private final HealthMonitor health;
    private final LeaderLease lease;
    private final Rejoin rejoin;
    private final PostgresLogSigns logSigns;
    private final SyncStandbys sync;
    private final LocalSession localSession;
    private final ReplyAges replies = new ReplyAges();
    /** Reads etcd's records; says once per value that one is unreadable. */
    private final RecordReader records = new RecordReader(line -> log.warn("leaderl: {}", line));

    FactGatherer(Supplier<NodeContext> node, ClusterAgent cluster, Supervisor supervisor, HealthMonitor health,
            LeaderLease lease, Rejoin rejoin, PostgresLogSigns logSigns, SyncStandbys sync) {
        this.node = node;
        this.cluster = cluster;
        this.supervisor = supervisor;
        this.health = health;
        this.lease = lease;
        this.rejoin = rejoin;
        this.logSigns = logSigns;
        this.sync = sync;
        this.localSession = new LocalSession(node, 2000);
    }

    /** Closes the session to the local PostgreSQL (the loop stops). */
    void close() {
        localSession.close();
    }

    /**
     * @param state the loop's state now
     * @param lastLsn the position last seen, reported again while PostgreSQL does not answer
     */
    Facts gather(NodeContext ctx, State state, long lastLsn) {
        ClusterStore store = cluster.store();
        Map<String, Records.Member> members = new LinkedHashMap<>();
        Facts.Builder f = Facts.builder(ctx.nodeName()).now(System.nanoTime()).state(state);
        try {
            members.putAll(cluster.members());
            Optional<ClusterStore.Versioned> key = store.get(HaLoop.LEADER);
            Optional<Records.Leader> leader = records.leader(HaLoop.LEADER, key, members,
                    "followed by nobody; no election while it stands");
            LeaseKeeper l = lease.current();
            boolean mine = l != null && l.alive() && key.map(v -> v.leaseId() == l.leaseId()).orElse(false);
            f.leader(leader.map(Records.Leader::name).orElse(null))
                    .leaderUnreadable(key.isPresent() && leader.isEmpty()).holdsLeaderKey(mine)
                    .leaseDeadline(l != null ? l.deadlineNanos() : 0);
            readHistory(records, store.get(HaLoop.HISTORY), f);
            store.get("intent").ifPresent(v -> readIntent(ctx, v, f));
            // unknown (null) when unreadable: then, in synchronous mode, no node is elected automatically
            String recorded = records.one(HaLoop.SYNC, store.get(HaLoop.SYNC), Records.Sync.class,
                    "no standby counts as synchronous until the leader records one").map(Records.Sync::standby)
                    .orElse(null);
            sync.recorded(recorded);
            f.syncStandby(recorded);
            f.clusterFailover(!"off".equals(store.get("settings/failover").map(ClusterStore.Versioned::value).orElse("on")));
            f.nodeFailover(!"off".equals(store.get("failover/" + ctx.nodeName()).map(ClusterStore.Versioned::value)
                    .orElse("on")));
        } catch (DcsException e) {
            f.dcsReachable(false);
            LeaseKeeper l = lease.current();
            f.holdsLeaderKey(l != null && l.alive()).leaseDeadline(l != null ? l.deadlineNanos() : 0);
        }
        postgres(ctx, f, members, lastLsn);
        Map<String, HealthMonitor.Check> checks = health.checks();
        f.pgsqlHealthy(healthy(checks, "pgsql")).elasticsearchHealthy(healthy(checks, "elasticsearch"))
                .etcdHealthy(healthy(checks, "etcd")).disksHealthy(healthy(checks, "disks"))
                .healthNotes(health.failing())
                .noStartPgsql(NodeState.hasSentinel(ctx.paths(), NodeState.NO_START_PGSQL))
                .bootFenced(bootFenced(ctx))
                .unsynced(NodeState.hasSentinel(ctx.paths(), NodeState.UNSYNCED))
                .followTrouble(followTrouble())
                .rejoinedTo(rejoin.rejoinedTo()).rejoinRetryAt(rejoin.retryAtNanos());
        f.peers(PeerPositions.ask(ctx.nodeName(), members));
        return stillForkedAfterRejoin(f.build(), rejoin, this::followTrouble);
    }

    /**
     * A standby forked from the leader it had rejoined: that rejoin did not work, and counts as a failed attempt
     * ({@link Rejoin#stillForked}). The facts then say so: rejoined to nobody, the retry time, and the follow trouble
     * read again by {@code rescan} (a rewind that failed twice leaves only a base backup).
     */
    static Facts stillForkedAfterRejoin(Facts facts, Rejoin rejoin, Supplier<Facts.FollowTrouble> rescan) {
        if (facts.followTrouble() != Facts.FollowTrouble.DIVERGED || facts.pgUpstream() == null
                || !facts.pgUpstream().equals(rejoin.rejoinedTo())) {
            return facts;
        }
        rejoin.stillForked("still forked from " + facts.pgUpstream() + " after rejoining it", facts.nowNanos());
        log.warn("leaderl: {}", rejoin.lastFailure());
        return facts.toBuilder().rejoinedTo(null).rejoinRetryAt(rejoin.retryAtNanos()).followTrouble(rescan.get())
                .build();
    }

    /** Fenced without a fault: at agent start after a crash, or by its own clean stop as leader. */
    private static boolean bootFenced(NodeContext ctx) {
        try {
            String note = Files.readString(NodeState.sentinel(ctx.paths(), NodeState.NO_START_PGSQL)).strip();
            return note.equals(NodeState.BOOT_FENCE_NOTE) || note.equals(NodeState.STOP_FENCE_NOTE);
        } catch (IOException e) {
            return false;
        }
    }

    /** Why this standby cannot stream, after reading what PostgreSQL logged since the last look. */
    private Facts.FollowTrouble followTrouble() {
        logSigns.scan(node.get().logDirectory("postgresql").resolve("current"));
        return rejoin.rewindImpossible() ? Facts.FollowTrouble.REWIND_FAILED
                : logSigns.walGone() ? Facts.FollowTrouble.WAL_GONE
                : logSigns.diverged() ? Facts.FollowTrouble.DIVERGED : Facts.FollowTrouble.NONE;
    }

    /** The host standby.conf's primary_conninfo names, null on a primary. */
    private static String configuredUpstream(NodeContext ctx) {
        Path conf = ctx.path("postgresql.data_dir").resolve(StandbyConfig.STANDBY_CONF);
        try {
            Matcher m = Pattern.compile("host=([^\\s']+)").matcher(Files.readString(conf));
            return m.find() ? m.group(1) : null;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * etcd {@code history}: the last leader's name and its last recorded position and timeline. An invalid value
     * ({@link Records.History}) is unknown, never "nobody ever led" (which would waive the data-loss guards).
     */
    static void readHistory(RecordReader records, Optional<ClusterStore.Versioned> value, Facts.Builder f) {
        Optional<Records.History> h = records.one(HaLoop.HISTORY, value, Records.History.class,
                "no automatic election until an operator's promote");
        h.ifPresent(r -> f.lastLeader(r.lsn(), r.timeline()).lastLeaderName(r.leader()));
        f.historyUnreadable(value.isPresent() && h.isEmpty());
    }

    /**
     * etcd {@code intent}. An unreadable one (anyone with etcd access may write there) is ignored, said once, and
     * cleared by the leader once it has timed out, as any intent is.
     */
    private void readIntent(NodeContext ctx, ClusterStore.Versioned v, Facts.Builder f) {
        long now = System.currentTimeMillis();
        long timeoutMillis = ctx.settings().integer("leaderl.control_worker_timeout_seconds") * 1000L;
        try {
            f.intent(Intent.parse(v.value(), now, timeoutMillis));
        } catch (IllegalArgumentException e) {
            records.note("intent", v, e.getMessage(), "ignored until it times out");
            f.unreadableIntentTimedOut(now - Intent.askedAt(v.value()) > timeoutMillis);
        }
    }

    private void postgres(NodeContext ctx, Facts.Builder f, Map<String, Records.Member> members, long lastLsn) {
        boolean running = supervisor.status("postgresql").running();
        f.pgRunning(running);
        try {
            localSession.use(c -> {
                readPostgres(ctx, c, f, members);
                return null;
            });
        } catch (SQLException | RuntimeException e) {
            f.pgAccepting(false).pgInRecovery(true).pgLsn(lastLsn);
            if (running && Files.exists(ctx.path("postgresql.data_dir").resolve(StandbyConfig.STANDBY_SIGNAL))) {
                // a standby not yet consistent accepts no connections, yet it follows whom standby.conf names: what
                // its walreceiver says (e.g. the WAL it needs is gone there, after a rewind) concerns that node
                upstreamAt(configuredUpstream(ctx), members).ifPresent(f::pgUpstream);
            }
        }
    }

    private static Optional<String> upstreamAt(String address, Map<String, Records.Member> members) {
        return address == null ? Optional.empty() : members.values().stream()
                .filter(m -> m.address().equals(address)).map(Records.Member::name).findFirst();
    }

    private void readPostgres(NodeContext ctx, Connection c, Facts.Builder f, Map<String, Records.Member> members)
            throws SQLException {
        ReplicationStatus.LocalState local = ReplicationStatus.localState(c);
        f.pgAccepting(true).pgInRecovery(local.inRecovery()).pgTimeline(local.timeline())
                .pgStreaming("streaming".equals(local.walReceiverStatus()));
        String lsn = local.replayLsn() != null ? local.replayLsn() : local.currentOrReceiveLsn();
        f.pgLsn(lsn != null ? ReplicationStatus.lsnToLong(lsn) : Facts.NO_POSITION);
        // whom it streams from, or (between walreceiver attempts) whom it is configured to stream from
        String upstream = local.senderHost() != null ? local.senderHost() : configuredUpstream(ctx);
        if (!(local.inRecovery() && logSigns.slotMissing())) {
            upstreamAt(upstream, members).ifPresent(f::pgUpstream);
        }
        logSigns.forgetSlotMissing(); // following again recreates the slot
        if (!local.inRecovery()) {
            // only once it confirmed holding every earlier write does the standby count as synchronous
            String configured = SynchronousStandby.configured(c);
            f.pgSyncStandby(configured).pgSyncConfirmed(configured != null && configured.equals(sync.confirmed()));
            Set<String> streaming = new HashSet<>();
            Map<String, Long> replyAges = new HashMap<>();
            long now = System.nanoTime();
            for (ReplicationStatus.ReplicaInfo r : ReplicationStatus.replicas(c)) {
                if ("streaming".equals(r.state()) && r.slot() != null) {
                    streaming.add(r.applicationName());
                    replyAges.put(r.applicationName(), replies.ageMillis(r, now));
                }
            }
            replies.keepOnly(streaming);
            f.streamingFollowers(streaming).followerReplyAgeMillis(replyAges);
        } else {
            replies.clear(); // a standby: what it saw as a primary says nothing about its next walsenders
        }
    }

    private static boolean healthy(Map<String, HealthMonitor.Check> checks, String name) {
        HealthMonitor.Check c = checks.get(name);
        return c == null || c.healthy();
    }

    /** {@code json} parsed; an empty object when it is not JSON. */
    static JsonNode readTree(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }
}
