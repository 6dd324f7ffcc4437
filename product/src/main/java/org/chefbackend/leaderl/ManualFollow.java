package org.chefbackend.leaderl;

import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.chefbackend.agent.Change;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.agent.Supervisor;
import org.chefbackend.api.ApiException;
import org.chefbackend.cluster.ClusterAgent;
import org.chefbackend.cluster.LeaderConnections;
import org.chefbackend.cluster.Records;
import org.chefbackend.postgres.PostgresAdmin;
import org.chefbackend.postgres.PostgresRecipe;
import org.chefbackend.postgres.ReplicationSlots;
import org.chefbackend.postgres.ReplicationStatus;
import org.chefbackend.postgres.Rewind;
import org.chefbackend.postgres.StandbyConfig;

/**
 * The operator's {@code pgsql-follow LEADER_IP} (a manual resync), beside the loop rather than in it: it takes the
 * loop's acting lock, so leaderl and the operator never act on PostgreSQL at the same time.
 */
final class ManualFollow {
    private final Supplier<NodeContext> node;
    private final ClusterAgent cluster;
    private final Supervisor supervisor;
    /** The loop's own lock, shared on purpose: held by each iteration and by this. */
    private final ReentrantLock acting;
    private final BooleanSupplier holdsLeaderKey;
    private final Rejoin rejoin;
    private final PostgresLogSigns logSigns;
    private final StandbyActions standby;

    ManualFollow(Supplier<NodeContext> node, ClusterAgent cluster, Supervisor supervisor, ReentrantLock acting,
            BooleanSupplier holdsLeaderKey, Rejoin rejoin, PostgresLogSigns logSigns, StandbyActions standby) {
        this.node = node;
        this.cluster = cluster;
        this.supervisor = supervisor;
        this.acting = acting;
        this.holdsLeaderKey = holdsLeaderKey;
        this.rejoin = rejoin;
        this.logSigns = logSigns;
        this.standby = standby;
    }

    /**
     * Makes this node's PostgreSQL a streaming standby of the primary at {@code leaderAddress}, by a full base backup
     * when forced or when there is no data (the {@code unsynced} sentinel stays if it fails: partially_synced), by
     * pg_rewind when this node runs as a primary, else by re-pointing the standby. Runs between the loop's
     * iterations (never during one).
     *
     * @return what was done, line by line (pg_basebackup's output included)
     */
    List<String> follow(String leaderAddress, boolean forceBaseBackup)
            throws IOException, SQLException, InterruptedException {
        NodeContext ctx = node.get();
        if (leaderAddress.equals(ctx.publishAddress())) {
            throw new ApiException(409, leaderAddress + " is this node's own address; name the "
                    + "leader to follow");
        }
        if (!acting.tryLock(30, TimeUnit.SECONDS)) {
            throw new ApiException(409, "leaderl is busy acting on PostgreSQL; try again, or "
                    + "stop leaderl first");
        }
        try {
            if (holdsLeaderKey.getAsBoolean()) {
                throw new ApiException(409, "this node is the leader; pgsql-follow would make it "
                        + "a standby (demote it first)");
            }
            List<String> done = new ArrayList<>();
            int port = ctx.settings().intValue("postgresql.port");
            try {
                port = cluster.members().values().stream().filter(m -> m.address().equals(leaderAddress))
                        .map(Records.Member::pgPort).findFirst().orElse(port);
            } catch (RuntimeException e) {
                done.add("etcd unreachable: assuming PostgreSQL port " + port + " on " + leaderAddress);
            }
            String slot = ReplicationSlots.nameFor(ctx.nodeName());
            try (Connection c = LeaderConnections.open(ctx, leaderAddress, port);
                    Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("select pg_is_in_recovery()")) {
                rs.next();
                if (rs.getBoolean(1)) {
                    throw new ApiException(409, "PostgreSQL at " + leaderAddress + ":" + port
                            + " is a standby, not a leader");
                }
                ReplicationSlots.create(c, slot);
                done.add("replication slot " + slot + " on " + leaderAddress + ":" + port);
            } catch (SQLException e) {
                throw new ApiException(502, "cannot reach the leader's PostgreSQL at "
                        + leaderAddress + ":" + port + ": " + e.getMessage());
            }
            boolean primary = false;
            if (supervisor.status("postgresql").running()) {
                try (Connection c = PostgresAdmin.connect(ctx, "postgres", 2000)) {
                    primary = !ReplicationStatus.localState(c).inRecovery();
                } catch (SQLException e) {
                    // not accepting connections: treated as a standby to re-point
                }
            }
            if (forceBaseBackup || !PostgresRecipe.isInitialized(ctx)) {
                done.add("base backup from " + leaderAddress + " (unsynced until it completes)");
                try {
                    standby.baseBackup(ctx, leaderAddress, port, done::add);
                } catch (ServiceSetupException e) {
                    throw new ApiException(500, e.getMessage() + " (the unsynced sentinel stays: "
                            + "this node is partially synced until a sync succeeds)");
                }
                done.add("base backup complete; unsynced sentinel removed");
            } else if (primary) {
                supervisor.hold("postgresql");
                Rewind.Outcome outcome;
                try {
                    outcome = Rewind.run(ctx, leaderAddress, port);
                } catch (Rewind.Failed e) {
                    throw new ApiException(500, e.getMessage() + (e.walGone()
                            ? " (WAL it needs is gone here: use --force-basebackup)" : ""));
                }
                StandbyConfig.write(ctx, leaderAddress, port, slot);
                rejoin.begin(nameAt(leaderAddress), System.nanoTime());
                rejoin.succeeded(outcome == Rewind.Outcome.REWOUND ? Rejoin.Path.REWIND : Rejoin.Path.NONE);
                logSigns.rewound();
                standby.startPostgres();
                done.add(outcome == Rewind.Outcome.REWOUND ? "pg_rewind from " + leaderAddress + "; following it"
                        : "no rewind needed (this node's WAL ends where the leader's timeline forked off); following "
                        + leaderAddress);
            } else {
                Change change = StandbyConfig.write(ctx, leaderAddress, port, slot);
                standby.apply(change);
                done.add("standby configuration points at " + leaderAddress + ":" + port + " (" + change + ")");
            }
            return done;
        } finally {
            acting.unlock();
        }
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
}
