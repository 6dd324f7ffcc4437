package org.chefbackend.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Optional;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.Settings;
import org.chefbackend.tls.NodeCertificates.CertificateFiles;
import org.junit.jupiter.api.Test;

class PgBackRestConfTest {
    static final MachineFacts MACHINE = new MachineFacts(4L * 1024 * 1024 * 1024, "n1");
    static final PgBackRestFiles FILES = new PgBackRestFiles(Path.of("/n/var/opt/chef-backend/pgbackrest"),
            Path.of("/n/var/log/chef-backend/pgbackrest"), new CertificateFiles(Path.of("/n/ssl/pgbackrest")));
    static final PgBackRestConf.LocalPostgres PG = new PgBackRestConf.LocalPostgres("/n/data", 5432, "/n/run",
            "chef_pgsql");

    static Optional<RepositorySettings> settings(String rb) {
        return RepositorySettings.of(Settings.from(ChefBackendRbParser.parse("t.rb", rb), MACHINE));
    }

    @Test
    void withoutARepositoryNothingIsArchivedAsInTheDocuments() {
        assertEquals(Optional.empty(), settings(""));
    }

    @Test
    void theRepositoryIsUsedExactlyAsWritten() {
        RepositorySettings r = settings("backup.repository = '/mnt/backups'\n").orElseThrow();
        String conf = PgBackRestConf.render(r, FILES, PG, "10.0.0.2", "secret");
        assertTrue(conf.contains("repo1-path=/mnt/backups\n"), conf);
        assertTrue(conf.contains("[chef-backend]\npg1-path=/n/data\npg1-port=5432\npg1-socket-path=/n/run\n"), conf);
        assertTrue(conf.contains("repo1-retention-full=2\n"), conf);
        assertTrue(conf.contains("archive-push-queue-max=4096MiB\n"), conf);
    }

    @Test
    void theTlsServerAcceptsOnlyTheClusterCertificatesCommonName() {
        String conf = PgBackRestConf.render(settings("backup.repository = '/b'\n").orElseThrow(), FILES, PG,
                "10.0.0.2", "secret");
        assertTrue(conf.contains("tls-server-address=10.0.0.2\ntls-server-port=8432\n"), conf);
        assertTrue(conf.contains("tls-server-auth=chef-backend-pgbackrest=chef-backend\n"), conf);
        assertTrue(conf.contains("tls-server-ca-file=/n/ssl/pgbackrest/ca.crt\n"), conf);
        assertFalse(PgBackRestConf.render(settings("backup.repository = '/b'\n").orElseThrow(), FILES, PG, null,
                "secret").contains("tls-server"), "a node without a cluster CA has no TLS server");
    }

    @Test
    void thePassphraseIsWrittenOnlyForAnEncryptedRepository() {
        String plain = PgBackRestConf.render(settings("backup.repository = '/b'\n").orElseThrow(), FILES, PG, null,
                "secret");
        assertFalse(plain.contains("cipher"), plain);
        String encrypted = PgBackRestConf.render(settings("backup.repository = '/b'\nbackup.encryption = true\n")
                .orElseThrow(), FILES, PG, null, "secret");
        assertTrue(encrypted.contains("repo1-cipher-type=aes-256-cbc\nrepo1-cipher-pass=secret\n"), encrypted);
    }

    @Test
    void thePassphraseSurvivesARotationOfTheSecrets() {
        Secrets before = Secrets.generate(new SecureRandom());
        Secrets after = before.withNewPasswords(new SecureRandom());
        assertEquals(before.repositoryCipherPass(), after.repositoryCipherPass(), "old backups stay readable");
        assertFalse(before.repositoryCipherPass().equals(Secrets.generate(new SecureRandom()).repositoryCipherPass()));
        assertTrue(before.accessValues().contains(before.repositoryCipherPass()), "never printed or logged");
    }

    @Test
    void theArchiveScriptPushesOnlyOnTheLeaderAndHoldsOnAFollower() {
        String script = ArchiveScript.render(FILES, 4096);
        int leaderBranch = script.indexOf("if [ ! -e standby.signal ]; then");
        int push = script.indexOf("archive-push \"$1\"");
        int get = script.indexOf("archive-get \"$2\"");
        assertTrue(leaderBranch >= 0 && push > leaderBranch && get > push, script);
        assertTrue(script.contains("-gt 4096 ]"), "a follower stops holding past archive_queue_max_mb: " + script);
        assertEquals("'/n/var/opt/chef-backend/pgbackrest/archive-wal' \"%p\" \"%f\"", ArchiveScript.archiveCommand(FILES));
    }
}
