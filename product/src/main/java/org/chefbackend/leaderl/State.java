package org.chefbackend.leaderl;

import java.util.Locale;

/** leaderl's states, as the original names them in logs, {@code status} and {@code cluster-status}. */
public enum State {
    /** Just started; nothing decided yet. */
    INITIALIZING,
    /** No leader to follow, and this node may not (or need not) take the key now. */
    WAITING_FOR_LEADER,
    /** Streaming (or getting ready to stream) from the key holder. */
    FOLLOWER,
    /** Holds the key; PostgreSQL is being promoted. The key is refreshed throughout. */
    PROMOTING,
    /** Holds the key; PostgreSQL is the writable primary. */
    LEADER,
    /** A former leader, fenced (no-start-pgsql); rejoins by rewind or base backup, never promotes itself. */
    DEPOSED_LEADER;

    /** The documented lower-case name ("waiting_for_leader"). */
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static State fromJsonName(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }

    @Override
    public String toString() {
        return jsonName();
    }
}
