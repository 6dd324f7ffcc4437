package org.chefbackend.backup;

import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.repository.ArchiveGaps;
import org.chefbackend.repository.ArchiveListing;
import org.chefbackend.repository.ArchivedFile;
import org.chefbackend.repository.BackupInfo;
import org.chefbackend.repository.BackupListing;
import org.chefbackend.repository.RepositorySettings;
import org.chefbackend.repository.TimelineHistory;
import org.chefbackend.repository.WalFileName;

/**
 * What {@code backup-list} and {@code backup-check} read from the repository, through pgBackRest only (info, repo-ls,
 * repo-get), so the same code serves a directory today and object storage tomorrow.
 */
public final class RepositoryReport {
    static final Duration LIMIT = Duration.ofMinutes(5);
    static final String ARCHIVE = "archive/" + RepositorySettings.STANZA;

    private RepositoryReport() {
    }

    public static BackupInfo info(NodeContext node) throws IOException {
        return BackupInfo.parse(PgBackRest.output(node, LIMIT, List.of("info", "--output=json")));
    }

    public static ArchiveListing archive(NodeContext node) throws IOException {
        return ArchiveListing.parse(PgBackRest.output(node, LIMIT, List.of("repo-ls", "--output=json", "--recurse",
                ARCHIVE)));
    }

    /** backup-list's text: the backups, then the window a restore can reach. */
    public static String listing(NodeContext node) throws IOException {
        BackupInfo info = info(node);
        ArchiveListing archive = archive(node);
        Optional<ArchiveListing.Entry> newest = info.currentArchive()
                .flatMap(a -> archive.newestSegment(a.id()));
        return BackupListing.render(info, newest.map(e -> ArchivedFile.parse(e.name()).wal().segment()).orElse(null),
                newest.map(ArchiveListing.Entry::modified).orElse(null));
    }

    /**
     * backup-check: every segment recovery would need, from the oldest kept backup's first one to the newest archived
     * one, along the timelines' history. Empty when there is no backup to start from.
     */
    public static Optional<ArchiveGaps.Report> check(NodeContext node) throws IOException {
        BackupInfo info = info(node);
        Optional<BackupInfo.Backup> oldest = info.oldestValid();
        Optional<BackupInfo.ArchiveRange> current = info.currentArchive();
        if (oldest.isEmpty() || current.isEmpty()) {
            return Optional.empty();
        }
        String id = current.get().id();
        ArchiveListing archive = archive(node);
        List<String> names = archive.names(id);
        Map<Long, TimelineHistory> histories = new LinkedHashMap<>();
        for (String name : names) {
            if (ArchivedFile.matches(name) && ArchivedFile.parse(name).wal().kind() == WalFileName.Kind.HISTORY) {
                long timeline = ArchivedFile.parse(name).wal().timeline();
                String content = PgBackRest.output(node, LIMIT, List.of("repo-get", ARCHIVE + "/" + id + "/" + name));
                histories.put(timeline, TimelineHistory.parse(timeline, content));
            }
        }
        var end = archive.newestSegment(id).map(e -> ArchivedFile.parse(e.name()).wal().segment())
                .orElse(oldest.get().archiveStart());
        return Optional.of(ArchiveGaps.check(names, histories, oldest.get().archiveStart(), end));
    }
}
