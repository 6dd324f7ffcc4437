package org.chefbackend.leaderl;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeState;
import org.chefbackend.agent.Supervisor;
import org.chefbackend.cluster.ClusterAgent;
import org.chefbackend.cluster.Records;
import org.chefbackend.dcs.ClusterStore;
import org.chefbackend.postgres.PostgresAdmin;
import org.chefbackend.postgres.ReplicationStatus;
import org.chefbackend.postgres.Rewind;
import org.chefbackend.postgres.StandbyConfig;
import org.chefbackend.postgres.SynchronousStandby;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loop's hands: carries out one {@link Action} of a {@link Step}: the lease's through {@link LeaderLease}, a
 * standby's through {@link StandbyActions}, the leader's (promote, fence, stop writes, the synchronous standby,
 * etcd {@code history}) here. Also keeps etcd {@code history} fresh while leading.
 */
final class ActionRunner {
    /** The note of a fence for a fault (or stop leaderl): the node stays deposed until a leader exists. */
    static final String FENCED_BY_LEADERL = "fenced by leaderl";

    // logs as HaLoop: the agent's log names the logger, and its lines stay as operators know them
    private static final Logger log = LoggerFactory.getLogger(HaLoop.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Supplier<NodeContext> node;
    private final ClusterAgent cluster;
    private final Supervisor supervisor;
    private final LeaderLease lease;
    private final StandbyActions standby;
    private final SyncStandbys sync;
    /** Runs the checkpoint that follows a promotion, so the new leader serves writes without waiting for it. */
    private final ExecutorService afterPromotion = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "leaderl-checkpoint");
        t.setDaemon(true);
        return t;
    });
    private long historyWrittenAt;
    private boolean historyWritten;

    ActionRunner(Supplier<NodeContext> node, ClusterAgent cluster, Supervisor supervisor, LeaderLease lease,
            StandbyActions standby, SyncStandbys sync) {
        this.node = node;
        this.cluster = cluster;
        this.supervisor = supervisor;
        this.lease = lease;
        this.standby = standby;
        this.sync = sync;
    }

    void execute(NodeContext ctx, Action action) throws IOException, SQLException {
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
            standby.startPostgres();
        } else if (action instanceof Action.FollowLeader a) {
            standby.follow(ctx, a.leader());
        } else if (action instanceof Action.RewindFrom a) {
            standby.rewind(ctx, a.leader());
        } else if (action instanceof Action.BaseBackupFrom a) {
            standby.baseBackup(ctx, a.leader());
        } else if (action instanceof Action.ReinstateAsStandby) {
            standby.reinstate(ctx);
        } else if (action instanceof Action.ClearNoStartPgsql) {
            Files.deleteIfExists(NodeState.sentinel(ctx.paths(), NodeState.NO_START_PGSQL));
        } else if (action instanceof Action.RecordHistory a) {
            recordHistory(ctx, a.lsn(), a.timeline());
        } else if (action instanceof Action.ClearIntent a) {
            clearIntent(a.outcome());
        } else if (action instanceof Action.SetSynchronousStandby a) {
            setSynchronousStandby(ctx, a.standby());
        } else if (action instanceof Action.RecordSynchronousStandby a) {
            recordSynchronousStandby(ctx, a.standby());
        }
    }

    /**
     * While leading, the leader's position goes to {@code history} every status_post_update_interval_seconds: after
     * a period with no leader, only a node at or past it is elected automatically (Decision rule 3).
     */
    void refreshHistory(NodeContext ctx, Facts facts) {
        long every = TimeUnit.SECONDS.toNanos(ctx.settings().integer("leaderl.status_post_update_interval_seconds"));
        boolean due = !historyWritten || facts.nowNanos() - historyWrittenAt >= every;
        if (!due || facts.pgLsn() <= facts.lastLeaderLsn()) {
            return;
        }
        try {
            recordHistory(ctx, facts.pgLsn(), facts.pgTimeline());
        } catch (RuntimeException e) {
            log.debug("leaderl: history not refreshed: {}", e.getMessage());
        }
    }

    private void recordHistory(NodeContext ctx, long lsn, long timeline) {
        lease.putAsLeader(HaLoop.HISTORY, new Records.History(ctx.nodeName(), lsn, timeline,
                System.currentTimeMillis()));
        historyWrittenAt = System.nanoTime();
        historyWritten = true;
    }

    /**
     * Commits wait for {@code standby} from the reload on; it counts as synchronous once it has flushed everything
     * written before. The wait is short, so the loop comes round in time to fence; a later iteration waits again.
     */
    private void setSynchronousStandby(NodeContext ctx, String standby) throws IOException, SQLException {
        sync.confirmed(null);
        if (SynchronousStandby.write(ctx, standby)) {
            supervisor.reload("postgresql");
        }
        try (Connection c = PostgresAdmin.connect(ctx, "postgres", 2000)) {
            if (!SynchronousStandby.await(c, standby, System.nanoTime() + TimeUnit.SECONDS.toNanos(2))) {
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
    private void recordSynchronousStandby(NodeContext ctx, String standby) {
        lease.putAsLeader(HaLoop.SYNC, new Records.Sync(standby, ctx.nodeName(), System.currentTimeMillis()));
        sync.recorded(standby);
    }

    private void promote(NodeContext ctx) throws SQLException, IOException {
        try (Connection c = PostgresAdmin.connect(ctx, "postgres", 5000); Statement st = c.createStatement()) {
            st.execute("select pg_promote(true, 300)");
        }
        StandbyConfig.clear(ctx);
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

    /** The no-start-pgsql sentinel, then {@code signal} (QUIT: immediate stop; INT: fast, clean stop). */
    void fence(String signal) throws IOException {
        fence(signal, FENCED_BY_LEADERL);
    }

    /** As {@link #fence(String)}, with {@code note} in the sentinel: what leaderl reads when it decides again. */
    void fence(String signal, String note) throws IOException {
        NodeContext ctx = node.get();
        Files.createDirectories(ctx.paths().leaderlDataDir());
        Files.writeString(NodeState.sentinel(ctx.paths(), NodeState.NO_START_PGSQL), note + "\n");
        supervisor.kill("postgresql", signal, Duration.ofSeconds(signal.equals("QUIT") ? 10 : 60));
    }

    /**
     * A handover's first half: a clean stop (PostgreSQL sends every WAL record, its shutdown checkpoint included,
     * to the streaming followers) under no-start-pgsql, then the final position published in the intent, which the
     * target must replay before it may take the key.
     */
    private void stopWrites(NodeContext ctx) throws IOException {
        fence("INT");
        String finalPosition = controlData(ctx, "Latest checkpoint location");
        long finalLsn = ReplicationStatus.lsnToLong(finalPosition);
        ClusterStore.Versioned v = cluster.store().get("intent").orElseThrow(
                () -> new IllegalStateException("the request to hand over is gone"));
        ObjectNode j = (ObjectNode) FactGatherer.readTree(v.value());
        j.put("drained_at_lsn", finalLsn);
        if (!cluster.store().compareAndPut("intent", v.modRevision(), JSON.writeValueAsString(j))) {
            throw new IllegalStateException("the request to hand over changed meanwhile");
        }
        log.info("leaderl: writes stopped at {}", finalPosition);
    }

    /** The outcome goes to etcd first: the operator's command waiting on the request finds it there once it is gone. */
    private void clearIntent(Intent.Outcome outcome) {
        ClusterStore store = cluster.store();
        store.get("intent").ifPresent(v -> store.put(ClusterAgent.INTENT_OUTCOME, outcome.record(v.value(),
                System.currentTimeMillis())));
        store.delete("intent");
    }

    /** A field of pg_controldata's report on the (stopped) data directory. */
    private static String controlData(NodeContext ctx, String field) throws IOException {
        String value = Rewind.controlData(ctx.path("postgresql.data_dir")).get(field);
        if (value == null) {
            throw new IOException("pg_controldata has no '" + field + "'");
        }
        return value;
    }
}
