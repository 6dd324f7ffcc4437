package org.chefbackend.leaderl;

import java.io.IOException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.chefbackend.agent.HaLoopControl;
import org.chefbackend.agent.HealthMonitor;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeState;
import org.chefbackend.agent.Supervisor;
import org.chefbackend.agent.Watchdog;
import org.chefbackend.cluster.ClusterAgent;
import org.chefbackend.dcs.LeaseKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * leaderl's I/O shell around {@link Decision}: each iteration gathers {@link Facts} (etcd, local PostgreSQL, health
 * checks, peers' fresh positions), asks the decision for a {@link Step} and carries out its actions in order. It runs
 * every second and at once when the leader key changes (a watch), so a follower reacts to a lost leader without
 * a polling delay. {@code GET /leader} answers from {@link #leaderEndpoint()} and never blocks.
 */
public final class HaLoop implements HaLoopControl {
    private static final Logger log = LoggerFactory.getLogger(HaLoop.class);
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
    private final Wakeup wake = new Wakeup();
    /** Held by each iteration and by an operator's pgsql-follow: the two never act on PostgreSQL at once. */
    private final ReentrantLock acting = new ReentrantLock();

    private volatile State state = State.INITIALIZING;
    private volatile boolean leaderOk;
    private volatile String reason = "starting";
    /** Why this node may not run for leader, null when it may (eligibility is derived from it, never kept apart). */
    private volatile String ineligibleReason = "leaderl has not run yet";
    private volatile long lastLsn = Facts.NO_POSITION;
    private volatile boolean handingOver;
    private final LeaderLease lease;
    // The three below are handed to the parts that read or change them; each is the sole owner of its state, and
    // the first two are used only under acting (an iteration or a pgsql-follow).
    /** One rejoin sequence per leader change: path, failed attempts, backoff (see {@link Rejoin}). */
    private final Rejoin rejoin = new Rejoin();
    private final PostgresLogSigns logSigns = new PostgresLogSigns();
    private final SyncStandbys sync = new SyncStandbys();
    private final FactGatherer gatherer;
    private final StandbyActions standby;
    private final ActionRunner actions;
    private final ManualFollow manualFollow;
    /**
     * When this loop last completed an iteration (gathered facts, decided, acted): the lease is refreshed, /leader
     * answers 200 and peers hear this node is eligible only while it keeps doing so. A loop that fails every time
     * decides on nothing.
     */
    private volatile long completedNanos = System.nanoTime();

    public HaLoop(Supplier<NodeContext> node, ClusterAgent cluster, Supervisor supervisor, HealthMonitor health) {
        this.node = node;
        this.cluster = cluster;
        this.supervisor = supervisor;
        this.health = health;
        this.lease = new LeaderLease(cluster, () -> {
            leaderOk = false;
            wake.now();
        }, () -> completedNanos);
        this.gatherer = new FactGatherer(node, cluster, supervisor, health, lease, rejoin, logSigns, sync);
        this.standby = new StandbyActions(cluster, supervisor, rejoin, logSigns);
        this.actions = new ActionRunner(node, cluster, supervisor, lease, standby, sync);
        this.manualFollow = new ManualFollow(node, cluster, supervisor, acting, lease::holdsLeaderKey, rejoin, logSigns,
                standby);
    }

    /** The process that fences PostgreSQL if this loop freezes while leading. */
    public void watchdog(Watchdog w) {
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
    @Override
    public void run() {
        logSigns.restart(); // what PostgreSQL logged while leaderl was stopped describes a past state
        ineligibleReason = "leaderl is starting"; // until its first step judges this node
        while (!Thread.currentThread().isInterrupted()) {
            // the health checks run on their own thread (HealthMonitor.start): a probe that hangs never stalls this loop
            if (cluster.ready()) {
                wake.watch(cluster);
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
            wake.await(handingOver ? HANDOVER_TICK_MS : TICK_MS);
        }
        wake.close();
        gatherer.close();
        // a node whose leaderl is stopped cannot take over: peers must not wait for it, and operators see why
        ineligibleReason = "leaderl is stopped";
    }

    /** leaderl stops (stop leaderl, agent shutdown): a leader does not stay one without its loop. */
    @Override
    public void stepDown(boolean nodeStopping) {
        if (lease.current() == null) {
            return;
        }
        log.warn("leaderl: stopping while leader; handing over: clean stop of PostgreSQL, then the key goes");
        leaderOk = false;
        try {
            // a fast (not immediate) shutdown: PostgreSQL sends every WAL record, its shutdown checkpoint
            // included, to the streaming followers before it exits, so the best of them has all of it
            actions.fence("INT", nodeStopping ? NodeState.STOP_FENCE_NOTE : ActionRunner.FENCED_BY_LEADERL);
        } catch (IOException | RuntimeException e) {
            log.error("leaderl: fencing failed: {}", e.toString());
        }
        lease.release();
        state = State.DEPOSED_LEADER;
        lease.disarmWatchdog();
    }

    void step() {
        NodeContext ctx = node.get();
        HaSettings settings = HaSettings.from(ctx.settings());
        Facts facts = gatherer.gather(ctx, state, lastLsn);
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
            standby.recordRejoin(ctx, rejoin.streaming(facts.pgUpstream(), facts.nowNanos(), System.currentTimeMillis()));
        }
        handingOver = facts.intent() != null && facts.intent().drained() && !facts.intent().timedOut();
        if (!step.leaderEndpoint200()) {
            leaderOk = false; // before acting: never 200 while stepping down or not yet leading
        }
        for (Action action : step.actions()) {
            try {
                actions.execute(ctx, action);
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
        wake.afterStep(progressed);
        if (state == State.LEADER && facts.pgWritable()) {
            actions.refreshHistory(ctx, facts);
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
     * {@code pgsql-follow LEADER_IP} (a manual resync): makes this node's PostgreSQL a streaming standby of the
     * primary at {@code leaderAddress} (see {@link ManualFollow}); never during an iteration.
     *
     * @return what was done, line by line (pg_basebackup's output included)
     */
    public List<String> followManually(String leaderAddress, boolean forceBaseBackup)
            throws IOException, SQLException, InterruptedException {
        return manualFollow.follow(leaderAddress, forceBaseBackup);
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
