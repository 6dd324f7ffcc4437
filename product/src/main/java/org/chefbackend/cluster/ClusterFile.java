package org.chefbackend.cluster;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import org.chefbackend.agent.NodeState;
import org.chefbackend.config.NodePaths;

/**
 * A node's record of its cluster membership ({@code leaderl/data/cluster.json}), written by create-cluster and
 * join-cluster before the agent starts, and advanced by the agent as it carries the intent out.
 *
 * @param state {@code creating} (bootstrap this node as the first member and leader), {@code joining} (sync from
 *     the leader named here), or {@code member}
 * @param peer the member join-cluster asked (its address), for joining nodes
 * @param leaderAddress the leader's publish address at join time (the PostgreSQL base backup source)
 * @param leaderPgPort its PostgreSQL port
 * @param slot this node's replication slot on the leader
 * @param since epoch ms of the last state change
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record ClusterFile(String state, String peer, String leaderAddress, Integer leaderPgPort, String slot, long since) {
    public static final String CREATING = "creating";
    public static final String JOINING = "joining";
    public static final String MEMBER = "member";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static ClusterFile creating() {
        return new ClusterFile(CREATING, null, null, null, null, System.currentTimeMillis());
    }

    public static ClusterFile joining(String peer, String leaderAddress, int leaderPgPort, String slot) {
        return new ClusterFile(JOINING, peer, leaderAddress, leaderPgPort, slot, System.currentTimeMillis());
    }

    public ClusterFile asMember() {
        return new ClusterFile(MEMBER, peer, leaderAddress, leaderPgPort, slot, System.currentTimeMillis());
    }

    public static Optional<ClusterFile> read(NodePaths paths) {
        Path file = NodeState.clusterFile(paths);
        try {
            if (!Files.exists(file) || Files.size(file) == 0) {
                return Optional.empty();
            }
            ClusterFile c = JSON.readValue(file.toFile(), ClusterFile.class);
            return Optional.ofNullable(c).filter(x -> x.state() != null);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public void write(NodePaths paths) throws IOException {
        Path file = NodeState.clusterFile(paths);
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling("cluster.json.tmp");
        JSON.writeValue(tmp.toFile(), this);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
