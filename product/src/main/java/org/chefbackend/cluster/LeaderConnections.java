package org.chefbackend.cluster;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.postgres.PeerTls;

/**
 * A superuser connection to another member's PostgreSQL (the leader's), over TLS checked as every connection between
 * nodes is ({@link PeerTls}: verify-full against the cluster CA, or only encrypted in a cluster without one).
 */
public final class LeaderConnections {
    private LeaderConnections() {
    }

    public static Connection open(NodeContext ctx, String address, int port) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", ctx.settings().string("postgresql.db_superuser"));
        p.setProperty("password", ctx.secrets().dbSuperuserPassword());
        try {
            PeerTls.ensure(ctx).addTo(p);
        } catch (IOException | RuntimeException e) { // the operator's ssl.certificate unreadable, a full disk
            throw new SQLException("cannot write the CA bundle PostgreSQL clients trust: " + e.getMessage(), "08000");
        }
        int seconds = (int) Math.max(1, (ctx.settings().integer("leaderl.db_timeout") + 999) / 1000);
        p.setProperty("connectTimeout", String.valueOf(seconds));
        p.setProperty("socketTimeout", String.valueOf(Math.max(10, seconds)));
        p.setProperty("ApplicationName", "chef-backend-agent");
        String host = address.contains(":") ? "[" + address + "]" : address;
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/postgres", p);
    }
}
