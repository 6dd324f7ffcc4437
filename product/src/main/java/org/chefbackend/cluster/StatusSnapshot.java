package org.chefbackend.cluster;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeState;
import org.chefbackend.postgres.LocalSession;
import org.chefbackend.postgres.ReplicationStatus;
import org.chefbackend.search.SearchClient;

/**
 * Builds the status a node publishes to {@code nodes/<name>}: valid as {@link Records.NodeStatus} says, whatever
 * PostgreSQL and the search engine answered (their text made one line and cut to size).
 */
final class StatusSnapshot {
    private StatusSnapshot() {
    }

    static Records.NodeStatus of(NodeContext ctx, LocalSession postgres, SearchClient search, String role,
            String ineligibleReason) {
        Records.Pgsql pg = new Records.Pgsql(false, false, null, null, null, 0);
        List<Records.Replica> replicas = new ArrayList<>();
        try {
            pg = postgres.use(c -> {
                ReplicationStatus.LocalState local = ReplicationStatus.localState(c);
                if (!local.inRecovery()) {
                    for (ReplicationStatus.ReplicaInfo r : ReplicationStatus.replicas(c)) {
                        if (replicas.size() == Records.MAX_REPLICAS) {
                            break;
                        }
                        replicas.add(new Records.Replica(r.applicationName(), r.slot(), r.state(), r.syncState(),
                                r.replayLagBytes()));
                    }
                }
                return new Records.Pgsql(true, local.inRecovery(),
                        local.inRecovery() ? local.replayLsn() : local.currentOrReceiveLsn(),
                        followed(local.senderHost()), RecordRules.oneLine(local.walReceiverStatus(),
                                RecordRules.MAX_WORD), local.timeline(), null);
            });
        } catch (SQLException | RuntimeException e) {
            replicas.clear();
            // PostgreSQL down: published as not accepting
        }
        pg = new Records.Pgsql(pg.accepting(), pg.inRecovery(), pg.lsn(), pg.following(), pg.receiver(), pg.timeline(),
                Records.Rejoin.read(ctx.paths()));
        SearchClient.Health h = search.health(ctx);
        boolean unsynced = NodeState.hasSentinel(ctx.paths(), NodeState.UNSYNCED);
        return new Records.NodeStatus(ctx.nodeName(), ctx.nodeGuid(), ctx.publishAddress(), role, pg,
                new Records.Search(h.reachable(), h.clusterManager(), h.status().name().toLowerCase(Locale.ROOT),
                        h.numberOfNodes(), RecordRules.oneLine(h.problem(), RecordRules.MAX_TEXT)),
                replicas, unsynced, ineligibleReason == null, true, System.currentTimeMillis(),
                RecordRules.oneLine(ineligibleReason, RecordRules.MAX_TEXT));
    }

    /** The upstream's address; null unless an IP literal (this product writes none other into primary_conninfo). */
    static String followed(String senderHost) {
        return RecordRules.isIpLiteral(senderHost) ? senderHost : null;
    }
}
