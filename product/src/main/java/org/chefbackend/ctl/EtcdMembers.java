package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.cluster.ClusterAgent;
import org.chefbackend.dcs.DcsException;
import org.chefbackend.dcs.EtcdAuthSetup;
import org.chefbackend.etcd.EtcdAccess;
import org.chefbackend.etcd.EtcdRecipe;
import org.chefbackend.system.Http;
import org.chefbackend.system.OperatorException;

/**
 * What {@code secure-cluster} changes in etcd itself, through this node's etcd: a member's peer URL to https before
 * that member restarts with peer TLS, and auth at the end. Before auth is on, etcd takes these unauthenticated.
 */
final class EtcdMembers {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private final NodeContext node;
    private final String clientUrl;
    private final int peerPort;

    EtcdMembers(NodeContext node) {
        this.node = node;
        // plain http: served until the closed step, auth off until the end
        this.clientUrl = EtcdRecipe.plainClientUrl(node);
        this.peerPort = node.settings().intValue("etcd.peer_port");
    }

    /**
     * etcd's auth on, as {@code create-cluster} leaves a new cluster (users root and chef-backend, v2 guest revoked):
     * once every member serves https and every client has credentials. What it did, line by line.
     */
    List<String> enableAuth() {
        EtcdAccess access = EtcdAccess.of(node);
        try {
            return EtcdAuthSetup.ensure(EtcdRecipe.clientUrl(node), access.tls(), access.root(),
                    access.clusterUser(), ClusterAgent.PREFIX, TIMEOUT);
        } catch (DcsException e) {
            throw OperatorException.failure("cannot turn etcd's auth on: " + e.getMessage());
        }
    }

    /** The member at {@code address} is reached by its peers over https from now on (a no-op when it already is). */
    void usePeerTls(String address) {
        String https = Http.base("https", address, peerPort);
        try {
            Http.Response list = Http.get(clientUrl + "/v2/members", TIMEOUT, TIMEOUT);
            for (JsonNode m : JSON.readTree(list.body()).path("members")) {
                String peer = m.path("peerURLs").path(0).asText();
                if (!URI.create(peer).getHost().equals(address)) {
                    continue;
                }
                if (peer.equals(https)) {
                    return;
                }
                byte[] body = JSON.writeValueAsBytes(Map.of("peerURLs", List.of(https)));
                Http.Response r = Http.send("PUT", clientUrl + "/v2/members/" + m.path("id").asText(),
                        Map.of("Content-Type", "application/json"), body, TIMEOUT, TIMEOUT);
                if (r.status() / 100 != 2) {
                    throw OperatorException.failure("etcd refused to change " + address + "'s peer URL to " + https
                            + ": HTTP " + r.status());
                }
                return;
            }
            throw OperatorException.failure("etcd has no member at " + address);
        } catch (IOException e) {
            throw OperatorException.failure("cannot reach etcd at " + clientUrl + ": " + e.getMessage());
        }
    }
}
