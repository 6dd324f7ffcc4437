package org.chefbackend.cluster;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import org.chefbackend.agent.NodeState;
import org.chefbackend.config.NodePaths;

/** The JSON documents the cluster keeps in etcd (docs/DESIGN.md, "etcd layout"), one record type each. */
public final class Records {
    static final ObjectMapper JSON = new ObjectMapper();

    private Records() {
    }

    /** {@code members/<name>}: who belongs to the cluster and how to reach it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Member(String name, String guid, String address, int pgPort, int httpPort, int esPort, String slot,
            long joinedAt) {
    }

    /** {@code leader}: the node whose PostgreSQL takes writes; bound to its lease. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Leader(String name, String guid, String address, int pgPort, long since) {
    }

    /**
     * {@code nodes/<name>}: what a node last published about itself; {@code ineligibleReason} says why it may not
     * run for leader (null when it may).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record NodeStatus(String name, String guid, String address, String role, Pgsql pgsql, Search elasticsearch,
            List<Replica> replicas, boolean partiallySynced, boolean eligibleForLeader, boolean failoverEnabled,
            long updatedAt, String ineligibleReason) {
        /** The same status as the node's agent stops: no longer eligible, saying so. */
        public NodeStatus stopping(long at) {
            return new NodeStatus(name, guid, address, "stopping", pgsql, elasticsearch, replicas, partiallySynced, false,
                    failoverEnabled, at, "the node agent is stopping (chef-backend-ctl stop)");
        }
    }

    /** A node's PostgreSQL as it sees it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Pgsql(boolean accepting, boolean inRecovery, String lsn, String following, String receiver,
            long timeline, Rejoin rejoin) {
        public Pgsql(boolean accepting, boolean inRecovery, String lsn, String following, String receiver,
                long timeline) {
            this(accepting, inRecovery, lsn, following, receiver, timeline, null);
        }
    }

    /**
     * How a node last rejoined a new leader ({@code leaderl/last-rejoin.json}, published with its status):
     * {@code path} is "rewind" (pg_rewind undid what it wrote after the fork), "none" (its WAL ended at or before the
     * fork: it followed as it was) or "basebackup" (a full copy); {@code seconds} from the start of the rejoin until it
     * streamed from {@code leader}.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Rejoin(String leader, String path, double seconds, long at) {
        /** The node's record under {@code paths}, null while there is none (or it is caught mid-write). */
        public static Rejoin read(NodePaths paths) {
            try {
                return parse(Files.readString(NodeState.lastRejoin(paths)), Rejoin.class);
            } catch (IOException | IllegalStateException e) {
                return null;
            }
        }
    }

    /**
     * A node's search engine as it sees itself; {@code problem} is why it is not a counted member of a search
     * cluster with an elected cluster manager (null when it is: healthy).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Search(boolean reachable, boolean clusterManager, String status, int nodes, String problem) {
        public boolean healthy() {
            return reachable && problem == null;
        }
    }

    /** A follower as the leader's pg_stat_replication sees it. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Replica(String name, String slot, String state, String syncState, long bytesBehind) {
    }

    public static String json(Object record) {
        try {
            return JSON.writeValueAsString(record);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static <T> T parse(String json, Class<T> type) {
        try {
            return JSON.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("unreadable " + type.getSimpleName() + " record: " + e.getOriginalMessage());
        }
    }
}
