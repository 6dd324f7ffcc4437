package org.chefbackend.repository;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceUsers;
import org.chefbackend.tls.PgBackRestCertificate;

/**
 * Makes this node's pgBackRest files from chef-backend.rb: directories, certificate, pgbackrest.conf and the archive
 * script, all owned by the PostgreSQL user. Idempotent; run before PostgreSQL and the TLS server start.
 */
public final class PgBackRestSetup {
    private PgBackRestSetup() {
    }

    /** Empty when backup.repository is not set (nothing is archived). */
    public static Optional<PgBackRestFiles> prepare(NodeContext node, PgBackRestConf.LocalPostgres pg) throws IOException {
        Optional<RepositorySettings> configured = RepositorySettings.of(node.settings());
        if (configured.isEmpty()) {
            return Optional.empty();
        }
        RepositorySettings r = configured.get();
        PgBackRestFiles f = PgBackRestFiles.of(node);
        String user = node.settings().string("postgresql.username");
        ServiceUsers.ensureUser(user);
        for (Path dir : new Path[] {f.dir(), f.lockDir(), f.spoolDir(), f.checkDir(), f.logDir()}) {
            ServiceUsers.ownedDirectory(dir, user, "rwx------");
        }
        adoptEmptyRepository(r.directory(), user);
        boolean tls = PgBackRestCertificate.ensure(node, user).isPresent();
        ServiceUsers.writeOwned(f.conf(), conf(node, r, f, pg, tls).getBytes(StandardCharsets.UTF_8), user, "rw-------");
        ServiceUsers.writeOwned(f.archiveScript(), ArchiveScript.render(f, r.queueMaxMb())
                .getBytes(StandardCharsets.UTF_8), user, "rwx------");
        return Optional.of(f);
    }

    static String conf(NodeContext node, RepositorySettings r, PgBackRestFiles f, PgBackRestConf.LocalPostgres pg,
            boolean tls) {
        return PgBackRestConf.render(r, f, pg, tls ? node.publishAddress() : null, node.secrets().repositoryCipherPass());
    }

    /**
     * An empty repository directory the operator made as root is given to the PostgreSQL user; a missing one is not
     * made (an unmounted share would fill the local disk instead) and one holding data is left as it is.
     */
    static void adoptEmptyRepository(Path dir, String user) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            if (entries.findAny().isEmpty() && Files.getOwner(dir).getName().equals("root")) {
                ServiceUsers.chown(dir, user);
            }
        }
    }
}
