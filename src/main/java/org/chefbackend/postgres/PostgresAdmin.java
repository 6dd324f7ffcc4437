package org.chefbackend.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;
import org.chefbackend.agent.NodeContext;
import org.postgresql.Driver;

/**
 * Connections the agent makes to its own node's PostgreSQL: over TCP to publish_address (the same path, pg_hba
 * lines and TLS as frontends and peers use), as the superuser with the cluster's shared password.
 */
public final class PostgresAdmin {
    private static final Driver DRIVER = new Driver();

    private PostgresAdmin() {
    }

    /** A connection with leaderl.db_timeout as connect and socket timeout. */
    public static Connection connect(NodeContext node, String database) throws SQLException {
        return connect(node, database, node.settings().intValue("leaderl.db_timeout"));
    }

    /**
     * A connection to {@code database} on this node.
     *
     * @param timeoutMs bound on connecting and on each later read; pgjdbc counts whole seconds, so it is rounded up
     */
    public static Connection connect(NodeContext node, String database, int timeoutMs) throws SQLException {
        return connect(node, database, timeoutMs, node.secrets().dbSuperuserPassword(), "prefer");
    }

    static Connection connect(NodeContext node, String database, int timeoutMs, String password, String sslmode)
            throws SQLException {
        PostgresLayout layout = PostgresLayout.of(node);
        String seconds = String.valueOf(Math.max(1, (timeoutMs + 999) / 1000));
        Properties props = new Properties();
        props.setProperty("user", node.settings().string("postgresql.db_superuser"));
        props.setProperty("password", password);
        props.setProperty("sslmode", sslmode);
        props.setProperty("connectTimeout", seconds);
        props.setProperty("loginTimeout", seconds);
        props.setProperty("socketTimeout", seconds);
        props.setProperty("ApplicationName", "chef-backend");
        String host = layout.address().contains(":") ? "[" + layout.address() + "]" : layout.address();
        Connection c = DRIVER.connect("jdbc:postgresql://" + host + ":" + layout.port() + "/" + database, props);
        if (c == null) {
            throw new SQLException("pgjdbc did not accept the URL for " + host); // cannot happen for jdbc:postgresql:
        }
        return c;
    }

    /** True when the server accepts a login now (false while it starts, recovers, shuts down or is absent). */
    public static boolean isAcceptingConnections(NodeContext node) {
        try (Connection c = connect(node, "postgres")) {
            return c.isValid(Math.max(1, (node.settings().intValue("leaderl.db_timeout") + 999) / 1000));
        } catch (SQLException e) {
            return false;
        }
    }
}
