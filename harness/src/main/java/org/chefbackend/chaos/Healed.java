package org.chefbackend.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.chefbackend.bench.ChefBackendCluster;
import org.chefbackend.bench.Procs;

/**
 * The fault suite's "healed" (issue 16): what a user of the cluster sees, not only PostgreSQL. Healed means every
 * configured node is present in {@code cluster-status} and none is unreachable; exactly one node leads (and answers
 * 200 on {@code /leader}); every other node's PostgreSQL is "synced", eligible for leader and streaming from the
 * leader; every node's own OpenSearch answers {@code _cluster/health} green with every node in its cluster (an
 * answer at all means it has an elected cluster manager); and {@code chef-backend-ctl status} exits 0 on every node.
 *
 * <p>The check runs in two steps so that polling stays cheap on a small machine: first the HTTP answers (the agents'
 * {@code /leader} and {@code /cluster}, the same view {@code cluster-status --json} prints, each OpenSearch's health
 * and the leader's {@code pg_stat_replication}); only when those pass, the CLI itself ({@code cluster-status --json}
 * and {@code status} on every node, one JVM each). When the deadline passes, every condition is checked and each one
 * that failed is named: that is what a run that did not heal reports.
 */
final class Healed {
    /** The search health query: a node without an elected cluster manager answers 503 after 2 s. */
    static final String HEALTH = "/_cluster/health?cluster_manager_timeout=2s";

    private final ChefBackendCluster cb;
    private final int searchPort;

    Healed(ChefBackendCluster cb, int searchPort) {
        this.cb = cb;
        this.searchPort = searchPort;
    }

    /**
     * Polls until healed (null) or {@code limit} has passed; then every condition is checked once more and the ones
     * that failed are returned, joined by "; ".
     */
    String await(Duration limit) {
        double deadline = Procs.now() + limit.toSeconds();
        while (Procs.now() < deadline) {
            List<String> p = problems(false);
            if (p.isEmpty()) {
                return null;
            }
            // a failing CLI step costs four JVMs: do not spin on it
            Procs.sleep(p.stream().anyMatch(s -> s.startsWith("cli: ")) ? 2000 : 300);
        }
        List<String> p = problems(true);
        return p.isEmpty() ? null : String.join("; ", p);
    }

    /** The conditions that fail now; empty when healed. {@code all}: check everything, else stop at the first step that fails. */
    List<String> problems(boolean all) {
        List<String> names = new ArrayList<>();
        List<String> addresses = cb.addresses();
        for (int i = 0; i < addresses.size(); i++) {
            names.add(cb.nodeName(i));
        }
        List<String> p = new ArrayList<>();
        int l = cb.leader();
        if (l < 0) {
            p.add("no node answers 200 on /leader");
        } else {
            int streaming = cb.streaming(addresses.get(l));
            if (streaming != addresses.size() - 1) {
                p.add(cb.nodeName(l) + "'s pg_stat_replication: " + streaming + " of " + (addresses.size() - 1)
                        + " followers streaming");
            }
        }
        p.addAll(clusterProblems(names, clusterView()));
        for (int i = 0; i < addresses.size(); i++) {
            String problem = searchProblem(names.get(i), addresses.size(), searchHealth(addresses.get(i), searchPort));
            if (problem != null) {
                p.add(problem);
            }
        }
        if (!p.isEmpty() && !all) {
            return p;
        }
        cliProblems(names).forEach(c -> p.add("cli: " + c));
        return p;
    }

    /** cluster-status --json and status on every node, as an operator would run them. */
    private List<String> cliProblems(List<String> names) {
        List<String> p = new ArrayList<>(clusterProblems(names, cb.clusterStatus()).stream()
                .map(s -> "cluster-status --json: " + s).toList());
        for (int i = 0; i < names.size(); i++) {
            String s = statusProblem(names.get(i), cb.ctl(i, Duration.ofSeconds(60), "status"));
            if (s != null) {
                p.add(s);
            }
        }
        return p;
    }

    /** GET /cluster from the first agent that answers (what cluster-status --json prints); null when none does. */
    JsonNode clusterView() {
        for (String a : cb.addresses()) {
            String body = Procs.httpGet("http://" + a + ":7331/cluster");
            if (body != null) {
                try {
                    return Chaos.JSON.readTree(body);
                } catch (IOException e) {
                    // a reply cut short: ask the next agent
                }
            }
        }
        return null;
    }

    /** Node {@code address}'s own view of the search cluster; null when it does not answer 200 (no cluster manager, down). */
    static JsonNode searchHealth(String address, int port) {
        String body = Procs.httpGet("http://" + address + ":" + port + HEALTH);
        if (body == null) {
            return null;
        }
        try {
            return Chaos.JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    /** True when a node's search health shows it in the search cluster: a cluster manager and every node. */
    static boolean inSearchCluster(JsonNode health, int nodes) {
        return health != null && health.path("number_of_nodes").asInt() == nodes;
    }

    // ---- the judgements (pure) ----------------------------------------------------------------------------------

    /** What cluster-status shows wrong: nodes missing or unreachable, not exactly one leader, followers unfit. */
    static List<String> clusterProblems(List<String> names, JsonNode view) {
        if (view == null) {
            return List.of("cluster-status: no agent answered");
        }
        List<String> p = new ArrayList<>();
        List<String> leaders = new ArrayList<>();
        for (String name : names) {
            JsonNode n = null;
            for (JsonNode x : view.path("nodes")) {
                if (x.path("name").asText().equals(name)) {
                    n = x;
                }
            }
            if (n == null) {
                p.add(name + " missing from cluster-status");
                continue;
            }
            String role = n.path("role").asText();
            if (role.equals("leader")) {
                leaders.add(name);
                continue;
            }
            if (role.equals("unreachable")) {
                p.add(name + " unreachable (status " + n.path("status_age_seconds").asText("?") + " s old)");
                continue;
            }
            String pg = n.path("pgsql").path("role").asText();
            if (!pg.equals("synced")) {
                p.add(name + " pgsql " + pg + reason(n));
            }
            if (!n.path("eligible_for_leader").asBoolean()) {
                p.add(name + " not eligible for leader" + reason(n));
            }
        }
        if (leaders.size() != 1) {
            p.add(leaders.isEmpty() ? "no leader in cluster-status" : leaders.size() + " leaders in cluster-status " + leaders);
        }
        return p;
    }

    private static String reason(JsonNode node) {
        return node.hasNonNull("reason") ? " (" + node.get("reason").asText() + ")" : "";
    }

    /** What is wrong with a node's search health as it sees it; null when green with every node. */
    static String searchProblem(String name, int nodes, JsonNode health) {
        if (health == null) {
            return name + " search: no answer to _cluster/health (down, or no elected cluster manager)";
        }
        String status = health.path("status").asText("?");
        int seen = health.path("number_of_nodes").asInt();
        if (!status.equals("green") || seen != nodes) {
            return String.format(Locale.ROOT, "%s search: %s with %d of %d nodes", name, status, seen, nodes);
        }
        return null;
    }

    /** A node's status command that did not exit 0, with what it printed (whitespace squeezed, cut at 300 chars). */
    static String statusProblem(String name, Procs.Result r) {
        if (r.code() == 0) {
            return null;
        }
        String out = r.all().replaceAll("\\s+", " ").strip();
        return name + " status exit " + r.code() + ": " + (out.length() > 300 ? out.substring(0, 300) + "…" : out);
    }
}
