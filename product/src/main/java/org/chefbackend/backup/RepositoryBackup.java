package org.chefbackend.backup;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.repository.PgBackRestFiles;
import org.chefbackend.tls.NodeCertificates.CertificateFiles;

/**
 * A base backup into the repository with pgBackRest. On a follower, as the documents want backups taken: pgBackRest's
 * backup from a standby, where the leader only starts and stops the backup (through its pgBackRest TLS server) and
 * this node copies the files. On the leader itself only when the operator insists (backup -f).
 */
public final class RepositoryBackup {
    public static final List<String> TYPES = List.of("full", "diff", "incr");

    private RepositoryBackup() {
    }

    /**
     * The leader as pgBackRest reaches it: its address and TLS port, and where its PostgreSQL is (its /status
     * "backup" section: paths differ when nodes share one machine).
     */
    public record Leader(String address, int tlsPort, String conf, String pgPath, String socketPath, int pgPort,
            String user) {
        /** From the leader agent's /status; empty when it has no "backup" section (no backup.repository there). */
        public static Optional<Leader> fromStatus(String address, JsonNode status) {
            JsonNode b = status.path("backup");
            if (!b.hasNonNull("pg_path") || !b.hasNonNull("tls_port")) {
                return Optional.empty();
            }
            return Optional.of(new Leader(address, b.path("tls_port").asInt(), b.path("pgbackrest_conf").asText(),
                    b.path("pg_path").asText(), b.path("pg_socket_path").asText(), b.path("pg_port").asInt(),
                    b.path("pg_user").asText()));
        }
    }

    /**
     * Takes a backup of {@code type} (full, diff, incr); {@code leader} empty: this node is the leader. pgBackRest
     * then expires what backup.retention_full no longer keeps.
     */
    public static void take(NodeContext node, Optional<Leader> leader, String type, Duration timeout,
            Consumer<String> lines) throws IOException {
        if (!TYPES.contains(type)) {
            throw new IllegalArgumentException("backup type " + type + " is not one of " + TYPES);
        }
        List<String> args = new ArrayList<>(List.of("--log-level-console=info", "--log-level-stderr=off"));
        leader.ifPresent(l -> args.addAll(standbyOptions(PgBackRestFiles.of(node).certificate(), l)));
        args.addAll(List.of("backup", "--type=" + type));
        PgBackRest.run(node, timeout, args, lines);
    }

    /** pg2 is the leader, reached through its TLS server with this node's pgBackRest certificate. */
    static List<String> standbyOptions(CertificateFiles mine, Leader l) {
        return List.of("--backup-standby", "--pg2-host=" + l.address(), "--pg2-host-type=tls",
                "--pg2-host-port=" + l.tlsPort(), "--pg2-host-ca-file=" + mine.caCertificate(),
                "--pg2-host-cert-file=" + mine.certificate(), "--pg2-host-key-file=" + mine.key(),
                "--pg2-host-config=" + l.conf(), "--pg2-path=" + l.pgPath(), "--pg2-socket-path=" + l.socketPath(),
                "--pg2-port=" + l.pgPort(), "--pg2-user=" + l.user());
    }
}
