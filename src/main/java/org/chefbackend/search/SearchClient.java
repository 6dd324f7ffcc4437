package org.chefbackend.search;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
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
     */
    public record Health(Status status, int numberOfNodes, boolean clusterManager) {
        public static final Health UNREACHABLE = new Health(Status.UNKNOWN, 0, false);

        public boolean reachable() {
            return status != Status.UNKNOWN;
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
    public Health health(NodeContext node) {
        return health(baseUri(node.publishAddress(), node.settings().intValue("elasticsearch.port")));
    }

    public Health health(URI base) {
        try {
            // local=true: answer from this node's own cluster state at once instead of waiting for a cluster
            // manager; a node without one reports red (its state carries the no-cluster-manager block).
            Http.Response h = get(base, "/_cluster/health?local=true");
            if (h.status() != 200) {
                return new Health(Status.RED, 0, false);
            }
            String manager = null;
            String local = null;
            try {
                // who manages the cluster is secondary: a node that answers is up even when these time out (as
                // they may while its cluster has no manager, e.g. cut off by a partition)
                Http.Response state = get(base, "/_cluster/state/cluster_manager_node?local=true");
                if (state.status() == 200) {
                    manager = state.text();
                    Http.Response nodes = get(base, "/_nodes/_local?filter_path=nodes.*.name");
                    local = nodes.status() == 200 ? nodes.text() : null;
                }
            } catch (IOException e) {
                manager = null;
            }
            return parse(h.text(), manager, local);
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
        boolean isManager = false;
        if (clusterStateJson != null && localNodesJson != null) {
            JsonNode state = JSON.readTree(clusterStateJson);
            // OpenSearch 2 names it cluster_manager_node; older versions master_node.
            String managerId = state.path("cluster_manager_node").asText(state.path("master_node").asText(""));
            Set<String> localIds = new HashSet<>();
            JSON.readTree(localNodesJson).path("nodes").fieldNames().forEachRemaining(localIds::add);
            isManager = !managerId.isEmpty() && localIds.contains(managerId);
        }
        return new Health(status, h.path("number_of_nodes").asInt(0), isManager);
    }

    /**
     * Keeps a removed node out of the cluster-manager voting configuration, so a 3-node search cluster that loses
     * a member keeps its quorum. True when the search cluster accepted it.
     */
    public boolean excludeFromVoting(NodeContext node, String nodeName) {
        return post(node, "/_cluster/voting_config_exclusions?node_names="
                + java.net.URLEncoder.encode(nodeName, java.nio.charset.StandardCharsets.UTF_8) + "&timeout=10s", "POST");
    }

    /** Lets excluded nodes vote again; a node that rejoins under a removed name needs it. */
    public boolean clearVotingExclusions(NodeContext node) {
        return post(node, "/_cluster/voting_config_exclusions?wait_for_removal=false", "DELETE");
    }

    private boolean post(NodeContext node, String path, String method) {
        URI base = baseUri(node.publishAddress(), node.settings().intValue("elasticsearch.port"));
        try {
            return Http.send(method, base.resolve(path).toString(), java.util.Map.of(), method.equals("POST") ? new byte[0] : null,
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
