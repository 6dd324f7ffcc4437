package org.chefbackend.repository;

import java.nio.file.Path;
import java.util.Optional;
import org.chefbackend.config.Settings;

/**
 * The backup.* options of chef-backend.rb: where the repository is, how often backups are taken and how many kept.
 * Present only when {@code backup.repository} is set; without it nothing is archived, as in the documents.
 *
 * @param directory the repository, exactly as written (all nodes share it; it is not under the node root)
 * @param archiveTimeoutSeconds postgresql.conf archive_timeout: the recovery point of a disaster that takes every node
 */
public record RepositorySettings(Path directory, long archiveTimeoutSeconds, long fullEveryHours, long diffEveryHours,
        long retentionFull, boolean encrypted, long queueMaxMb, int tlsPort) {
    /** The one stanza of a repository: a repository belongs to one cluster. */
    public static final String STANZA = "chef-backend";

    public static Optional<RepositorySettings> of(Settings s) {
        return s.optionalString("backup.repository").map(dir -> new RepositorySettings(Path.of(dir),
                s.integer("backup.archive_timeout"), s.integer("backup.full_every_hours"),
                s.integer("backup.diff_every_hours"), s.integer("backup.retention_full"), s.bool("backup.encryption"),
                s.integer("backup.archive_queue_max_mb"), s.intValue("backup.tls_port")));
    }

    /** The same options with another repository directory (restore --repository DIR reads another one). */
    public RepositorySettings withDirectory(Path other) {
        return new RepositorySettings(other, archiveTimeoutSeconds, fullEveryHours, diffEveryHours, retentionFull,
                encrypted, queueMaxMb, tlsPort);
    }
}
