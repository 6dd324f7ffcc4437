package org.chefbackend.search;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.system.Http;

/**
 * The agent's probe of the local search node: cluster health as this node sees it, and whether it is the elected
 * cluster manager. Never throws for an unreachable node: that is an answer ({@link Status#UNKNOWN}) to a probe.
 */
public final class SearchClient {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);

    private static final ObjectMapper JSON = new ObjectMapper();

    public enum Status { GREEN, YELLOW, RED, UNKNOWN }

    /**
     * @param status cluster health colour; UNKNOWN when the node did not answer
     * @param numberOfNodes nodes in the cluster this node is part of; 0 when unknown
     * @param clusterManager whether this node is the elected cluster manager ("master" in the documents' ES)
     * @param problem why this node is not a working member of a search cluster, null when it is: it answers, its
     *     cluster has an elected cluster manager, and that cluster counts this node
     */
    public record Health(Status status, int numberOfNodes, boolean clusterManager, String problem,
            String managerTransport) {
        public static final Health UNREACHABLE = new Health(Status.UNKNOWN, 0, false, "not answering");

        /** @param managerTransport the elected cluster manager's transport address (host:port), null when unknown */
        public Health(Status status, int numberOfNodes, boolean clusterManager, String problem) {
            this(status, numberOfNodes, clusterManager, problem, null);
        }

        Health cutOff(String why) {
            return new Health(status, numberOfNodes, clusterManager, why, managerTransport);
        }

        public boolean reachable() {
            return status != Status.UNKNOWN;
        }

        /** The search health check: part of a search cluster with an elected cluster manager that counts it. */
        public boolean member() {
            return problem == null;
        }
    }

    private final Duration timeout;

    public SearchClient() {
        this(DEFAULT_TIMEOUT);
    }

    /** @param timeout limit for connecting and for each request; the probe makes three */
    public SearchClient(Duration timeout) {
        this.timeout = timeout;
    }

    /** The node of {@code node}: publish_address:elasticsearch.port. */
    /**
     * The node of {@code node}: publish_address:elasticsearch.port. A member whose cluster manager is another node
     * must also reach that manager's transport port from its own address: a node cut off from it keeps the manager
     * in its state until OpenSearch's leader checks give up (about 6.5 s here), and serves nothing meanwhile.
     */
    public Health health(NodeContext node) {
        Health h = health(baseUri(node.publishAddress(), node.settings().intValue("elasticsearch.port")));
        if (h.member() && !h.clusterManager() && h.managerTransport() != null
                && !reaches(node.publishAddress(), h.managerTransport(), timeout)) {
            return h.cutOff("cannot reach the cluster manager at " + h.managerTransport());
        }
        return h;
    }

    /** A TCP connection from {@code fromAddress} to {@code hostPort} opens within {@code limit}. */
    static boolean reaches(String fromAddress, String hostPort, Duration limit) {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            return true; // not an address we can judge: leave the verdict to the cluster state
        }
        String host = hostPort.substring(0, colon).replace("[", "").replace("]", "");
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(fromAddress, 0));
            socket.connect(new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1))),
                    (int) limit.toMillis());
            return true;
        } catch (IOException | IllegalArgumentException e) {
            return false;
        }
    }

    public Health health(URI base) {
        try {
            // local=true: answer from this node's own cluster state at once instead of waiting for a cluster
            // manager; a node without one reports red (its state carries the no-cluster-manager block).
            Http.Response h = get(base, "/_cluster/health?local=true");
            if (h.status() != 200) {
                return new Health(Status.RED, 0, false, "cluster health answered HTTP " + h.status());
            }
            String state = null;
            String local = null;
            try {
                // whether this node is counted by an elected cluster manager: its own view of the cluster state
                // (who manages it, which nodes it has) and its own node id. A node cut off from its cluster drops the
                // manager from its state within the fault-detection timeouts.
                Http.Response st = get(base, "/_cluster/state/cluster_manager_node,nodes?local=true"
                        + "&filter_path=cluster_manager_node,master_node,nodes.*.name,nodes.*.transport_address");
                if (st.status() == 200) {
                    state = st.text();
                    Http.Response nodes = get(base, "/_nodes/_local?filter_path=nodes.*.name");
                    local = nodes.status() == 200 ? nodes.text() : null;
                }
            } catch (IOException e) {
                state = null; // answered health but not these: judged below as "cluster state unavailable"
            }
            return parse(h.text(), state, local);
        } catch (IOException | IllegalArgumentException e) {
            return Health.UNREACHABLE;
        }
    }

    /** Pure part of the probe: the three answers (the last two may be null) to a Health. */
    static Health parse(String healthJson, String clusterStateJson, String localNodesJson) throws IOException {
        JsonNode h = JSON.readTree(healthJson);
        Status status = switch (h.path("status").asText("").toLowerCase(Locale.ROOT)) {
            case "green" -> Status.GREEN;
            case "yellow" -> Status.YELLOW;
            case "red" -> Status.RED;
            default -> Status.UNKNOWN;
        };
        int count = h.path("number_of_nodes").asInt(0);
        if (clusterStateJson == null || localNodesJson == null) {
            return new Health(status, count, false, "cluster state unavailable");
        }
        JsonNode state = JSON.readTree(clusterStateJson);
        // OpenSearch 2 names it cluster_manager_node; older versions master_node. Null or absent: none elected.
        JsonNode managerNode = state.has("cluster_manager_node") ? state.path("cluster_manager_node") : state.path("master_node");
        String managerId = managerNode.isTextual() ? managerNode.asText() : "";
        Set<String> localIds = new HashSet<>();
        JSON.readTree(localNodesJson).path("nodes").fieldNames().forEachRemaining(localIds::add);
        Set<String> members = new HashSet<>();
        state.path("nodes").fieldNames().forEachRemaining(members::add);
        boolean isManager = !managerId.isEmpty() && localIds.contains(managerId);
        String problem = null;
        if (managerId.isEmpty()) {
            problem = "no elected cluster manager";
        } else if (localIds.stream().noneMatch(members::contains)) {
            problem = "not counted by the cluster manager";
        }
        String managerTransport = managerId.isEmpty() ? null
                : state.path("nodes").path(managerId).path("transport_address").asText(null);
        return new Health(status, count, isManager, problem, managerTransport);
    }

    /**
     * Whether this node is a counted member of its search cluster and, once it has three nodes or more, in the
     * cluster-manager voting configuration: only then does losing any one node leave search its quorum. (OpenSearch
     * keeps that configuration odd-sized, so with an even number of nodes one of them cannot be in it; then it must
     * hold at least three.)
     */
    public boolean joined(NodeContext node) {
        URI base = baseUri(node.publishAddress(), node.settings().intValue("elasticsearch.port"));
        Health h = health(base);
        if (!h.member()) {
            return false;
        }
        if (h.numberOfNodes() < 3) {
            return true;
        }
        try {
            Http.Response config = get(base, "/_cluster/state/metadata?local=true"
                    + "&filter_path=metadata.cluster_coordination.last_committed_config");
            Http.Response local = get(base, "/_nodes/_local?filter_path=nodes.*.name");
            return config.status() == 200 && local.status() == 200
                    && votes(config.text(), local.text(), h.numberOfNodes());
        } catch (IOException e) {
            return false;
        }
    }

    /** Pure part of {@link #joined}: the committed voting configuration and this node's id, for {@code nodes} nodes. */
    static boolean votes(String configJson, String localNodesJson, int nodes) throws IOException {
        Set<String> voters = new HashSet<>();
        JSON.readTree(configJson).path("metadata").path("cluster_coordination").path("last_committed_config")
                .forEach(v -> voters.add(v.asText()));
        Set<String> localIds = new HashSet<>();
        JSON.readTree(localNodesJson).path("nodes").fieldNames().forEachRemaining(localIds::add);
        boolean self = localIds.stream().anyMatch(voters::contains);
        return nodes % 2 == 1 ? self : voters.size() >= 3;
    }

    /**
     * Keeps a removed node out of the cluster-manager voting configuration, so a 3-node search cluster that loses
     * a member keeps its quorum. True when the search cluster accepted it.
     */
    public boolean excludeFromVoting(NodeContext node, String nodeName) {
        return post(node, "/_cluster/voting_config_exclusions?node_names="
                + URLEncoder.encode(nodeName, StandardCharsets.UTF_8) + "&timeout=10s", "POST");
    }

    /** Lets excluded nodes vote again; a node that rejoins under a removed name needs it. */
    public boolean clearVotingExclusions(NodeContext node) {
        return post(node, "/_cluster/voting_config_exclusions?wait_for_removal=false", "DELETE");
    }

    private boolean post(NodeContext node, String path, String method) {
        URI base = baseUri(node.publishAddress(), node.settings().intValue("elasticsearch.port"));
        try {
            return Http.send(method, base.resolve(path).toString(), Map.of(), method.equals("POST") ? new byte[0] : null,
                    timeout, Duration.ofSeconds(15)).ok();
        } catch (IOException e) {
            return false;
        }
    }

    static URI baseUri(String address, int port) {
        return URI.create(Http.base(address, port));
    }

    private Http.Response get(URI base, String path) throws IOException {
        return Http.get(base.resolve(path).toString(), timeout, timeout);
    }
}
