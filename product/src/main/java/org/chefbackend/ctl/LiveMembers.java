package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.chefbackend.config.Settings;
import org.chefbackend.frontend.HaproxyConfig;

/** The backend members a frontend needs, from the live cluster (this node's agent's /cluster) when it answers. */
final class LiveMembers {
    private LiveMembers() {
    }

    /** Every member's name (its GUID, the etcd member name frontends see) and publish address; empty without a cluster. */
    static Optional<List<HaproxyConfig.Member>> fetch(NodeOptions node, Settings settings) {
        if (settings.optionalString("publish_address").isEmpty()) {
            return Optional.empty();
        }
        return new AgentClient(node.paths(), settings).get("/cluster").filter(r -> r.status() == 200).map(r -> {
            List<HaproxyConfig.Member> members = new ArrayList<>();
            for (JsonNode n : r.body().path("nodes")) {
                String guid = n.path("guid").asText("");
                members.add(new HaproxyConfig.Member(guid.isEmpty() ? n.path("name").asText() : guid,
                        n.path("ip").asText()));
            }
            return members;
        }).filter(l -> !l.isEmpty());
    }

    /** Without a live cluster: this node only, named as Chef Server names its static fallback list. */
    static List<HaproxyConfig.Member> fallback(String publishAddress) {
        return List.of(new HaproxyConfig.Member("backend0", publishAddress));
    }
}
