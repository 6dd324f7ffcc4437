package org.chefbackend.recovery;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.chefbackend.agent.Launch;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeState;
import org.chefbackend.agent.ServiceUsers;
import org.chefbackend.etcd.EtcdProbe;
import org.chefbackend.etcd.EtcdRecipe;
import org.chefbackend.postgres.PostgresAdmin;
import org.chefbackend.postgres.ReplicationSlots;
import org.chefbackend.search.OpenSearchRecipe;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.Distribution;
import org.chefbackend.system.FileTrees;
import org.chefbackend.system.Http;

/**
 * {@code create-cluster --quorum-loss-recovery} on the sole survivor of a two-node loss: a new cluster of this node
 * alone, with its data, which new nodes then join.
 *
 * <p><b>etcd: a fresh one-member cluster, not {@code --force-new-cluster}.</b> Everything in etcd is either
 * re-published by the agents (member records, statuses) or belongs to the lost cluster and must not carry over: the
 * dead members' records and slots, the last leader's {@code history} (which could name a position the survivor never
 * had, and would then block its election forever), an old leader key and pending intents. A fresh data directory
 * gives exactly that, and a new cluster ID, so a lost member that comes back with its old data cannot rejoin by
 * accident; --force-new-cluster would keep the old keys and need a second restart without the flag.
 * The failover switches (set-cluster-failover / set-node-failover) start "on" again.
 *
 * <p><b>Search: {@code opensearch-node unsafe-bootstrap}</b>, not a rebuilt index. The survivor's index is as
 * current as its last writes; unsafe-bootstrap makes it the cluster manager of a new one-node cluster keeping that
 * data, so frontends search at once, and the joining nodes (with empty data) copy its shards. Rebuilding instead
 * would leave search empty until a {@code chef-server-ctl reindex --all}. (detach-cluster is the tool for nodes
 * that then join such a cluster; ours join with empty data instead.)
 *
 * <p><b>PostgreSQL</b> keeps its data; a follower is promoted by leaderl, which elects the only member. The
 * {@code no-start-pgsql} sentinel (written when the leader fenced itself on losing quorum) is removed: the operator
 * asserts, as the documented two-node procedure requires, that this node has the most up-to-date data. A partially
 * synced node ({@code unsynced}) is refused: its data cannot found a cluster.
 */
public final class QuorumLossRecovery {

    private QuorumLossRecovery() {
    }

    /** Why this node may not re-form the cluster now, empty when it may. Read-only. */
    public static Optional<String> refusal(NodeContext ctx) {
        if (NodeState.hasSentinel(ctx.paths(), NodeState.UNSYNCED)) {
            return Optional.of("this node's PostgreSQL is partially synced (" + NodeState.sentinel(ctx.paths(),
                    NodeState.UNSYNCED) + "): its data cannot found a cluster; restore from a backup instead");
        }
        if (EtcdProbe.health(ctx)) {
            return Optional.of("the cluster still has quorum (this node's etcd is healthy); quorum-loss recovery is "
                    + "for the sole survivor of a two-node loss: replace failed nodes with remove-node instead");
        }
        List<EtcdProbe.Member> members;
        try {
            members = EtcdProbe.members(ctx);
        } catch (RuntimeException e) {
            members = List.of();
        }
        for (EtcdProbe.Member m : members) {
            for (String peer : m.peerURLs()) {
                String host = URI.create(peer).getHost();
                if (host == null || host.equals(ctx.publishAddress())) {
                    continue;
                }
                if (agentAnswers(host, ctx.settings().intValue("leaderl.http_port"))) {
                    return Optional.of("the member at " + host + " still runs; stop it (" + CtlCommand.elsewhere("stop") + ") or "
                            + "power it off first, so only this node's cluster remains");
                }
            }
        }
        return Optional.empty();
    }

    private static boolean agentAnswers(String host, int port) {
        try {
            return Http.get(Http.base(host, port) + "/status", Duration.ofSeconds(2), Duration.ofSeconds(3)).status() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    /** etcd: the lost cluster's data goes; this node alone forms a new cluster at the next start. */
    public static void newEtcdCluster(NodeContext ctx) throws IOException {
        FileTrees.deleteTree(ctx.path("etcd.data_dir"));
        EtcdRecipe.writeInitialCluster(ctx, "new", Map.of(ctx.nodeGuid(), EtcdRecipe.peerUrl(ctx)));
    }

    /**
     * Search: only this node as seed host, and (when it holds cluster state) {@code opensearch-node
     * unsafe-bootstrap} with the service stopped. Returns what was done.
     */
    public static String newSearchCluster(NodeContext ctx) throws IOException {
        Path seeds = OpenSearchRecipe.seedHostsFile(ctx);
        Files.createDirectories(seeds.getParent());
        Files.writeString(seeds, OpenSearchRecipe.transportAddress(ctx) + "\n");
        Path data = ctx.path("elasticsearch.data_dir");
        boolean hasState;
        try (var s = Files.list(data)) {
            hasState = s.findAny().isPresent();
        } catch (IOException e) {
            hasState = false;
        }
        if (!hasState) {
            return "no search data: the search node founds a new cluster when it starts";
        }
        OpenSearchRecipe recipe = new OpenSearchRecipe();
        recipe.prepare(ctx); // renders the configuration the tool reads
        Launch launch = recipe.launch(ctx);
        List<String> command = new ArrayList<>(Processes.asUser(ServiceUsers.CHEF_BACKEND, List.of(
                Distribution.opensearchHome().resolve("bin/opensearch-node").toString(), "unsafe-bootstrap")));
        StringBuilder out = new StringBuilder();
        Processes.run(command, launch.workingDirectory(), launch.environment(), "y\n",
                System.nanoTime() + TimeUnit.MINUTES.toNanos(5), l -> out.append(l).append('\n'));
        if (!out.toString().contains("successfully")) {
            throw new IOException("opensearch-node unsafe-bootstrap did not confirm success: " + out.toString().strip());
        }
        return "opensearch-node unsafe-bootstrap: this node's search data forms a new one-node cluster";
    }

    /** PostgreSQL: the fence of a leader that lost quorum is lifted (the operator vouches for this node's data). */
    public static boolean liftFence(NodeContext ctx) throws IOException {
        return Files.deleteIfExists(NodeState.sentinel(ctx.paths(), NodeState.NO_START_PGSQL));
    }

    /**
     * Drops the replication slots of the lost cluster's members on this (now leading) node: unused slots keep WAL
     * forever. Joining nodes create their own.
     */
    public static List<String> dropStaleSlots(NodeContext ctx) throws SQLException {
        List<String> dropped = new ArrayList<>();
        try (Connection c = PostgresAdmin.connect(ctx, "postgres", 10_000);
                PreparedStatement st = c.prepareStatement("select slot_name from pg_replication_slots"
                        + " where not active and slot_type = 'physical'");
                ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
                dropped.add(rs.getString(1));
            }
            for (String slot : dropped) {
                ReplicationSlots.drop(c, slot);
            }
        }
        return dropped;
    }
}
