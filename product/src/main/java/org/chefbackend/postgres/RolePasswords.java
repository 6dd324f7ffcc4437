package org.chefbackend.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.config.Secrets;
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

    /** Ends the replication connections to this node, so followers connect again with what they hold now. */
    public static int reconnectReplication(NodeContext node) throws SQLException {
        try (Connection c = PostgresAdmin.connect(node, "postgres", 5000); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select count(pg_terminate_backend(pid)) from pg_stat_replication")) {
            rs.next();
            return rs.getInt(1);
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
