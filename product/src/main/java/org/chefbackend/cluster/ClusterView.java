package org.chefbackend.cluster;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.chefbackend.system.CtlCommand;

/**
 * The cluster as {@code cluster-status --json} and {@code GET /cluster} show it, computed from the records in etcd
 * (pure: no I/O, time passed in). The schema is documented in README.md and kept stable:
 * <pre>
 * {"cluster": {"leader": NAME|null, "members": N, "failover_enabled": BOOL},
 *  "nodes": [{"name", "ip", "guid", "role", "pgsql": {"role", "following", "partially_synced", "bytes_behind", "lsn",
 *                                                          "rejoin_path", "rejoin_seconds"},
 *             "elasticsearch": {"role", "healthy", "status", "nodes"}, "eligible_for_leader", "blocked",
 *             "failover_enabled", "reason", "last_update", "status_age_seconds"}],
 *  "intent_outcome": {"id", "kind", "target", "asked_at", "outcome", "reason", "at"}|null}
 * </pre>
 * ({@code intent_outcome}, how the last promote, demote or force-leader ended, is added by the agent from etcd.)
 * {@code reason} says why a node is ineligible or blocked ("search unhealthy (elasticsearch check 5/5 failures: no
 * elected cluster manager)", "no status for 31 s"); null when it is eligible and not blocked.
 */
public final class ClusterView {
    /** The role of a node whose agent was stopped: its last status said so. */
    public static final String STOPPED = "stopped";

    private ClusterView() {
    }

    /**
     * @param staleAfterMillis a status older than this counts as offline (the node stopped publishing)
     * @param maxBytesBehind a follower further behind than this is "syncing", not "synced"
     */
    public static Map<String, Object> of(Map<String, Records.Member> members, Map<String, Records.NodeStatus> statuses,
            Optional<Records.Leader> leader, long nowMillis, long staleAfterMillis, long maxBytesBehind) {
        return of(members, statuses, leader, Map.of(), nowMillis, staleAfterMillis, maxBytesBehind);
    }

    /** @param failover switches: "" for the cluster, node names for nodes; absent means on */
    public static Map<String, Object> of(Map<String, Records.Member> members, Map<String, Records.NodeStatus> statuses,
            Optional<Records.Leader> leader, Map<String, Boolean> failover, long nowMillis, long staleAfterMillis,
            long maxBytesBehind) {
        Map<String, Records.Replica> replicas = new LinkedHashMap<>();
        leader.map(l -> statuses.get(l.name())).ifPresent(ls -> {
            if (ls.replicas() != null) {
                ls.replicas().forEach(r -> replicas.put(r.name(), r));
            }
        });
        List<Map<String, Object>> nodes = new ArrayList<>();
        for (Records.Member m : members.values()) {
            Records.NodeStatus st = statuses.get(m.name());
            // a stopped node's last status is no fact about it now: like a stale one, but known to be stopped
            boolean fresh = st != null && nowMillis - st.updatedAt() <= staleAfterMillis && !stopped(st);
            boolean isLeader = leader.map(l -> l.name().equals(m.name())).orElse(false);
            Map<String, Object> pg = new LinkedHashMap<>();
            Records.Replica replica = replicas.get(m.name());
            long behind = replica != null ? replica.bytesBehind() : -1;
            pg.put("role", pgRole(st, fresh, isLeader, replica, maxBytesBehind));
            pg.put("following", fresh && st.pgsql().inRecovery() ? leader.map(Records.Leader::name).orElse(null) : null);
            pg.put("partially_synced", st != null && st.partiallySynced());
            pg.put("bytes_behind", isLeader ? 0 : behind);
            pg.put("lsn", st != null ? st.pgsql().lsn() : null);
            Records.Rejoin rejoin = st != null ? st.pgsql().rejoin() : null;
            pg.put("rejoin_path", rejoin != null ? rejoin.path() : null);
            pg.put("rejoin_seconds", rejoin != null ? rejoin.seconds() : null);
            Map<String, Object> n = new LinkedHashMap<>();
            n.put("name", m.name());
            n.put("ip", m.address());
            n.put("guid", m.guid());
            n.put("role", role(st, fresh, isLeader));
            n.put("pgsql", pg);
            n.put("elasticsearch", search(st, fresh));
            boolean eligible = fresh && st.eligibleForLeader();
            n.put("eligible_for_leader", eligible);
            boolean nodeFailover = failover.getOrDefault(m.name(), true);
            n.put("blocked", !nodeFailover);
            n.put("failover_enabled", nodeFailover);
            n.put("reason", reason(st, fresh, eligible, nodeFailover, nowMillis));
            n.put("last_update", st != null ? Instant.ofEpochMilli(st.updatedAt()).toString() : null);
            n.put("status_age_seconds", st != null ? (nowMillis - st.updatedAt()) / 1000 : null);
            nodes.add(n);
        }
        Map<String, Object> cluster = new LinkedHashMap<>();
        cluster.put("leader", leader.map(Records.Leader::name).orElse(null));
        cluster.put("members", members.size());
        cluster.put("failover_enabled", failover.getOrDefault("", true));
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("cluster", cluster);
        view.put("nodes", nodes);
        return view;
    }

    /**
     * leaderl's state as the node published it; but a node that last said "leader" while the key is another's (or
     * nobody's) has lost it since (a crash, a partition): shown as what it now is to the cluster, a deposed leader.
     */
    static String role(Records.NodeStatus st, boolean fresh, boolean isLeader) {
        if (stopped(st)) {
            return STOPPED;
        }
        if (!fresh) {
            return "unreachable";
        }
        if (isLeader) {
            return "leader";
        }
        return st.role().equals("leader") ? "deposed_leader" : st.role();
    }

    /** A node whose agent stopped cleanly; "stopping" is what agents before "stopped" published. */
    static boolean stopped(Records.NodeStatus st) {
        return st != null && (st.role().equals(STOPPED) || st.role().equals("stopping"));
    }

    private static Map<String, Object> search(Records.NodeStatus st, boolean fresh) {
        Map<String, Object> es = new LinkedHashMap<>();
        Records.Search s = fresh ? st.elasticsearch() : null;
        es.put("role", s != null && s.clusterManager() ? "master" : "not_master");
        es.put("healthy", s != null && s.healthy());
        es.put("status", s != null ? s.status() : "unknown");
        es.put("nodes", s != null ? s.nodes() : 0);
        return es;
    }

    /** Why a node is ineligible or blocked, in its own words when it published them; null when neither. */
    static String reason(Records.NodeStatus st, boolean fresh, boolean eligible, boolean nodeFailover, long nowMillis) {
        if (st == null) {
            return "no status published yet";
        }
        if (stopped(st)) {
            return "stopped " + Math.max(0, nowMillis - st.updatedAt()) / 1000 + " s ago (" + CtlCommand.elsewhere("stop")
                    + "); " + CtlCommand.elsewhere("start") + " on that node starts it";
        }
        if (!fresh) {
            return "no status for " + (nowMillis - st.updatedAt()) / 1000 + " s (agent stopped or host down)";
        }
        if (!eligible) {
            return st.ineligibleReason() != null ? st.ineligibleReason() : "ineligible (no reason published)";
        }
        return nodeFailover ? null : "failover is disabled for this node";
    }

    static String pgRole(Records.NodeStatus st, boolean fresh, boolean isLeader, Records.Replica replica,
            long maxBytesBehind) {
        if (!fresh || !st.pgsql().accepting()) {
            return "offline";
        }
        if (isLeader && !st.pgsql().inRecovery()) {
            return "leader";
        }
        if (st.partiallySynced()) {
            return "syncing";
        }
        if (st.pgsql().inRecovery() && replica != null && "streaming".equals(replica.state())
                && replica.bytesBehind() >= 0 && replica.bytesBehind() <= maxBytesBehind) {
            return "synced";
        }
        return st.pgsql().inRecovery() ? "syncing" : "offline";
    }
}
