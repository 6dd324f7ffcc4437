package org.chefbackend.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.Supplier;
import org.chefbackend.agent.NodeContext;

/**
 * A kept session with this node's own PostgreSQL, for what the agent reads again and again (leaderl's facts every
 * second; the published status and /status): a login costs a SCRAM key derivation (4096 HMAC rounds), which every
 * second was most of an idle agent's CPU. Each use first checks it with a round trip, so a restarted or stopped
 * server is noticed in that same call, as a fresh login would be. One user at a time; leaderl has a session of its
 * own, so it never waits behind a status reader while PostgreSQL is slow.
 */
public final class LocalSession {
    /** What is done with the session; an exception from it also ends the session. */
    public interface Work<T> {
        T apply(Connection c) throws SQLException;
    }

    private final Supplier<NodeContext> node;
    private final int timeoutMs;
    private Connection session;

    /** @param timeoutMs bound on logging in, on the check and on each read */
    public LocalSession(Supplier<NodeContext> node, int timeoutMs) {
        this.node = node;
        this.timeoutMs = timeoutMs;
    }

    public synchronized <T> T use(Work<T> work) throws SQLException {
        if (session != null && !session.isValid(Math.max(1, (timeoutMs + 999) / 1000))) {
            close();
        }
        if (session == null) {
            session = PostgresAdmin.connect(node.get(), "postgres", timeoutMs);
        }
        try {
            return work.apply(session);
        } catch (SQLException | RuntimeException e) {
            close(); // a broken session is not kept; the next use logs in again
            throw e;
        }
    }

    public synchronized void close() {
        if (session != null) {
            try {
                session.close();
            } catch (SQLException e) {
                // already broken
            }
            session = null;
        }
    }
}
