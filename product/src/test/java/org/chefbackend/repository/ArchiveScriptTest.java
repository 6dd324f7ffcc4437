package org.chefbackend.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.chefbackend.tls.NodeCertificates.CertificateFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The archive script run by sh on a follower, with a stand-in for pgBackRest whose repository holds given names. */
class ArchiveScriptTest {
    @TempDir
    Path dir;

    /** Runs the follower branch for {@code segment} against a repository holding {@code held}; the exit code. */
    int followerArchives(String segment, String held) throws IOException, InterruptedException {
        Path fake = dir.resolve("fake-pgbackrest");
        // archive-get NAME DEST succeeds only for the name the repository holds
        Files.writeString(fake, "#!/bin/sh\nfor a; do last2=$last1; last1=$a; done\n"
                + "[ \"$last2\" = '" + held + "' ] && : > \"$last1\"\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
        Path data = Files.createDirectories(dir.resolve("data/pg_wal"));
        Files.createFile(data.resolveSibling("standby.signal"));
        Path script = dir.resolve("archive-wal");
        PgBackRestFiles files = new PgBackRestFiles(Files.createDirectories(dir.resolve("pgbackrest")), dir.resolve("log"),
                new CertificateFiles(dir.resolve("ssl")));
        Files.createDirectories(files.checkDir());
        Files.writeString(script, ArchiveScript.render(files, 4096, fake.toString()));
        Process p = new ProcessBuilder("/bin/sh", script.toString(), "pg_wal/" + segment, segment)
                .directory(data.getParent().toFile()).redirectErrorStream(true).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("the archive script did not end within 30 s");
        }
        return p.exitValue();
    }

    @Test
    void aFollowerLetsGoOfASegmentOnceTheRepositoryHasIt() throws Exception {
        assertEquals(0, followerArchives("000000030000000000000008", "000000030000000000000008"));
    }

    @Test
    void aFollowerLetsGoOfTheSegmentATimelineEndedInOnceThePromotedNodesPartialCopyIsThere() throws Exception {
        // the promoted node archives the old timeline's last segment only as .partial: held for ever before
        assertEquals(0, followerArchives("000000030000000000000008", "000000030000000000000008.partial"));
    }

    @Test
    void aFollowerHoldsASegmentTheRepositoryDoesNotHave() throws Exception {
        assertEquals(1, followerArchives("000000030000000000000008", "000000040000000000000008"));
    }
}
