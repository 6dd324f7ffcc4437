package org.chefbackend.leaderl;

import java.io.IOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.function.Consumer;
import org.chefbackend.agent.Change;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeState;
import org.chefbackend.agent.Supervisor;
import org.chefbackend.cluster.ClusterAgent;
import org.chefbackend.cluster.LeaderConnections;
import org.chefbackend.cluster.Records;
import org.chefbackend.postgres.BaseBackup;
import org.chefbackend.postgres.PgpassFile;
import org.chefbackend.postgres.ReplicationSlots;
import org.chefbackend.postgres.Rewind;
import org.chefbackend.postgres.StandbyConfig;
import org.chefbackend.system.FileTrees;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The actions that make this node a copy of a leader: follow it, rewind from it, take a base backup from it, or
 * stand by with no upstream; each keeps the {@link Rejoin} bookkeeping and clears the PostgreSQL log signs it
 * fixes. Shared by the loop's actions and the operator's pgsql-follow, both under the loop's acting lock.
 */
final class StandbyActions {
    // logs as HaLoop: the agent's log names the logger, and its lines stay as operators know them
    private static final Logger log = LoggerFactory.getLogger(HaLoop.class);

    private final ClusterAgent cluster;
    private final Supervisor supervisor;
    private final Rejoin rejoin;
    private final PostgresLogSigns logSigns;

    StandbyActions(ClusterAgent cluster, Supervisor supervisor, Rejoin rejoin, PostgresLogSigns logSigns) {
        this.cluster = cluster;
        this.supervisor = supervisor;
        this.rejoin = rejoin;
        this.logSigns = logSigns;
    }

    private Records.Member member(String name) {
        Records.Member m = cluster.members().get(name);
        if (m == null) {
            throw new IllegalStateException("no member record for " + name);
        }
        return m;
    }

    /** Points this standby at the leader through its own slot there; PostgreSQL 15 reloads primary_conninfo. */
    void follow(NodeContext ctx, String leaderName) throws IOException, SQLException {
        Records.Member leader = member(leaderName);
        String slot = ReplicationSlots.nameFor(ctx.nodeName());
        try (Connection c = LeaderConnections.open(ctx, leader.address(), leader.pgPort())) {
            ReplicationSlots.create(c, slot);
        }
        apply(StandbyConfig.write(ctx, leader.address(), leader.pgPort(), slot));
    }

    /** Restarts or reloads PostgreSQL as a changed standby configuration needs (not if the operator stopped it). */
    void apply(Change change) throws IOException {
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
    void rewind(NodeContext ctx, String leaderName) throws IOException, SQLException {
        rejoin.begin(leaderName, System.nanoTime());
        Records.Member leader = member(leaderName);
        String slot = ReplicationSlots.nameFor(ctx.nodeName());
        try (Connection c = LeaderConnections.open(ctx, leader.address(), leader.pgPort());
                Statement st = c.createStatement()) {
            st.execute("checkpoint");
            ReplicationSlots.create(c, slot);
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
        StandbyConfig.write(ctx, leader.address(), leader.pgPort(), slot);
        startPostgres();
    }

    /** Re-syncs from scratch: the node is unsynced (not eligible) until the base backup completes. */
    void baseBackup(NodeContext ctx, String leaderName) throws IOException, SQLException {
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

    void baseBackup(NodeContext ctx, String address, int port, Consumer<String> progress)
            throws IOException, SQLException {
        String slot = ReplicationSlots.nameFor(ctx.nodeName());
        try (Connection c = LeaderConnections.open(ctx, address, port)) {
            ReplicationSlots.create(c, slot);
        }
        supervisor.hold("postgresql");
        Files.createDirectories(ctx.paths().leaderlDataDir());
        Files.writeString(NodeState.sentinel(ctx.paths(), NodeState.UNSYNCED), "");
        FileTrees.emptyDirectory(ctx.path("postgresql.data_dir"));
        PgpassFile.write(ctx);
        BaseBackup.take(ctx, address, port, slot, progress);
        Files.deleteIfExists(NodeState.sentinel(ctx.paths(), NodeState.UNSYNCED));
        logSigns.resynced();
        startPostgres();
    }

    /** A fenced former leader stands by with no upstream until a leader appears (see {@link Rejoin#reinstated}). */
    void reinstate(NodeContext ctx) throws IOException {
        rejoin.reinstated(System.nanoTime());
        StandbyConfig.writeWithoutUpstream(ctx);
        Files.deleteIfExists(NodeState.sentinel(ctx.paths(), NodeState.NO_START_PGSQL));
        startPostgres();
    }

    /** Logs and keeps how this node rejoined, once per rejoin sequence (null: nothing to record). */
    void recordRejoin(NodeContext ctx, Records.Rejoin done) {
        if (done == null) {
            return;
        }
        log.info("leaderl: rejoined {} by {} in {} s (from the start of the rejoin until streaming)", done.leader(),
                done.path(), done.seconds());
        try {
            Files.createDirectories(ctx.paths().leaderlDataDir());
            Files.writeString(NodeState.lastRejoin(ctx.paths()), Records.json(done));
        } catch (IOException | Records.Invalid e) {
            log.warn("leaderl: could not record the rejoin: {}", e.getMessage());
        }
    }

    /** Starts PostgreSQL, unless the operator stopped it (stop postgresql): their start brings it back. */
    void startPostgres() throws IOException {
        if (supervisor.stoppedByOperator("postgresql")) {
            log.debug("leaderl: not starting PostgreSQL: the operator stopped it");
            return;
        }
        supervisor.start("postgresql");
    }
}
