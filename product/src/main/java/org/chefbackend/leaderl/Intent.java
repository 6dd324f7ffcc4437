package org.chefbackend.leaderl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import org.chefbackend.cluster.ClusterAgent;
import org.chefbackend.cluster.RecordRules;
import java.util.Locale;
import java.util.Objects;

/**
 * An operator's request, stored in etcd so it survives restarts; at most one at a time.
 *
 * @param kind what was asked
 * @param target the node it is about: the node to promote, the leader to demote, the node to force to lead
 * @param leaderWhenAsked the leader when the operator asked, null when there was none. A promote asked of a
 *     running leader is a switchover (the target waits for the old leader's final position); one asked when there
 *     was no leader is the recovery from {@code waiting_for_leader} (the target takes the key as it is)
 * @param drainedAtLsn for a handover (promote or demote while a leader exists): the old leader's final WAL
 *     position, published once it has stopped writes; {@link Facts#NO_POSITION} until then
 * @param timedOut older than {@code leaderl.control_worker_timeout_seconds} (judged by the shell): ignored by
 *     everyone and cleared by the leader, which resumes writes if it had stopped them for it
 */
public record Intent(Kind kind, String target, String leaderWhenAsked, long drainedAtLsn, boolean timedOut) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public enum Kind {
        PROMOTE, DEMOTE, FORCE_LEADER;

        public String jsonName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * How a request ended, decided by leaderl as it clears the request: carried out, refused (with the reason, as
     * soon as it is decided) or timed out. Recorded in etcd ({@link ClusterAgent#INTENT_OUTCOME}), so the command that asked (polling
     * {@code GET /cluster}) reports a refusal at once instead of waiting for its deadline.
     */
    public record Outcome(Result result, String reason) {
        public enum Result {
            DONE, REFUSED, TIMED_OUT;

            public String jsonName() {
                return name().toLowerCase(Locale.ROOT);
            }
        }

        public Outcome {
            Objects.requireNonNull(result, "result");
        }

        public static Outcome done() {
            return new Outcome(Result.DONE, null);
        }

        public static Outcome refused(String reason) {
            return new Outcome(Result.REFUSED, Objects.requireNonNull(reason, "reason"));
        }

        public static Outcome timedOut() {
            return new Outcome(Result.TIMED_OUT, null);
        }

        /**
         * The record of how the stored request {@code value} ended: its id, kind, target and asked_at as it said
         * them (none when it is unreadable), the outcome, its reason and when it was decided.
         */
        public String record(String value, long nowMillis) {
            ObjectNode r = JSON.createObjectNode();
            JsonNode asked = readObject(value);
            for (String field : new String[] {"id", "kind", "target", "asked_at"}) {
                if (asked != null && asked.has(field)) {
                    r.set(field, asked.get(field));
                }
            }
            r.put("outcome", result.jsonName());
            r.put("reason", reason);
            r.put("at", nowMillis);
            return r.toString();
        }
    }

    public Intent {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(target, "target");
    }

    /** What an operator may ask for, checked before anything is written: IllegalArgumentException says what is wrong. */
    public record Request(Kind kind, String target) {
        public static Request of(JsonNode body) {
            if (body == null || !body.isObject()) {
                throw new IllegalArgumentException("an intent must be a JSON object with kind and target");
            }
            return new Request(kindOf(body.path("kind")), targetOf(body.path("target")));
        }
    }

    /**
     * An operator's request as stored in etcd (anyone with etcd access may have written it); older than
     * {@code timeoutMillis} it counts as timed out. IllegalArgumentException says what makes it unreadable.
     */
    static Intent parse(String value, long nowMillis, long timeoutMillis) {
        JsonNode j = readObject(value);
        if (j == null) {
            throw new IllegalArgumentException("not a JSON object");
        }
        Request r = Request.of(j);
        String leaderWhenAsked = j.path("leader_when_asked").isTextual() ? j.path("leader_when_asked").asText() : null;
        boolean timedOut = nowMillis - askedAt(value) > timeoutMillis;
        return new Intent(r.kind(), r.target(), leaderWhenAsked, j.path("drained_at_lsn").asLong(-1), timedOut);
    }

    /** When an intent was asked (its {@code asked_at}), 0 when it does not say: then it is as old as can be. */
    static long askedAt(String value) {
        JsonNode j = readObject(value);
        return j != null && j.path("asked_at").isIntegralNumber() ? j.path("asked_at").asLong() : 0;
    }

    private static JsonNode readObject(String value) {
        try {
            JsonNode j = JSON.readTree(value);
            return j != null && j.isObject() ? j : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static Kind kindOf(JsonNode kind) {
        if (!kind.isTextual()) {
            throw new IllegalArgumentException("an intent needs a kind: promote, demote or force-leader");
        }
        String name = kind.asText().replace('-', '_').toUpperCase(Locale.ROOT);
        for (Kind k : Kind.values()) {
            if (k.name().equals(name)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown kind '" + kind.asText() + "': promote, demote or force-leader");
    }

    private static String targetOf(JsonNode target) {
        if (!target.isTextual() || !RecordRules.isNodeName(target.asText())) {
            throw new IllegalArgumentException("an intent's target must be a node name, got "
                    + (target.isMissingNode() ? "none" : target.toString()));
        }
        return target.asText();
    }

    /** {@code promote target}, asked while {@code leader} led (null: while nobody did). */
    public static Intent promote(String target, String leader) {
        return new Intent(Kind.PROMOTE, target, leader, Facts.NO_POSITION, false);
    }

    public static Intent demote(String leader) {
        return new Intent(Kind.DEMOTE, leader, leader, Facts.NO_POSITION, false);
    }

    public static Intent forceLeader(String target) {
        return new Intent(Kind.FORCE_LEADER, target, null, Facts.NO_POSITION, false);
    }

    public Intent drainedAt(long lsn) {
        return new Intent(kind, target, leaderWhenAsked, lsn, timedOut);
    }

    public Intent expired() {
        return new Intent(kind, target, leaderWhenAsked, drainedAtLsn, true);
    }

    public boolean drained() {
        return drainedAtLsn >= 0;
    }

    boolean names(String node) {
        return target.equals(node);
    }
}
