package org.chefbackend.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.config.Secrets;
import org.chefbackend.system.Poll;
import org.postgresql.PGConnection;

/**
 * The database side of rotate-secrets, on the leader: the superuser's and the replication role's passwords become
 * the next secrets' (the change replicates to every follower), and, once every node uses them, the walsenders are
 * ended so each follower's walreceiver connects again, now with the new password.
 */
public final class RolePasswords {
    private static final String BAD_PASSWORD = "28P01";

    private RolePasswords() {
    }

    /**
     * Sets both passwords on this node's PostgreSQL, which must be the primary. pgjdbc hashes them (SCRAM-SHA-256)
     * before they are sent, so neither the statement nor PostgreSQL's log holds a password. Idempotent: a run cut
     * short logs in with the next password once the current one is refused.
     */
    public static List<String> rotate(NodeContext node, Secrets next) throws SQLException {
        try (Connection c = superuser(node, next)) {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select pg_is_in_recovery()")) {
                rs.next();
                if (rs.getBoolean(1)) {
                    throw new SQLException("PostgreSQL on this node is a standby; passwords are changed on the leader");
                }
            }
            String superuser = node.settings().string("postgresql.db_superuser");
            String replication = node.settings().string("postgresql.replication_user");
            PGConnection pg = c.unwrap(PGConnection.class);
            pg.alterUserPassword(replication, next.replicationPassword().toCharArray(), "scram-sha-256");
            pg.alterUserPassword(superuser, next.dbSuperuserPassword().toCharArray(), "scram-sha-256");
            List<String> done = new ArrayList<>();
            done.add("PostgreSQL role " + replication + ": password changed");
            done.add("PostgreSQL role " + superuser + ": password changed");
            return done;
        }
    }

    /**
     * Ends the replication connections to this node one at a time, each follower streaming again (now logged in with
     * what it holds now: the new password) before the next is ended, so at most one follower is away at once. In
     * synchronous mode, commits wait while the synchronous standby reconnects (wal_retrieve_retry_interval, 5 s).
     * One line per follower: reconnected, or not within {@code perFollower}.
     */
    public static List<String> reconnectReplication(NodeContext node, Duration perFollower) throws SQLException {
        List<String> done = new ArrayList<>();
        try (Connection c = PostgresAdmin.connect(node, "postgres", 5000)) {
            List<String> followers = new ArrayList<>();
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("select application_name from pg_stat_replication")) {
                while (rs.next()) {
                    followers.add(rs.getString(1));
                }
            }
            for (String follower : followers) {
                Timestamp ended = end(c, follower);
                if (ended == null) {
                    continue; // gone meanwhile
                }
                boolean back = Poll.until(perFollower, Duration.ofMillis(200), () -> streamsSince(c, follower, ended));
                done.add("replication of " + follower + (back ? ": reconnected" : ": not streaming again within "
                        + perFollower.toSeconds() + " s (it retries on its own)"));
            }
        }
        return done;
    }

    /** Ends {@code follower}'s walsender; the server's time then, or null when it has none. */
    private static Timestamp end(Connection c, String follower) throws SQLException {
        try (PreparedStatement st = c.prepareStatement("select now(), pg_terminate_backend(pid) from"
                + " pg_stat_replication where application_name = ?")) {
            st.setString(1, follower);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? rs.getTimestamp(1) : null;
            }
        }
    }

    private static boolean streamsSince(Connection c, String follower, Timestamp since) {
        try (PreparedStatement st = c.prepareStatement("select 1 from pg_stat_replication where application_name = ?"
                + " and state = 'streaming' and backend_start > ?")) {
            st.setString(1, follower);
            st.setTimestamp(2, since);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            return false;
        }
    }

    private static Connection superuser(NodeContext node, Secrets next) throws SQLException {
        try {
            return PostgresAdmin.connect(node, "postgres", 5000);
        } catch (SQLException e) {
            if (!BAD_PASSWORD.equals(e.getSQLState())) {
                throw e;
            }
            return PostgresAdmin.connect(node, "postgres", 5000, next.dbSuperuserPassword(), "disable");
        }
    }
}
