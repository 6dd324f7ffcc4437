package org.chefbackend.backup;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.chefbackend.agent.Change;
import org.chefbackend.agent.Launch;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceRecipe;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.postgres.PostgresLayout;
import org.chefbackend.repository.PgBackRestFiles;
import org.chefbackend.repository.PgBackRestSetup;

/**
 * pgBackRest's TLS server on publish_address:backup.tls_port, supervised like the other services when
 * backup.repository is set: the leader's is how a follower takes a base backup of it (pgBackRest's backup from a
 * standby: the leader starts and stops the backup, the follower copies the files). It accepts only clients whose
 * certificate the cluster CA issued with the pgBackRest common name; no SSH.
 */
public final class PgBackRestServerRecipe implements ServiceRecipe {
    public static final String NAME = "pgbackrest";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Change prepare(NodeContext node) throws IOException {
        PgBackRestFiles f = PgBackRestFiles.of(node);
        String before = readOrEmpty(f.conf()) + readOrEmpty(f.certificate().certificate());
        PgBackRestSetup.prepare(node, PostgresLayout.of(node).local(node.settings().string("postgresql.db_superuser"))).orElseThrow(() -> new ServiceSetupException(
                "backup.repository is not set; the pgBackRest server has nothing to serve"));
        // the server reads its certificate and configuration at start
        return before.equals(readOrEmpty(f.conf()) + readOrEmpty(f.certificate().certificate())) ? Change.NONE
                : Change.RESTART;
    }

    private static String readOrEmpty(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file) : "";
    }

    @Override
    public Launch launch(NodeContext node) {
        PgBackRestFiles f = PgBackRestFiles.of(node);
        return new Launch(List.of("/usr/bin/pgbackrest", "--config=" + f.conf(), "--log-level-console=warn",
                "--log-level-stderr=off", "server"), Map.of("LANG", "C.UTF-8"),
                node.settings().string("postgresql.username"), f.dir());
    }

    @Override
    public List<InetSocketAddress> listenAddresses(NodeContext node) {
        try {
            return List.of(new InetSocketAddress(InetAddress.getByName(node.publishAddress()),
                    node.settings().intValue("backup.tls_port")));
        } catch (UnknownHostException e) { // publish_address is validated as an IP literal: no lookup happens
            throw new ServiceSetupException("publish_address " + node.publishAddress() + " is not an IP address");
        }
    }

    @Override
    public String reloadSignal() {
        return "HUP";
    }
}
