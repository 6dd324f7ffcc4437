package org.chefbackend.cluster;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import org.chefbackend.agent.NodeContext;

/** A superuser connection to another member's PostgreSQL (the leader's), over TLS as between backends. */
public final class LeaderConnections {
    private LeaderConnections() {
    }

    public static Connection open(NodeContext ctx, String address, int port) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", ctx.settings().string("postgresql.db_superuser"));
        p.setProperty("password", ctx.secrets().dbSuperuserPassword());
        p.setProperty("sslmode", "require");
        int seconds = (int) Math.max(1, (ctx.settings().integer("leaderl.db_timeout") + 999) / 1000);
        p.setProperty("connectTimeout", String.valueOf(seconds));
        p.setProperty("socketTimeout", String.valueOf(Math.max(10, seconds)));
        p.setProperty("ApplicationName", "chef-backend-agent");
        String host = address.contains(":") ? "[" + address + "]" : address;
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/postgres", p);
    }
}
