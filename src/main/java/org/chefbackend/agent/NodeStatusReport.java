package org.chefbackend.agent;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.chefbackend.etcd.EtcdProbe;
import org.chefbackend.postgres.PostgresAdmin;
import org.chefbackend.search.SearchClient;

/**
 * What this node can see of itself and its cluster, probed with short timeouts: etcd health and members, the
 * search cluster's health, whether PostgreSQL accepts connections, disk space, sentinels. Serves {@code /status}
 * and leaderl's health checks.
 */
final class NodeStatusReport {
    private final Supplier<NodeContext> node;
    private final SearchClient search = new SearchClient();

    NodeStatusReport(Supplier<NodeContext> node) {
        this.node = node;
    }

    /** Registers the documents' checks with their max_*_failures thresholds. */
    void registerHealthChecks(HealthMonitor health) {
        var s = node.get().settings();
        health.add("pgsql", s.intValue("leaderl.health_check.max_pgsql_failures"),
                () -> PostgresAdmin.isAcceptingConnections(node.get()));
        health.add("elasticsearch", s.intValue("leaderl.health_check.max_elasticsearch_failures"),
                () -> search.health(node.get()).reachable());
        health.add("etcd", s.intValue("leaderl.health_check.max_etcd_failures"), () -> EtcdProbe.health(node.get()));
        health.add("disks", 1, () -> disks().stream().allMatch(d -> Boolean.TRUE.equals(d.get("ok"))));
    }

    /** Probes in parallel so /status stays fast even when a service hangs. */
    Map<String, Object> snapshot() {
        NodeContext ctx = node.get();
        var etcd = CompletableFuture.supplyAsync(() -> etcd(ctx));
        var es = CompletableFuture.supplyAsync(() -> elasticsearch(ctx));
        var pg = CompletableFuture.supplyAsync(() -> postgresql(ctx));
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("in_cluster", NodeState.inCluster(ctx.paths()));
        doc.put("sentinels", Map.of(
                NodeState.NO_START_PGSQL, NodeState.hasSentinel(ctx.paths(), NodeState.NO_START_PGSQL),
                NodeState.UNSYNCED, NodeState.hasSentinel(ctx.paths(), NodeState.UNSYNCED)));
        doc.put("disks", disks());
        doc.put("etcd", etcd.join());
        doc.put("elasticsearch", es.join());
        doc.put("postgresql", pg.join());
        return doc;
    }

    private static Map<String, Object> etcd(NodeContext ctx) {
        boolean healthy = EtcdProbe.health(ctx);
        List<EtcdProbe.Member> members = healthy ? EtcdProbe.members(ctx) : List.of();
        int healthyMembers = 0;
        for (EtcdProbe.Member m : members) {
            if (!m.clientURLs().isEmpty() && EtcdProbe.health(m.clientURLs().get(0))) {
                healthyMembers++;
            }
        }
        return Map.of("healthy", healthy, "members", members.size(), "healthy_members", healthyMembers);
    }

    private Map<String, Object> elasticsearch(NodeContext ctx) {
        SearchClient.Health h = search.health(ctx);
        return Map.of("reachable", h.reachable(), "status", h.status().name().toLowerCase(java.util.Locale.ROOT),
                "nodes", h.numberOfNodes(), "cluster_manager", h.clusterManager());
    }

    private static Map<String, Object> postgresql(NodeContext ctx) {
        Map<String, Object> pg = new LinkedHashMap<>();
        try (Connection c = PostgresAdmin.connect(ctx, "postgres", 1000);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select pg_is_in_recovery()")) {
            rs.next();
            pg.put("accepting", true);
            pg.put("in_recovery", rs.getBoolean(1));
        } catch (SQLException | RuntimeException e) {
            pg.put("accepting", false);
        }
        return pg;
    }

    /** Free space of each leaderl.health_check.disk_paths entry (under the node root) against disk_min_space_mb. */
    List<Map<String, Object>> disks() {
        NodeContext ctx = node.get();
        long minMb = ctx.settings().integer("leaderl.health_check.disk_min_space_mb");
        List<Map<String, Object>> out = new ArrayList<>();
        for (String documented : ctx.settings().list("leaderl.health_check.disk_paths")) {
            Path path = ctx.paths().resolve(documented);
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("path", documented);
            try {
                Path existing = path;
                while (!Files.exists(existing) && existing.getParent() != null) {
                    existing = existing.getParent();
                }
                FileStore store = Files.getFileStore(existing);
                long freeMb = store.getUsableSpace() / (1024 * 1024);
                d.put("free_mb", freeMb);
                d.put("ok", freeMb >= minMb);
            } catch (IOException e) {
                d.put("free_mb", -1);
                d.put("ok", false);
            }
            out.add(d);
        }
        return out;
    }
}
