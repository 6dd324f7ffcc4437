package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;
import org.chefbackend.system.OperatorException;
import org.chefbackend.system.Poll;

/** The cluster's members as this node's agent knows them, each with a client of its agent, and the leader's name. */
record ClusterMembers(List<Member> members, Optional<String> leader) {
    /** A member as a command reaches it: its name, its address, and its agent. */
    record Member(String name, String address, AgentClient agent) {
    }

    /** From this node's agent ({@code GET /cluster}); an operator error when it does not know the cluster. */
    static ClusterMembers of(AgentClient local, Settings settings, NodePaths paths) {
        JsonNode cluster = local.get("/cluster").filter(r -> r.status() == 200).map(AgentClient.Response::body)
                .orElseThrow(() -> OperatorException.failure("this node's agent does not know the cluster"));
        List<Member> out = new ArrayList<>();
        for (JsonNode n : cluster.path("nodes")) {
            out.add(new Member(n.path("name").asText(), n.path("ip").asText(),
                    new AgentClient(n.path("ip").asText(), settings.intValue("leaderl.http_port"), paths)));
        }
        JsonNode leader = cluster.path("cluster").path("leader");
        return new ClusterMembers(out, leader.isTextual() ? Optional.of(leader.asText()) : Optional.empty());
    }

    /**
     * Waits until there is a leader and every other node is a synced follower again (after a node's etcd restarted);
     * an operator error naming what is missing after {@code limit}.
     */
    static void awaitSettled(AgentClient local, int size, Duration limit, String after, String rerun) {
        List<String> missing = new ArrayList<>();
        boolean settled = Poll.until(limit, Duration.ofMillis(500), () -> {
            missing.clear();
            JsonNode c = local.get("/cluster").filter(r -> r.status() == 200).map(AgentClient.Response::body)
                    .orElse(null);
            if (c == null) {
                missing.add("this node's agent cannot show the cluster (GET /cluster)");
                return false;
            }
            if (c.path("cluster").path("leader").isNull()) {
                missing.add("no leader");
                return false;
            }
            for (JsonNode n : c.path("nodes")) {
                String role = n.path("role").asText();
                if (!role.equals("leader") && !(role.equals("follower")
                        && n.path("pgsql").path("role").asText().equals("synced"))) {
                    missing.add(n.path("name").asText() + " is " + role);
                }
            }
            return missing.isEmpty() && c.path("nodes").size() == size;
        });
        if (!settled) {
            throw OperatorException.failure("the cluster did not settle within " + limit.toSeconds() + " s after "
                    + after + ": " + String.join(", ", missing) + "; run " + rerun + " again once it has");
        }
    }

    Optional<Member> named(String name) {
        return members.stream().filter(m -> m.name().equals(name)).findFirst();
    }
}
