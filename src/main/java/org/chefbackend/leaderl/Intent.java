package org.chefbackend.leaderl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Locale;
import java.util.Objects;

/**
 * An operator's request, stored in etcd so it survives restarts; at most one at a time.
 *
 * @param kind what was asked
 * @param target the node it is about: the node to promote, the leader to demote, the node to force to lead
 * @param leaderWhenAsked the leader when the operator asked, null when there was none. A promote asked of a
 *     running leader is a switchover (the target waits for the old leader's final position); one asked when there
 *     was no leader is seed 004's recovery from {@code waiting_for_leader} (the target takes the key as it is)
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

    public Intent {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(target, "target");
    }

    /** An operator's request as stored in etcd; older than {@code timeoutMillis} it counts as timed out. */
    static Intent parse(String value, long nowMillis, long timeoutMillis) {
        JsonNode j;
        try {
            j = JSON.readTree(value);
        } catch (IOException e) {
            j = JSON.createObjectNode();
        }
        Kind kind = Kind.valueOf(j.path("kind").asText("promote").toUpperCase(Locale.ROOT));
        String leaderWhenAsked = j.path("leader_when_asked").isNull() ? null : j.path("leader_when_asked").asText(null);
        boolean timedOut = nowMillis - j.path("asked_at").asLong() > timeoutMillis;
        return new Intent(kind, j.path("target").asText(), leaderWhenAsked, j.path("drained_at_lsn").asLong(-1), timedOut);
    }

    /** When an intent was asked (its {@code asked_at}), 0 when it does not say. */
    static long askedAt(String value) {
        return 0;
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
