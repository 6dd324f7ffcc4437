package org.chefbackend.repository;

import java.nio.file.Path;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.config.NodePaths;
import org.chefbackend.tls.NodeCertificates.CertificateFiles;
import org.chefbackend.tls.PgBackRestCertificate;

/**
 * Where this node's pgBackRest keeps what is its own: its configuration, PostgreSQL's archive_command script, its lock
 * and spool directories, its log and its certificate. All owned by the PostgreSQL user, which runs pgBackRest.
 */
public record PgBackRestFiles(Path dir, Path logDir, CertificateFiles certificate) {
    static final String DIR = "/var/opt/chef-backend/pgbackrest";

    public static PgBackRestFiles of(NodeContext node) {
        return new PgBackRestFiles(node.paths().resolve(DIR),
                node.paths().resolve("/var/log/chef-backend/pgbackrest"), PgBackRestCertificate.files(node));
    }

    /** Holds the repository's passphrase when it is encrypted: 0600. */
    public Path conf() {
        return dir.resolve("pgbackrest.conf");
    }

    /** PostgreSQL's archive_command. */
    public Path archiveScript() {
        return archiveScript(dir);
    }

    /** The archive script of the node with these paths (what postgresql.conf names, before anything is written). */
    public static Path archiveScript(NodePaths paths) {
        return archiveScript(paths.resolve(DIR));
    }

    private static Path archiveScript(Path dir) {
        return dir.resolve("archive-wal");
    }

    public Path lockDir() {
        return dir.resolve("lock");
    }

    public Path spoolDir() {
        return dir.resolve("spool");
    }

    /** Where the archive script puts the copy it fetches to see that a segment is in the repository. */
    public Path checkDir() {
        return dir.resolve("check");
    }
}
