package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import org.chefbackend.cluster.ClusterView;

/**
 * The original's status table:
 * <pre>
 * Service        Local Status        Time in State  Distributed Node Status
 * etcd           running (pid 6742)  1d 5h 59m 39s  health: green; healthy nodes: 3/3
 * </pre>
 * followed by the System/disks section for {@code leaderl.health_check.disk_paths}. The distributed column is
 * computed from what the node knows: before it is part of a cluster, that is only itself.
 */
final class StatusTable {
    private StatusTable() {
    }

    static void print(PrintWriter out, JsonNode status, List<JsonNode> services, boolean withSystem, long now) {
        print(out, status, null, services, withSystem, now);
    }

    /** @param cluster the cluster view (GET /cluster) when the node is a member, else null */
    static void print(PrintWriter out, JsonNode status, JsonNode cluster, List<JsonNode> services, boolean withSystem,
            long now) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"Service", "Local Status", "Time in State", "Distributed Node Status"});
        for (JsonNode s : services) {
            rows.add(new String[] {s.path("name").asText(), local(s),
                    ServiceLines.duration(ServiceLines.seconds(s, now)),
                    cluster != null ? distributed(status, cluster, s.path("name").asText())
                            : distributed(status, s.path("name").asText())});
        }
        printColumns(out, rows, new int[] {15, 20, 15}, 1);
        if (withSystem) {
            out.println();
            List<String[]> system = new ArrayList<>();
            system.add(new String[] {"System", "Local Status", "Distributed Node Status"});
            system.add(new String[] {"disks", disks(status), "health: " + (disksOk(status) ? "green" : "red")
                    + "; healthy nodes: " + (disksOk(status) ? 1 : 0) + "/1"});
            ArchiveLine.of(status, now).ifPresent(line -> system.add(new String[] {"archive", line,
                    "repository: " + status.at("/backup/repository").asText()}));
            printColumns(out, system, new int[] {8, 0}, 2);
        }
    }

    static String local(JsonNode s) {
        if (!s.path("enabled").asBoolean()) {
            return "disabled";
        }
        return s.path("running").asBoolean() ? "running (pid " + s.path("pid").asLong() + ")" : "down";
    }

    static String distributed(JsonNode status, String service) {
        boolean inCluster = status.path("in_cluster").asBoolean();
        switch (service) {
            case "etcd": {
                JsonNode e = status.path("etcd");
                if (!e.path("healthy").asBoolean()) {
                    return "health: red; healthy nodes: 0/" + Math.max(1, e.path("members").asInt());
                }
                int members = Math.max(1, e.path("members").asInt());
                return "health: green; healthy nodes: " + e.path("healthy_members").asInt(1) + "/" + members;
            }
            case "elasticsearch": {
                JsonNode es = status.path("elasticsearch");
                if (!es.path("reachable").asBoolean()) {
                    return "state: unreachable";
                }
                int nodes = es.path("nodes").asInt();
                int expected = Math.max(nodes, status.path("etcd").path("members").asInt(nodes));
                return "state: " + es.path("status").asText("unknown") + "; nodes online: " + nodes + "/" + expected
                        + searchProblem(es);
            }
            case "postgresql": {
                JsonNode pg = status.path("postgresql");
                String local = pg.path("accepting").asBoolean()
                        ? (pg.path("in_recovery").asBoolean() ? "standby accepting connections" : "accepting connections")
                        : "not accepting connections";
                return inCluster ? local : "not part of a cluster; local: " + local;
            }
            case "leaderl":
                return (inCluster ? "member of a cluster" : "not part of a cluster") + synchronousMode(status);
            default:
                return "";
        }
    }

    /** The distributed column from the cluster's published statuses, as the original counts them. */
    static String distributed(JsonNode status, JsonNode cluster, String service) {
        JsonNode nodes = cluster.path("nodes");
        int total = nodes.size();
        switch (service) {
            case "leaderl": {
                int stopped = count(nodes, "role", ClusterView.STOPPED);
                return "leader: " + count(nodes, "role", "leader") + "; waiting: " + count(nodes, "role", "waiting_for_leader")
                        + "; follower: " + count(nodes, "role", "follower") + (stopped > 0 ? "; stopped: " + stopped : "")
                        + "; total: " + total + synchronousMode(status);
            }
            case "postgresql":
                return "leader: " + countPg(nodes, "leader") + "; offline: " + countPg(nodes, "offline")
                        + "; syncing: " + countPg(nodes, "syncing") + "; synced: " + countPg(nodes, "synced");
            case "elasticsearch": {
                JsonNode es = status.path("elasticsearch");
                if (!es.path("reachable").asBoolean()) {
                    return "state: unreachable; nodes online: 0/" + total;
                }
                return "state: " + es.path("status").asText("unknown") + "; nodes online: " + es.path("nodes").asInt()
                        + "/" + total + searchProblem(es);
            }
            default:
                return distributed(status, service);
        }
    }

    /**
     * The running services among {@code services} that are not healthy, each as "SERVICE: why"; what a health check
     * means by healthy, so that {@code status} exiting 0 means every service works, not just that its process runs.
     */
    static List<String> unhealthy(JsonNode status, List<JsonNode> services) {
        List<String> out = new ArrayList<>();
        for (JsonNode s : services) {
            if (!s.path("enabled").asBoolean() || !s.path("running").asBoolean()) {
                continue; // down or stopped on purpose: the up/down verdict covers it
            }
            String name = s.path("name").asText();
            String why = switch (name) {
                case "postgresql" -> status.path("postgresql").path("accepting").asBoolean() ? null
                        : "not accepting connections";
                case "etcd" -> status.path("etcd").path("healthy").asBoolean() ? null : "member not healthy";
                case "elasticsearch" -> {
                    JsonNode es = status.path("elasticsearch");
                    yield es.path("healthy").asBoolean() ? null
                            : es.path("problem").isTextual() ? es.path("problem").asText() : "not answering";
                }
                default -> null;
            };
            if (why != null) {
                out.add(name + ": " + why);
            }
        }
        return out;
    }

    /** In synchronous mode: the standby recorded in etcd, or that none is (then no node is elected by itself). */
    static String synchronousMode(JsonNode status) {
        JsonNode sync = status.path("leaderl").path("synchronous_standby");
        if (sync.isMissingNode()) {
            return "";
        }
        return sync.isTextual() ? "; synchronous standby: " + sync.asText()
                : "; synchronous mode: no synchronous standby, no automatic failover";
    }

    /** "; this node: no elected cluster manager" when the local search engine is not a working member. */
    private static String searchProblem(JsonNode es) {
        return es.path("problem").isTextual() ? "; this node: " + es.path("problem").asText() : "";
    }

    private static int count(JsonNode nodes, String field, String value) {
        int n = 0;
        for (JsonNode node : nodes) {
            n += node.path(field).asText().equals(value) ? 1 : 0;
        }
        return n;
    }

    private static int countPg(JsonNode nodes, String role) {
        int n = 0;
        for (JsonNode node : nodes) {
            n += node.path("pgsql").path("role").asText().equals(role) ? 1 : 0;
        }
        return n;
    }

    static String disks(JsonNode status) {
        List<String> parts = new ArrayList<>();
        for (JsonNode d : status.path("disks")) {
            parts.add(d.path("path").asText() + ": " + (d.path("ok").asBoolean() ? "OK"
                    : "LOW (" + d.path("free_mb").asLong() + " MB free)"));
        }
        return String.join("; ", parts);
    }

    static boolean disksOk(JsonNode status) {
        for (JsonNode d : status.path("disks")) {
            if (!d.path("ok").asBoolean()) {
                return false;
            }
        }
        return true;
    }

    /** Pads every column but the last to at least its minimum width, and to its widest cell plus {@code gap}. */
    static void printColumns(PrintWriter out, List<String[]> rows, int[] minWidths, int gap) {
        int columns = rows.get(0).length;
        int[] widths = new int[columns];
        for (int c = 0; c < columns - 1; c++) {
            widths[c] = c < minWidths.length ? minWidths[c] : 0;
            for (String[] row : rows) {
                widths[c] = Math.max(widths[c], row[c].length() + gap);
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < columns; c++) {
                line.append(c == columns - 1 ? row[c] : String.format("%-" + widths[c] + "s", row[c]));
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
