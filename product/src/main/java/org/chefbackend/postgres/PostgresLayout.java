package org.chefbackend.postgres;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.repository.PgBackRestConf;

/**
 * Where one node's PostgreSQL lives and who runs it. Every node has its own socket directory: several nodes share
 * one machine on the same port, and Debian's /var/run/postgresql belongs to the distribution's own clusters.
 *
 * @param user operating-system user (postgresql.username)
 * @param dataDir the data directory (postgresql.data_dir under the node root)
 * @param socketDir unix_socket_directories
 * @param sslDir where generated certificates are kept (ssl.data_dir)
 * @param address listen_addresses, the node's publish_address
 * @param port the TCP port and the socket's suffix
 */
public record PostgresLayout(String user, Path dataDir, Path socketDir, Path sslDir, String address, int port) {
    /** The kernel's sun_path holds 108 bytes including the terminating NUL. */
    static final int MAX_SOCKET_PATH_BYTES = 107;

    public static PostgresLayout of(NodeContext node) {
        String address = node.publishAddress();
        if (address == null || address.isBlank()) {
            throw new ServiceSetupException("publish_address is not set in chef-backend.rb; PostgreSQL listens on it");
        }
        return new PostgresLayout(
                node.settings().string("postgresql.username"),
                node.path("postgresql.data_dir"),
                node.paths().resolve("/var/opt/chef-backend/postgresql/run"),
                node.path("ssl.data_dir"),
                address,
                node.settings().intValue("postgresql.port"));
    }

    /** This server as pgBackRest reaches it: over the socket, as the superuser the local peer line lets in. */
    public PgBackRestConf.LocalPostgres local(String superuser) {
        return new PgBackRestConf.LocalPostgres(dataDir.toString(), port, socketDir.toString(), superuser);
    }

    /** The socket file the server creates; psql -h socketDir reaches it. */
    public Path socketFile() {
        return socketDir.resolve(".s.PGSQL." + port);
    }

    public Path postgresqlConf() {
        return dataDir.resolve("postgresql.conf");
    }

    public Path hbaFile() {
        return dataDir.resolve("pg_hba.conf");
    }

    public Path serverCert() {
        return dataDir.resolve("server.crt");
    }

    public Path serverKey() {
        return dataDir.resolve("server.key");
    }

    /** Present once initdb (or a base backup) has made a cluster here. */
    public Path versionFile() {
        return dataDir.resolve("PG_VERSION");
    }

    /** PostgreSQL refuses a socket path that does not fit; say so before it does, naming the setting to change. */
    public void requireShortSocketPath() {
        int bytes = socketFile().toString().getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_SOCKET_PATH_BYTES) {
            throw new ServiceSetupException("PostgreSQL socket path " + socketFile() + " is " + bytes
                    + " bytes, more than the " + MAX_SOCKET_PATH_BYTES + " a unix socket allows; use a shorter node root");
        }
    }
}
