package org.chefbackend.postgres;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
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
        // this node's own server: the traffic never leaves the machine, and a TLS handshake per connection (several
        // a second from the HA loop and health checks) was most of the agent's idle CPU and memory
        return connect(node, database, timeoutMs, node.secrets().dbSuperuserPassword(), "disable");
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

    /**
     * True when the server accepts a login now (false while it starts, recovers, shuts down or is absent), asked as
     * pg_isready does: a startup message, and an authentication request back means yes. No password is sent, so no
     * SCRAM key derivation (4096 HMAC rounds, most of an idle agent's CPU when it logged in every check).
     */
    public static boolean isAcceptingConnections(NodeContext node) {
        PostgresLayout layout = PostgresLayout.of(node);
        int timeoutMs = Math.max(1000, node.settings().intValue("leaderl.db_timeout"));
        return answersWithAuthenticationRequest(layout.address(), layout.port(),
                node.settings().string("postgresql.db_superuser"), timeoutMs);
    }

    static boolean answersWithAuthenticationRequest(String address, int port, String user, int timeoutMs) {
        byte[] params = ("user\0" + user + "\0database\0postgres\0application_name\0chef-backend-ping\0\0")
                .getBytes(StandardCharsets.UTF_8);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, port), timeoutMs);
            s.setSoTimeout(timeoutMs);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(8 + params.length);
            out.writeInt(196608); // protocol 3.0
            out.write(params);
            out.flush();
            // 'R': the server wants credentials, so it takes connections; 'E': it refused (starting up, shutting
            // down, too many clients, no pg_hba entry)
            DataInputStream in = new DataInputStream(s.getInputStream());
            int type = in.read();
            int length = in.readInt();
            // the whole message read, the close is a plain EOF, which the server does not log (unread bytes
            // would make it a reset: "could not receive data from client" at every check)
            in.readFully(new byte[Math.max(0, Math.min(length - 4, 8192))]);
            return type == 'R';
        } catch (IOException e) {
            return false;
        }
    }
}
