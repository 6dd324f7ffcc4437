package org.chefbackend.leaderl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.chefbackend.agent.Change;
import org.chefbackend.agent.HealthMonitor;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeState;
import org.chefbackend.agent.Supervisor;
import org.chefbackend.cluster.ClusterAgent;
import org.chefbackend.cluster.Records;
import org.chefbackend.dcs.ClusterStore;
import org.chefbackend.dcs.DcsException;
import org.chefbackend.dcs.LeaseKeeper;
import org.chefbackend.postgres.PostgresAdmin;
import org.chefbackend.postgres.Replication;
import org.chefbackend.postgres.Rewind;
import org.chefbackend.system.Http;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * leaderl's I/O shell around {@link Decision}: each iteration gathers {@link Facts} (etcd, local PostgreSQL, health
 * checks, peers' fresh positions), asks the decision for a {@link Step} and carries out its actions in order. It runs
 * every second and at once when the leader key changes (a watch), so a follower reacts to a lost leader without
 * a polling delay. {@code GET /leader} answers from {@link #leaderEndpoint()} and never blocks.
 */
public final class HaLoop {
    private static final Logger log = LoggerFactory.getLogger(HaLoop.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String LEADER = "leader";
    static final String HISTORY = "history";
    /** etcd {@code sync}: the standby that holds every acknowledged write (synchronous mode); written by the leader. */
    static final String SYNC = "sync";
    static final long TICK_MS = 1000;
    /**
     * The loop's period while a switchover's writes have stopped: the leader waits for the target to replay the
     * final position, the target for the key, and each learns of the other's progress only by asking again.
     */
    static final long HANDOVER_TICK_MS = 100;
    /** How long a leader about to give up for its health waits for a fresh probe; a hung probe counts as failed. */
    static final Duration RECHECK_WAIT = Duration.ofMillis(500);

    private final Supplier<NodeContext> node;
    private final ClusterAgent cluster;
    private final Supervisor supervisor;
    private final HealthMonitor health;
    private final Semaphore wake = new Semaphore(0);
    /** Held by each iteration and by an operator's pgsql-follow: the two never act on PostgreSQL at once. */
    private final java.util.concurrent.locks.ReentrantLock acting = new java.util.concurrent.locks.ReentrantLock();

    private volatile State state = State.INITIALIZING;
    private volatile boolean leaderOk;
    private volatile String reason = "starting";
    /** Why this node may not run for leader, null when it may (eligibility is derived from it, never kept apart). */
    private volatile String ineligibleReason = "leaderl has not run yet";
    private volatile long lastLsn = Facts.NO_POSITION;
    private volatile boolean handingOver;
    /** Runs the checkpoint that follows a promotion, so the new leader serves writes without waiting for it. */
    private final java.util.concurrent.ExecutorService afterPromotion = java.util.concurrent.Executors
            .newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "leaderl-checkpoint");
                t.setDaemon(true);
                return t;
            });
    private final LeaderLease lease;
    /** One rejoin sequence per leader change: path, failed attempts, backoff (see {@link Rejoin}). */
    private final Rejoin rejoin = new Rejoin();
    private final PostgresLogSigns logSigns = new PostgresLogSigns();
    private final SyncStandbys sync = new SyncStandbys();
    private final FactGatherer gatherer;
    /**
     * When this loop last completed an iteration (gathered facts, decided, acted): the lease is refreshed, /leader
     * answers 200 and peers hear this node is eligible only while it keeps doing so. A loop that fails every time
     * decides on nothing.
     */
    private volatile long completedNanos = System.nanoTime();
    private long historyWrittenAt;
    private boolean historyWritten;
    private ClusterStore.Subscription watch;
    private ClusterStore.Subscription intentWatch;
    /** Iterations run at once after one that made progress, in a row; bounded so a step that repeats can't spin. */
    private int immediateRuns;

    public HaLoop(Supplier<NodeContext> node, ClusterAgent cluster, Supervisor supervisor, HealthMonitor health) {
        this.node = node;
        this.cluster = cluster;
        this.supervisor = supervisor;
        this.health = health;
        this.lease = new LeaderLease(cluster, () -> {
            leaderOk = false;
            wake.release();
        }, () -> completedNanos);
        this.gatherer = new FactGatherer(node, cluster, supervisor, health, lease, rejoin, logSigns, sync);
    }

    /** The process that fences PostgreSQL if this loop freezes while leading. */
    public void watchdog(org.chefbackend.agent.Watchdog w) {
        lease.watchdog(w);
    }

    /** What /leader answers: from memory, never blocking on PostgreSQL or etcd. */
    public boolean leaderEndpoint() {
        LeaseKeeper l = lease.current();
        long ttlNanos = TimeUnit.SECONDS.toNanos(node.get().settings().integer("leaderl.leader_ttl_seconds"));
        return answers200(leaderOk, l != null && l.alive(), l != null ? l.deadlineNanos() : 0, completedNanos,
                System.nanoTime(), ttlNanos);
    }

    /**
     * The /leader rule, judged at answer time: a loop that froze, keeps failing (or a JVM that was stopped) must not
     * answer with a stale 200. The flag is only as fresh as the last completed iteration, and the lease only as good
     * as its deadline (both with the fencing margin, a third of the TTL).
     */
    static boolean answers200(boolean leaderOk, boolean leaseAlive, long leaseDeadlineNanos, long completedNanos,
            long nowNanos, long ttlNanos) {
        long margin = ttlNanos / 3;
        return leaderOk && leaseAlive && nowNanos < leaseDeadlineNanos - margin && nowNanos - completedNanos < margin;
    }

    public State state() {
        return state;
    }

    public String reason() {
        return reason;
    }

    /** Why this node may not run for leader now (published with its status), null when it may. */
    public String ineligibleReason() {
        // judged by a loop that has not completed an iteration lately: peers must not wait for a node that cannot act
        long ttlNanos = TimeUnit.SECONDS.toNanos(node.get().settings().integer("leaderl.leader_ttl_seconds"));
        long since = System.nanoTime() - completedNanos;
        if (ineligibleReason == null && since >= ttlNanos / 3) {
            return "leaderl has completed no iteration for " + TimeUnit.NANOSECONDS.toSeconds(since) + " s (" + reason
                    + ")";
        }
        return ineligibleReason;
    }

    private boolean eligible() {
        return ineligibleReason() == null;
    }

    /** This node's last known position and eligibility, for peers choosing the most up-to-date node. */
    public Map<String, Object> position() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", node.get().nodeName());
        m.put("state", state.jsonName());
        m.put("eligible", eligible());
        // the checks that decide eligibility: disks only when they are fatal
        m.put("healthy_now", health.allPassing(HaSettings.from(node.get().settings()).fatalSystemChecks()
                ? List.of("pgsql", "elasticsearch", "etcd", "disks") : List.of("pgsql", "elasticsearch", "etcd")));
        m.put("lsn", lastLsn);
        return m;
    }

    public boolean holdsLeaderKey() {
        return lease.holdsLeaderKey();
    }

    /** Runs until interrupted: the leaderl service's loop. */
    public void run() {
        logSigns.restart(); // what PostgreSQL logged while leaderl was stopped describes a past state
        ineligibleReason = "leaderl is starting"; // until its first step judges this node
        while (!Thread.currentThread().isInterrupted()) {
            // the health checks run on their own thread (HealthMonitor.start): a probe that hangs never stalls this loop
            if (cluster.ready()) {
                ensureWatch();
                acting.lock();
                try {
                    step();
                    completedNanos = System.nanoTime();
                } catch (RuntimeException e) {
                    leaderOk = false; // first: whatever the last good iteration decided may no longer hold
                    reason = "iteration failed: " + e.getMessage();
                    log.warn("leaderl: iteration failed: {}", e.toString());
                } finally {
                    acting.unlock();
                }
            }
            try {
                if (wake.tryAcquire(handingOver ? HANDOVER_TICK_MS : TICK_MS, TimeUnit.MILLISECONDS)) {
                    wake.drainPermits();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        stopWatch();
        gatherer.close();
        // a node whose leaderl is stopped cannot take over: peers must not wait for it, and operators see why
        ineligibleReason = "leaderl is stopped";
    }

    /** leaderl stops (stop leaderl, agent shutdown): a leader does not stay one without its loop. */
    public void stepDown() {
        if (lease.current() == null) {
            return;
        }
        log.warn("leaderl: stopping while leader; handing over: clean stop of PostgreSQL, then the key goes");
        leaderOk = false;
        try {
            // a fast (not immediate) shutdown: PostgreSQL sends every WAL record, its shutdown checkpoint
            // included, to the streaming followers before it exits, so the best of them has all of it
            fence("INT");
        } catch (IOException | RuntimeException e) {
            log.error("leaderl: fencing failed: {}", e.toString());
        }
        lease.release();
        state = State.DEPOSED_LEADER;
        lease.disarmWatchdog();
    }

    /** The leader key and the operator's intent: a change of either is acted on at once, not at the next tick. */
    private void ensureWatch() {
        try {
            if (watch == null) {
                watch = cluster.store().watch(LEADER, v -> wake.release());
            }
            if (intentWatch == null) {
                intentWatch = cluster.store().watch("intent", v -> wake.release());
            }
        } catch (DcsException e) {
            log.debug("leaderl: cannot watch the leader key yet: {}", e.getMessage());
        }
    }

    private void stopWatch() {
        if (watch != null) {
            watch.close();
            watch = null;
        }
        if (intentWatch != null) {
            intentWatch.close();
            intentWatch = null;
        }
    }

    void step() {
        NodeContext ctx = node.get();
        HaSettings settings = HaSettings.from(ctx.settings());
        Facts facts = gatherer.gather(ctx, state, lastLsn);
        if (facts.followTrouble() == Facts.FollowTrouble.DIVERGED && facts.pgUpstream() != null
                && facts.pgUpstream().equals(rejoin.rejoinedTo())) {
            rejoin.stillForked("still forked from " + facts.pgUpstream() + " after rejoining it", facts.nowNanos());
            log.warn("leaderl: {}", rejoin.lastFailure());
            facts = facts.toBuilder().rejoinedTo(null).rejoinRetryAt(rejoin.retryAtNanos())
                    .followTrouble(gatherer.followTrouble()).build();
        }
        Step step = Decision.next(facts, settings);
        if (givingUpForHealthAlone(facts, step, settings) && health.recheckFailedWithin(RECHECK_WAIT)) {
            // about to give up for a check whose count is up to an interval old: it recovered (e.g. search found
            // its cluster manager again at the moment a follower's did); decide on the fresh result
            facts = gatherer.gather(ctx, state, lastLsn);
            step = Decision.next(facts, settings);
        }
        ineligibleReason = Decision.ineligibility(facts, settings).orElse(null);
        lastLsn = facts.pgLsn();
        if (facts.pgStreaming() && facts.pgUpstream() != null) {
            recordRejoin(ctx, rejoin.streaming(facts.pgUpstream(), facts.nowNanos(), System.currentTimeMillis()));
        }
        handingOver = facts.intent() != null && facts.intent().drained() && !facts.intent().timedOut();
        if (!step.leaderEndpoint200()) {
            leaderOk = false; // before acting: never 200 while stepping down or not yet leading
        }
        for (Action action : step.actions()) {
            try {
                execute(ctx, action);
            } catch (IOException | SQLException | RuntimeException e) {
                reason = "failed to " + action.getClass().getSimpleName() + ": " + e.getMessage();
                log.warn("leaderl: {}", reason);
                return; // keep the previous state; decide again from fresh facts
            }
        }
        if (step.next() != state || !step.reason().equals(reason)) {
            log.info("leaderl: {} -> {}: {}", state.jsonName(), step.next().jsonName(), step.reason());
        }
        boolean progressed = step.next() != state
                || step.actions().stream().anyMatch(a -> !(a instanceof Action.RefreshLease));
        state = step.next();
        if (state == State.LEADER) {
            rejoin.leading();
        }
        reason = step.reason();
        leaderOk = step.leaderEndpoint200();
        lease.feedWatchdog(ctx, state);
        // a step that changed something is followed at once by the next (a switchover or a promotion takes
        // several), not a tick later; at most three in a row
        if (progressed && immediateRuns < 3) {
            immediateRuns++;
            wake.release();
        } else if (!progressed) {
            immediateRuns = 0;
        }
        if (state == State.LEADER && facts.pgWritable()) {
            refreshHistory(ctx, facts);
        }
    }

    /**
     * The leader would step down, and only because of its health checks: with them all passing it would not. Never
     * true for a lease about to run out, so the recheck it allows cannot delay fencing.
     */
    static boolean givingUpForHealthAlone(Facts facts, Step step, HaSettings settings) {
        if (facts.state() != State.LEADER || step.next() != State.DEPOSED_LEADER) {
            return false;
        }
        Facts allHealthy = facts.toBuilder().pgsqlHealthy(true).elasticsearchHealthy(true).etcdHealthy(true)
                .disksHealthy(true).build();
        return Decision.next(allHealthy, settings).next() == State.LEADER;
    }

    /**
     * While leading, the leader's position goes to {@code history} every status_post_update_interval_seconds: after
     * a period with no leader, only a node at or past it is elected automatically (Decision rule 3).
     */
    private void refreshHistory(NodeContext ctx, Facts facts) {
        long every = TimeUnit.SECONDS.toNanos(ctx.settings().integer("leaderl.status_post_update_interval_seconds"));
        boolean due = !historyWritten || facts.nowNanos() - historyWrittenAt >= every;
        if (!due || facts.pgLsn() <= facts.lastLeaderLsn()) {
            return;
        }
        try {
            recordHistory(ctx, facts.pgLsn(), facts.pgTimeline());
        } catch (IOException | RuntimeException e) {
            log.debug("leaderl: history not refreshed: {}", e.getMessage());
        }
    }

    private void recordHistory(NodeContext ctx, long lsn, long timeline) throws IOException {
        lease.putAsLeader(HISTORY, Map.of("leader", ctx.nodeName(), "lsn", lsn, "timeline", timeline,
                "at", System.currentTimeMillis()));
        historyWrittenAt = System.nanoTime();
        historyWritten = true;
    }

    // ---- actions -------------------------------------------------------------------------------------------------

    private void execute(NodeContext ctx, Action action) throws IOException, SQLException {
        if (!(action instanceof Action.RefreshLease)) {
            log.info("leaderl: {}", action);
        }
        if (action instanceof Action.AcquireLeaderKey) {
            lease.acquire(ctx);
        } else if (action instanceof Action.RefreshLease) {
            lease.requireLease();
        } else if (action instanceof Action.ReleaseLeaderKey) {
            lease.release();
        } else if (action instanceof Action.PromotePostgres) {
            promote(ctx);
        } else if (action instanceof Action.FencePostgres) {
            fence();
        } else if (action instanceof Action.StopAcceptingWrites) {
            stopWrites(ctx);
        } else if (action instanceof Action.StartPostgres) {
            startPostgres();
        } else if (action instanceof Action.FollowLeader a) {
            follow(ctx, a.leader());
        } else if (action instanceof Action.RewindFrom a) {
            rewind(ctx, a.leader());
        } else if (action instanceof Action.BaseBackupFrom a) {
            baseBackup(ctx, a.leader());
        } else if (action instanceof Action.ReinstateAsStandby) {
            rejoin.reinstated(System.nanoTime());
            Replication.makeStandbyWithoutUpstream(ctx);
            Files.deleteIfExists(NodeState.sentinel(ctx.paths(), NodeState.NO_START_PGSQL));
            startPostgres();
        } else if (action instanceof Action.ClearNoStartPgsql) {
            Files.deleteIfExists(NodeState.sentinel(ctx.paths(), NodeState.NO_START_PGSQL));
        } else if (action instanceof Action.RecordHistory a) {
            recordHistory(ctx, a.lsn(), a.timeline());
        } else if (action instanceof Action.ClearIntent) {
            cluster.store().delete("intent");
        } else if (action instanceof Action.SetSynchronousStandby a) {
            setSynchronousStandby(ctx, a.standby());
        } else if (action instanceof Action.RecordSynchronousStandby a) {
            recordSynchronousStandby(ctx, a.standby());
        }
    }

    /**
     * Commits wait for {@code standby} from the reload on; it counts as synchronous once it has flushed everything
     * written before. The wait is short, so the loop comes round in time to fence; a later iteration waits again.
     */
    private void setSynchronousStandby(NodeContext ctx, String standby) throws IOException, SQLException {
        sync.confirmed(null);
        if (Replication.writeSynchronousStandby(ctx, standby)) {
            supervisor.reload("postgresql");
        }
        try (Connection c = PostgresAdmin.connect(ctx, "postgres", 2000)) {
            if (!Replication.awaitSynchronousStandby(c, standby, System.nanoTime() + TimeUnit.SECONDS.toNanos(2))) {
                throw new IllegalStateException(standby == null ? "PostgreSQL did not apply synchronous_standby_names"
                        : standby + " has not yet confirmed every write as synchronous standby");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
        sync.confirmed(standby);
    }

    /** Only the key holder writes etcd {@code sync}; null means that no node may be elected automatically. */
    private void recordSynchronousStandby(NodeContext ctx, String standby) throws IOException {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("standby", standby);
        value.put("leader", ctx.nodeName());
        value.put("at", System.currentTimeMillis());
        lease.putAsLeader(SYNC, value);
        sync.recorded(standby);
    }

    private void promote(NodeContext ctx) throws SQLException, IOException {
        try (Connection c = PostgresAdmin.connect(ctx, "postgres", 5000); Statement st = c.createStatement()) {
            st.execute("select pg_promote(true, 300)");
        }
        Replication.clearStandbyConfig(ctx);
        // followers need the new timeline in the control file before pg_rewind can see a divergence; the new leader
        // takes writes meanwhile (a follower that rewinds too early finds no divergence, then forks, and is caught
        // by the divergence check)
        afterPromotion.execute(() -> {
            try (Connection c = PostgresAdmin.connect(ctx, "postgres", 5000); Statement st = c.createStatement()) {
                st.execute("checkpoint");
            } catch (SQLException e) {
                log.warn("leaderl: checkpoint after promotion failed: {}", e.getMessage());
            }
        });
    }

    /** Stops PostgreSQL at once and keeps it down: the no-start-pgsql sentinel first, then an immediate stop. */
    private void fence() throws IOException {
        fence("QUIT");
    }

    private void fence(String signal) throws IOException {
        NodeContext ctx = node.get();
        Files.createDirectories(ctx.paths().leaderlDataDir());
        Files.writeString(NodeState.sentinel(ctx.paths(), NodeState.NO_START_PGSQL), "fenced by leaderl\n");
        supervisor.kill("postgresql", signal, Duration.ofSeconds(signal.equals("QUIT") ? 10 : 60));
    }

    /**
     * A handover's first half: a clean stop (PostgreSQL sends every WAL record, its shutdown checkpoint included,
     * to the streaming followers) under no-start-pgsql, then the final position published in the intent, which the
     * target must replay before it may take the key.
     */
    private void stopWrites(NodeContext ctx) throws IOException {
        fence("INT");
        long finalLsn = Replication.lsnToLong(controlData(ctx, "Latest checkpoint location"));
        ClusterStore.Versioned v = cluster.store().get("intent").orElseThrow(
                () -> new IllegalStateException("the request to hand over is gone"));
        com.fasterxml.jackson.databind.node.ObjectNode j = (com.fasterxml.jackson.databind.node.ObjectNode) FactGatherer.readTree(v.value());
        j.put("drained_at_lsn", finalLsn);
        if (!cluster.store().compareAndPut("intent", v.modRevision(), JSON.writeValueAsString(j))) {
            throw new IllegalStateException("the request to hand over changed meanwhile");
        }
        log.info("leaderl: writes stopped at {}", controlData(ctx, "Latest checkpoint location"));
    }

    /** A field of pg_controldata's report on the (stopped) data directory. */
    private static String controlData(NodeContext ctx, String field) throws IOException {
        String value = Rewind.controlData(ctx.path("postgresql.data_dir")).get(field);
        if (value == null) {
            throw new IOException("pg_controldata has no '" + field + "'");
        }
        return value;
    }

    /** The member at {@code address}, by name; the address itself when etcd does not say. */
    private String nameAt(String address) {
        try {
            return cluster.members().values().stream().filter(m -> m.address().equals(address))
                    .map(Records.Member::name).findFirst().orElse(address);
        } catch (RuntimeException e) {
            return address;
        }
    }

    private Records.Member member(String name) {
        Records.Member m = cluster.members().get(name);
        if (m == null) {
            throw new IllegalStateException("no member record for " + name);
        }
        return m;
    }

    /** Points this standby at the leader through its own slot there; PostgreSQL 15 reloads primary_conninfo. */
    private void follow(NodeContext ctx, String leaderName) throws IOException, SQLException {
        Records.Member leader = member(leaderName);
        String slot = Replication.slotName(ctx.nodeName());
        try (Connection c = org.chefbackend.cluster.LeaderConnections.open(ctx, leader.address(), leader.pgPort())) {
            Replication.createSlot(c, slot);
        }
        Change change = Replication.writeStandbyConfig(ctx, leader.address(), leader.pgPort(), slot);
        if (change == Change.RESTART && !supervisor.stoppedByOperator("postgresql")) {
            supervisor.restart("postgresql");
        } else if (change == Change.RELOAD) {
            supervisor.reload("postgresql");
        }
    }

    /**
     * A former primary (or a forked standby) rejoins: crash recovery first if it was not shut down cleanly, then
     * pg_rewind from the new leader, which finds nothing to undo when its WAL ends at the fork; then it streams.
     */
    private void rewind(NodeContext ctx, String leaderName) throws IOException, SQLException {
        rejoin.begin(leaderName, System.nanoTime());
        Records.Member leader = member(leaderName);
        String slot = Replication.slotName(ctx.nodeName());
        try (Connection c = org.chefbackend.cluster.LeaderConnections.open(ctx, leader.address(), leader.pgPort());
                Statement st = c.createStatement()) {
            st.execute("checkpoint");
            Replication.createSlot(c, slot);
        }
        supervisor.hold("postgresql");
        Rewind.Outcome outcome;
        try {
            outcome = Rewind.run(ctx, leader.address(), leader.pgPort());
        } catch (IOException | RuntimeException e) {
            boolean walGone = e instanceof Rewind.Failed f && f.walGone();
            rejoin.failed(e.getMessage(), walGone, System.nanoTime());
            log.warn("leaderl: pg_rewind from {} failed; {}: {}", leaderName, walGone
                    ? "WAL it needs is gone here, so a base backup follows"
                    : rejoin.rewindImpossible() ? "it failed twice, so a base backup follows"
                    : "retrying once in " + Rejoin.FIRST_BACKOFF_NANOS / 1_000_000_000 + " s", e.getMessage());
            throw e;
        }
        logSigns.rewound();
        rejoin.succeeded(outcome == Rewind.Outcome.REWOUND ? Rejoin.Path.REWIND : Rejoin.Path.NONE);
        log.info("leaderl: {}", outcome == Rewind.Outcome.REWOUND ? "pg_rewind from " + leaderName
                + " undid what this node wrote after the fork" : "no rewind needed: this node's WAL ends where "
                + leaderName + "'s timeline forked off");
        Replication.writeStandbyConfig(ctx, leader.address(), leader.pgPort(), slot);
        startPostgres();
    }

    /** Logs and keeps how this node rejoined, once per rejoin sequence (null: nothing to record). */
    private void recordRejoin(NodeContext ctx, Records.Rejoin done) {
        if (done == null) {
            return;
        }
        log.info("leaderl: rejoined {} by {} in {} s (from the start of the rejoin until streaming)", done.leader(),
                done.path(), done.seconds());
        try {
            Files.createDirectories(ctx.paths().leaderlDataDir());
            Files.writeString(NodeState.lastRejoin(ctx.paths()), Records.json(done));
        } catch (IOException e) {
            log.warn("leaderl: could not record the rejoin: {}", e.getMessage());
        }
    }

    /** Re-syncs from scratch: the node is unsynced (not eligible) until the base backup completes. */
    private void baseBackup(NodeContext ctx, String leaderName) throws IOException, SQLException {
        rejoin.begin(leaderName, System.nanoTime());
        Records.Member leader = member(leaderName);
        log.warn("leaderl: base backup from {}: {}", leaderName, rejoin.rewindImpossible()
                ? "pg_rewind cannot rejoin it (" + rejoin.lastFailure() + ")" : "WAL this node needs is gone from it");
        try {
            baseBackup(ctx, leader.address(), leader.pgPort(), line -> { });
        } catch (IOException | SQLException | RuntimeException e) {
            rejoin.failed(e.getMessage(), false, System.nanoTime());
            throw e;
        }
        rejoin.succeeded(Rejoin.Path.BASEBACKUP);
    }

    private void baseBackup(NodeContext ctx, String address, int port, java.util.function.Consumer<String> progress)
            throws IOException, SQLException {
        String slot = Replication.slotName(ctx.nodeName());
        try (Connection c = org.chefbackend.cluster.LeaderConnections.open(ctx, address, port)) {
            Replication.createSlot(c, slot);
        }
        supervisor.hold("postgresql");
        Files.createDirectories(ctx.paths().leaderlDataDir());
        Files.writeString(NodeState.sentinel(ctx.paths(), NodeState.UNSYNCED), "");
        Replication.emptyDirectory(ctx.path("postgresql.data_dir"));
        Replication.writePgpass(ctx);
        Replication.baseBackup(ctx, address, port, slot, progress);
        Files.deleteIfExists(NodeState.sentinel(ctx.paths(), NodeState.UNSYNCED));
        logSigns.resynced();
        startPostgres();
    }

    /**
     * {@code pgsql-follow LEADER_IP} (seed 004): makes this node's PostgreSQL a streaming standby of the primary at
     * {@code leaderAddress}, by a full base backup when forced or when there is no data (the {@code unsynced}
     * sentinel stays if it fails: partially_synced), by pg_rewind when this node runs as a primary, else by
     * re-pointing the standby. Runs between the loop's iterations (never during one), so leaderl and the operator
     * never act on PostgreSQL at the same time.
     *
     * @return what was done, line by line (pg_basebackup's output included)
     */
    public java.util.List<String> followManually(String leaderAddress, boolean forceBaseBackup)
            throws IOException, SQLException, InterruptedException {
        NodeContext ctx = node.get();
        if (leaderAddress.equals(ctx.publishAddress())) {
            throw new org.chefbackend.api.ApiException(409, leaderAddress + " is this node's own address; name the "
                    + "leader to follow");
        }
        if (!acting.tryLock(30, TimeUnit.SECONDS)) {
            throw new org.chefbackend.api.ApiException(409, "leaderl is busy acting on PostgreSQL; try again, or "
                    + "stop leaderl first (seed 004)");
        }
        try {
            if (holdsLeaderKey()) {
                throw new org.chefbackend.api.ApiException(409, "this node is the leader; pgsql-follow would make it "
                        + "a standby (demote it first)");
            }
            java.util.List<String> done = new java.util.ArrayList<>();
            int port = ctx.settings().intValue("postgresql.port");
            try {
                port = cluster.members().values().stream().filter(m -> m.address().equals(leaderAddress))
                        .map(Records.Member::pgPort).findFirst().orElse(port);
            } catch (RuntimeException e) {
                done.add("etcd unreachable: assuming PostgreSQL port " + port + " on " + leaderAddress);
            }
            String slot = Replication.slotName(ctx.nodeName());
            try (Connection c = org.chefbackend.cluster.LeaderConnections.open(ctx, leaderAddress, port);
                    Statement st = c.createStatement();
                    java.sql.ResultSet rs = st.executeQuery("select pg_is_in_recovery()")) {
                rs.next();
                if (rs.getBoolean(1)) {
                    throw new org.chefbackend.api.ApiException(409, "PostgreSQL at " + leaderAddress + ":" + port
                            + " is a standby, not a leader");
                }
                Replication.createSlot(c, slot);
                done.add("replication slot " + slot + " on " + leaderAddress + ":" + port);
            } catch (SQLException e) {
                throw new org.chefbackend.api.ApiException(502, "cannot reach the leader's PostgreSQL at "
                        + leaderAddress + ":" + port + ": " + e.getMessage());
            }
            boolean primary = false;
            if (supervisor.status("postgresql").running()) {
                try (Connection c = PostgresAdmin.connect(ctx, "postgres", 2000)) {
                    primary = !Replication.localState(c).inRecovery();
                } catch (SQLException e) {
                    // not accepting connections: treated as a standby to re-point
                }
            }
            if (forceBaseBackup || !org.chefbackend.postgres.PostgresRecipe.isInitialized(ctx)) {
                done.add("base backup from " + leaderAddress + " (unsynced until it completes)");
                try {
                    baseBackup(ctx, leaderAddress, port, done::add);
                } catch (org.chefbackend.agent.ServiceSetupException e) {
                    throw new org.chefbackend.api.ApiException(500, e.getMessage() + " (the unsynced sentinel stays: "
                            + "this node is partially synced until a sync succeeds)");
                }
                done.add("base backup complete; unsynced sentinel removed");
            } else if (primary) {
                supervisor.hold("postgresql");
                Rewind.Outcome outcome;
                try {
                    outcome = Rewind.run(ctx, leaderAddress, port);
                } catch (Rewind.Failed e) {
                    throw new org.chefbackend.api.ApiException(500, e.getMessage() + (e.walGone()
                            ? " (WAL it needs is gone here: use --force-basebackup)" : ""));
                }
                Replication.writeStandbyConfig(ctx, leaderAddress, port, slot);
                rejoin.begin(nameAt(leaderAddress), System.nanoTime());
                rejoin.succeeded(outcome == Rewind.Outcome.REWOUND ? Rejoin.Path.REWIND : Rejoin.Path.NONE);
                logSigns.rewound();
                startPostgres();
                done.add(outcome == Rewind.Outcome.REWOUND ? "pg_rewind from " + leaderAddress + "; following it"
                        : "no rewind needed (this node's WAL ends where the leader's timeline forked off); following "
                        + leaderAddress);
            } else {
                Change change = Replication.writeStandbyConfig(ctx, leaderAddress, port, slot);
                if (change == Change.RESTART && !supervisor.stoppedByOperator("postgresql")) {
                    supervisor.restart("postgresql");
                } else if (change == Change.RELOAD) {
                    supervisor.reload("postgresql");
                }
                done.add("standby configuration points at " + leaderAddress + ":" + port + " (" + change + ")");
            }
            return done;
        } finally {
            acting.unlock();
        }
    }

    /** Starts PostgreSQL, unless the operator stopped it (stop postgresql): their start brings it back. */
    private void startPostgres() throws IOException {
        if (supervisor.stoppedByOperator("postgresql")) {
            log.debug("leaderl: not starting PostgreSQL: the operator stopped it");
            return;
        }
        supervisor.start("postgresql");
    }

    /** For the published status and /status. */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("state", state.jsonName());
        m.put("reason", reason);
        m.put("leader_endpoint", leaderEndpoint());
        m.put("eligible", eligible());
        m.put("ineligible_reason", ineligibleReason());
        if (HaSettings.from(node.get().settings()).synchronousMode()) {
            m.put("synchronous_standby", sync.recorded());
        }
        return m;
    }
}
