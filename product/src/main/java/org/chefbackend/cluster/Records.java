package org.chefbackend.cluster;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.chefbackend.agent.NodeState;
import org.chefbackend.config.NodePaths;
import org.chefbackend.system.CtlCommand;

/**
 * The JSON documents the cluster keeps in etcd (docs/DESIGN.md, "etcd layout"), one record type each, and what a
 * valid one is: each type's {@code validate()}, from the field rules of {@link RecordRules}. {@link #parse} refuses
 * a record that breaks them and {@link #json} will not write one, so a reader never acts on what a writer of this
 * product would not have written.
 */
public final class Records {
    static final ObjectMapper JSON = strictMapper();
    /** Far above any record this product writes; a larger value is refused before it is parsed. */
    static final int MAX_CHARS = 256 * 1024;
    /** Replicas a status lists: a leader has one per follower, and a few base backups at most. */
    public static final int MAX_REPLICAS = 64;
    private static final Set<String> REJOIN_PATHS = Set.of("rewind", "none", "basebackup");

    private Records() {
    }

    /** A record that breaks a rule of its type, or is no record at all; the message says which field and why. */
    public static final class Invalid extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        public Invalid(String why) {
            super(why);
        }
    }

    /** A record type that knows its rules. */
    public interface Checked {
        /** @throws Invalid naming the first field that breaks a rule */
        void validate();
    }

    /** A record kept under a key ending in its name ({@code members/<name>}, {@code nodes/<name>}). */
    public interface Named extends Checked {
        String name();
    }

    /** {@code members/<name>}: who belongs to the cluster and how to reach it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Member(String name, String guid, String address, int pgPort, int httpPort, int esPort, String slot,
            long joinedAt) implements Named {
        @Override
        public void validate() {
            RecordRules.nodeName("name", name);
            RecordRules.guid("guid", guid);
            RecordRules.ipLiteral("address", address);
            RecordRules.port("pgPort", pgPort);
            RecordRules.port("httpPort", httpPort);
            RecordRules.port("esPort", esPort);
            RecordRules.slot("slot", slot);
            RecordRules.atLeast("joinedAt", joinedAt, 0);
        }
    }

    /** {@code leader}: the node whose PostgreSQL takes writes; bound to its lease. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Leader(String name, String guid, String address, int pgPort, long since) implements Checked {
        @Override
        public void validate() {
            RecordRules.nodeName("name", name);
            RecordRules.guid("guid", guid);
            RecordRules.ipLiteral("address", address);
            RecordRules.port("pgPort", pgPort);
            RecordRules.atLeast("since", since, 0);
        }

        /**
         * A leader is a member, at that member's recorded address and with its GUID: a record naming another address
         * (or a node that is no member) is never followed nor connected to. (Its port is not compared: a joiner's
         * member record carries the port of the leader that admitted it, and followers use the member record's.)
         */
        public void checkAgainst(Map<String, Member> members) {
            Member m = members.get(name);
            if (m == null) {
                throw new Invalid("name " + RecordRules.quoted(name) + " is not a member");
            }
            if (!m.address().equals(address)) {
                throw new Invalid("address " + address + " is not member " + name + "'s recorded " + m.address());
            }
            if (!m.guid().equals(guid)) {
                throw new Invalid("guid " + guid + " is not member " + name + "'s recorded " + m.guid());
            }
        }
    }

    /**
     * {@code history}: the last leader's name and its last recorded WAL position and timeline. {@code lsn} and
     * {@code timeline} are boxed so that a record without them is refused, never read as position 0.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record History(String leader, Long lsn, Long timeline, long at) implements Checked {
        @Override
        public void validate() {
            RecordRules.nodeName("leader", leader);
            RecordRules.atLeast("lsn", required("lsn", lsn), 0);
            RecordRules.atLeast("timeline", required("timeline", timeline), 0);
            RecordRules.atLeast("at", at, 0);
        }
    }

    /** {@code sync}: the standby the leader recorded as synchronous; null: no node may be elected automatically. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Sync(String standby, String leader, long at) implements Checked {
        @Override
        public void validate() {
            if (standby != null) {
                RecordRules.nodeName("standby", standby);
            }
            RecordRules.nodeName("leader", leader);
            RecordRules.atLeast("at", at, 0);
        }
    }

    /**
     * {@code nodes/<name>}: what a node last published about itself; {@code ineligibleReason} says why it may not
     * run for leader (null when it may).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record NodeStatus(String name, String guid, String address, String role, Pgsql pgsql, Search elasticsearch,
            List<Replica> replicas, boolean partiallySynced, boolean eligibleForLeader, boolean failoverEnabled,
            long updatedAt, String ineligibleReason) implements Named {
        /**
         * The same status as the node's agent stops: its last word, so "stopped" (the others see it so until the
         * node starts again), no longer eligible, saying so.
         */
        public NodeStatus stopped(long at) {
            return new NodeStatus(name, guid, address, ClusterView.STOPPED, pgsql, elasticsearch, replicas,
                    partiallySynced, false, failoverEnabled, at, "the node agent was stopped (" + CtlCommand.elsewhere("stop") + ")");
        }

        @Override
        public void validate() {
            RecordRules.nodeName("name", name);
            RecordRules.guid("guid", guid);
            RecordRules.ipLiteral("address", address);
            RecordRules.state("role", role);
            required("pgsql", pgsql).validate();
            if (elasticsearch != null) {
                elasticsearch.validate();
            }
            if (replicas != null) {
                if (replicas.size() > MAX_REPLICAS) {
                    throw new Invalid("replicas lists " + replicas.size() + ", over " + MAX_REPLICAS);
                }
                replicas.forEach(r -> required("replicas[]", r).validate());
            }
            RecordRules.atLeast("updatedAt", updatedAt, 0);
            RecordRules.text("ineligibleReason", ineligibleReason, RecordRules.MAX_TEXT);
        }
    }

    /** A node's PostgreSQL as it sees it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Pgsql(boolean accepting, boolean inRecovery, String lsn, String following, String receiver,
            long timeline, Rejoin rejoin) implements Checked {
        public Pgsql(boolean accepting, boolean inRecovery, String lsn, String following, String receiver,
                long timeline) {
            this(accepting, inRecovery, lsn, following, receiver, timeline, null);
        }

        @Override
        public void validate() {
            if (lsn != null) {
                RecordRules.lsn("pgsql.lsn", lsn);
            }
            if (following != null) {
                RecordRules.ipLiteral("pgsql.following", following);
            }
            RecordRules.text("pgsql.receiver", receiver, RecordRules.MAX_WORD);
            RecordRules.atLeast("pgsql.timeline", timeline, 0);
            if (rejoin != null) {
                rejoin.validate();
            }
        }
    }

    /**
     * How a node last rejoined a new leader ({@code leaderl/last-rejoin.json}, published with its status):
     * {@code path} is "rewind" (pg_rewind undid what it wrote after the fork), "none" (its WAL ended at or before the
     * fork: it followed as it was) or "basebackup" (a full copy); {@code seconds} from the start of the rejoin until it
     * streamed from {@code leader}.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Rejoin(String leader, String path, double seconds, long at) implements Checked {
        /** The node's record under {@code paths}, null while there is none, it is caught mid-write, or invalid. */
        public static Rejoin read(NodePaths paths) {
            try {
                return parse(Files.readString(NodeState.lastRejoin(paths)), Rejoin.class);
            } catch (IOException | Invalid e) {
                return null;
            }
        }

        @Override
        public void validate() {
            RecordRules.nodeName("rejoin.leader", leader);
            if (!REJOIN_PATHS.contains(RecordRules.required("rejoin.path", path))) {
                throw new Invalid("rejoin.path " + RecordRules.quoted(path) + " is not one of " + REJOIN_PATHS);
            }
            if (!(seconds >= 0) || Double.isInfinite(seconds)) {
                throw new Invalid("rejoin.seconds " + seconds + " is not a duration");
            }
            RecordRules.atLeast("rejoin.at", at, 0);
        }
    }

    /**
     * A node's search engine as it sees itself; {@code problem} is why it is not a counted member of a search
     * cluster with an elected cluster manager (null when it is: healthy).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Search(boolean reachable, boolean clusterManager, String status, int nodes, String problem)
            implements Checked {
        public boolean healthy() {
            return reachable && problem == null;
        }

        @Override
        public void validate() {
            RecordRules.text("elasticsearch.status", status, RecordRules.MAX_WORD);
            RecordRules.atLeast("elasticsearch.nodes", nodes, 0);
            RecordRules.text("elasticsearch.problem", problem, RecordRules.MAX_TEXT);
        }
    }

    /** A follower as the leader's pg_stat_replication sees it; {@code bytesBehind} -1 when unknown. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Replica(String name, String slot, String state, String syncState, long bytesBehind)
            implements Checked {
        @Override
        public void validate() {
            RecordRules.text("replicas[].name", name, 253);
            RecordRules.text("replicas[].slot", slot, 63);
            RecordRules.text("replicas[].state", state, RecordRules.MAX_WORD);
            RecordRules.text("replicas[].syncState", syncState, RecordRules.MAX_WORD);
            RecordRules.atLeast("replicas[].bytesBehind", bytesBehind, -1);
        }
    }

    /** The record as JSON; a {@link Checked} one only when valid (else {@link Invalid}: nothing is written). */
    public static String json(Object record) {
        if (record instanceof Checked c) {
            c.validate();
        }
        try {
            return JSON.writeValueAsString(record);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The record {@code json} holds; {@link Invalid} when it is not one, or a {@link Checked} one breaks a rule. */
    public static <T> T parse(String json, Class<T> type) {
        String kind = type.getSimpleName();
        if (json.length() > MAX_CHARS) {
            throw new Invalid(kind + " record of " + json.length() + " characters, over " + MAX_CHARS);
        }
        T record;
        try {
            record = JSON.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new Invalid("not a " + kind + " record: " + RecordRules.oneLine(e.getOriginalMessage(), 200));
        }
        if (record == null) {
            throw new Invalid("not a " + kind + " record: null");
        }
        if (record instanceof Checked c) {
            c.validate();
        }
        return record;
    }

    private static <T> T required(String field, T value) {
        if (value == null) {
            throw new Invalid(field + " is missing");
        }
        return value;
    }

    /**
     * Strict where Jackson is lenient: a number where text belongs (or text where a number does), a fraction for an
     * integer, a missing or null number or flag, a repeated field or anything after the record makes it unreadable,
     * not quietly something else. (A primitive field added later must therefore come with a default for older
     * records, or be boxed.)
     */
    private static ObjectMapper strictMapper() {
        ObjectMapper m = JsonMapper.builder()
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build();
        m.coercionConfigFor(LogicalType.Textual).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        m.coercionConfigFor(LogicalType.Integer).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        m.coercionConfigFor(LogicalType.Float).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        m.coercionConfigFor(LogicalType.Boolean).setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
        return m;
    }
}
