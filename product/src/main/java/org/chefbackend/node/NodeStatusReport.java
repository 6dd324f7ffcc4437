package org.chefbackend.node;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.chefbackend.agent.HealthMonitor;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeState;
import org.chefbackend.agent.ServiceStatus;
import org.chefbackend.etcd.EtcdAccess;
import org.chefbackend.etcd.EtcdProbe;
import org.chefbackend.postgres.LocalSession;
import org.chefbackend.postgres.PostgresAdmin;
import org.chefbackend.search.SearchClient;
import org.chefbackend.system.ReplacedFiles;
import org.chefbackend.tls.Authority;
import org.chefbackend.tls.CertificateExpiry;
import org.chefbackend.tls.SecurityMode;

/**
 * What this node can see of itself and its cluster, probed with short timeouts: etcd health and members, the
 * search cluster's health, whether PostgreSQL accepts connections, disk space, sentinels. Serves {@code /status}
 * and leaderl's health checks.
 */
final class NodeStatusReport {
    /** Threads for the probes, started as needed and ended after a minute unused. */
    private static final ExecutorService PROBES = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "status-probe");
        t.setDaemon(true);
        return t;
    });
    /** Reading every process's maps and open files (the search engine's are thousands of lines) at most this often. */
    private static final long REPLACED_SCAN_EVERY_NANOS = 5_000_000_000L;
    private final Supplier<NodeContext> node;
    private final SearchClient search = new SearchClient();
    private final LocalSession postgres;
    private final ReplacedFiles replacedFiles = ReplacedFiles.forProduct();
    /** The last scan and when it was made: /status is polled (every 200 ms while the CLI waits) and open to anyone. */
    private List<Map<String, Object>> lastReplaced = List.of();
    private List<Long> lastReplacedPids = List.of();
    private long lastReplacedNanos;

    NodeStatusReport(Supplier<NodeContext> node, LocalSession postgres) {
        this.node = node;
        this.postgres = postgres;
    }

    /** Registers the documents' checks with their max_*_failures thresholds. */
    void registerHealthChecks(HealthMonitor health) {
        var s = node.get().settings();
        health.add("pgsql", s.intValue("leaderl.health_check.max_pgsql_failures"), HealthMonitor.Probe.of(
                () -> PostgresAdmin.isAcceptingConnections(node.get()), "not accepting connections"));
        // healthy only as a counted member of a search cluster with an elected cluster manager: a node that answers
        // HTTP but is alone (never rejoined after a restart) or cut off serves no search at all
        health.add("elasticsearch", s.intValue("leaderl.health_check.max_elasticsearch_failures"),
                () -> search.health(node.get()).problem());
        health.add("etcd", s.intValue("leaderl.health_check.max_etcd_failures"),
                HealthMonitor.Probe.of(() -> EtcdProbe.health(node.get()), "not healthy"));
        health.add("disks", 1, HealthMonitor.Probe.of(
                () -> disks().stream().allMatch(d -> Boolean.TRUE.equals(d.get("ok"))), "below disk_min_space_mb"));
    }

    /**
     * Probes in parallel so /status stays fast even when a service hangs. On their own threads: the common pool has
     * one thread on a 2-CPU machine, which ran them one after the other.
     */
    Map<String, Object> snapshot() {
        NodeContext ctx = node.get();
        var etcd = CompletableFuture.supplyAsync(() -> etcd(ctx), PROBES);
        var es = CompletableFuture.supplyAsync(() -> elasticsearch(ctx), PROBES);
        var pg = CompletableFuture.supplyAsync(this::postgresql, PROBES);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("in_cluster", NodeState.inCluster(ctx.paths()));
        doc.put("sentinels", Map.of(
                NodeState.NO_START_PGSQL, NodeState.hasSentinel(ctx.paths(), NodeState.NO_START_PGSQL),
                NodeState.UNSYNCED, NodeState.hasSentinel(ctx.paths(), NodeState.UNSYNCED)));
        doc.put("disks", disks());
        doc.put("etcd", etcd.join());
        doc.put("elasticsearch", es.join());
        doc.put("postgresql", pg.join());
        doc.put("security", SecurityMode.of(ctx).jsonName());
        if (ctx.secrets().ca() != null) {
            doc.put("ca_fingerprint", Authority.fingerprint(ctx.secrets().ca()));
        }
        doc.put("certificates", CertificateExpiry.report(ctx, Instant.now()));
        return doc;
    }

    /** The running services, and the agent itself, that still run files an upgrade replaced: see {@link #replaced}. */
    synchronized List<Map<String, Object>> replacedFiles(List<ServiceStatus> services) {
        long now = System.nanoTime();
        List<Long> pids = services.stream().map(ServiceStatus::pid).toList();
        if (lastReplacedNanos == 0 || now - lastReplacedNanos > REPLACED_SCAN_EVERY_NANOS
                || !pids.equals(lastReplacedPids)) {
            lastReplaced = replaced(services, ProcessHandle.current().pid(), replacedFiles::of);
            lastReplacedPids = pids;
            lastReplacedNanos = now;
        }
        return lastReplaced;
    }

    /**
     * Per running process, the files it still runs that were replaced on disk since it started (Debian upgraded
     * postgresql-15 or etcd-server, or the package itself): only a restart puts the new ones to use. The agent's JVM
     * is "agent" (leaderl runs in it and shares its pid); processes with nothing replaced, or unreadable, are left
     * out. The services stay healthy: this informs, it does not fail a health check.
     */
    static List<Map<String, Object>> replaced(List<ServiceStatus> services, long agentPid,
            LongFunction<Optional<List<String>>> filesOf) {
        List<Map<String, Object>> out = new ArrayList<>();
        add(out, "agent", agentPid, filesOf);
        for (ServiceStatus s : services) {
            if (s.running() && s.pid() > 0 && s.pid() != agentPid) {
                add(out, s.name(), s.pid(), filesOf);
            }
        }
        return out;
    }

    private static void add(List<Map<String, Object>> out, String service, long pid,
            LongFunction<Optional<List<String>>> filesOf) {
        List<String> files = filesOf.apply(pid).orElse(List.of());
        if (!files.isEmpty()) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("service", service);
            entry.put("pid", pid);
            entry.put("files", files);
            out.add(entry);
        }
    }

    /** This node's etcd and, asked at the same time, every member's; members are counted only while it is healthy. */
    private static Map<String, Object> etcd(NodeContext ctx) {
        var local = CompletableFuture.supplyAsync(() -> EtcdProbe.health(ctx), PROBES);
        List<CompletableFuture<Boolean>> each = new ArrayList<>();
        List<EtcdProbe.Member> members = EtcdProbe.members(ctx); // empty when it cannot be asked
        SSLContext tls = EtcdAccess.of(ctx).tls();
        for (EtcdProbe.Member m : members) {
            if (!m.clientURLs().isEmpty()) {
                each.add(CompletableFuture.supplyAsync(() -> EtcdProbe.health(m.clientURLs().get(0), tls), PROBES));
            }
        }
        boolean healthy = local.join();
        int healthyMembers = (int) each.stream().filter(CompletableFuture::join).count();
        return Map.of("healthy", healthy, "members", healthy ? members.size() : 0,
                "healthy_members", healthy ? healthyMembers : 0);
    }

    private Map<String, Object> elasticsearch(NodeContext ctx) {
        SearchClient.Health h = search.health(ctx);
        Map<String, Object> es = new LinkedHashMap<>();
        es.put("reachable", h.reachable());
        es.put("healthy", h.member());
        es.put("problem", h.problem());
        es.put("status", h.status().name().toLowerCase(Locale.ROOT));
        es.put("nodes", h.numberOfNodes());
        es.put("cluster_manager", h.clusterManager());
        return es;
    }

    private Map<String, Object> postgresql() {
        Map<String, Object> pg = new LinkedHashMap<>();
        try {
            boolean inRecovery = postgres.use(c -> {
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select pg_is_in_recovery()")) {
                    rs.next();
                    return rs.getBoolean(1);
                }
            });
            pg.put("accepting", true);
            pg.put("in_recovery", inRecovery);
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
