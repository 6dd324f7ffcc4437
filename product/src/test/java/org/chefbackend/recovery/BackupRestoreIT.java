package org.chefbackend.recovery;

import static org.chefbackend.recovery.RecoveryTestSupport.checksum;
import static org.chefbackend.recovery.RecoveryTestSupport.ids;
import static org.chefbackend.recovery.RecoveryTestSupport.pg;
import static org.chefbackend.recovery.RecoveryTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.system.Binaries;
import org.chefbackend.system.FileTrees;
import org.chefbackend.testing.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Backup and restore on real clusters: a backup taken on a follower of a 3-node cluster under a write load; the
 * cluster destroyed; restore on a new node; two nodes join. The backup's moment is its WAL end position: every row
 * acknowledged before the backup started is there, and the restored content equals the backup's own content, read by
 * starting a scratch PostgreSQL on the archive. Damaged archives are refused before anything is deleted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BackupRestoreIT {
    static final Path BASE = Path.of("/tmp/cbit-i7/br");
    static final String TABLE = "backup_probe";
    final List<TestNode> old = new ArrayList<>();
    final List<TestNode> fresh = new ArrayList<>();
    Secrets secrets;
    Path archive = BASE.resolve("saved/backup.tgz");
    List<Long> ackedBeforeBackup;
    String backupChecksum;
    Set<Long> backupIds;
    Process scratch;

    @BeforeAll
    void build() throws Exception {
        FileTrees.deleteTree(BASE);
        for (int i = 0; i < 3; i++) {
            old.add(TestNode.create("127.0.0." + (41 + i), BASE.resolve("b" + (i + 1)), TestNode.secrets(),
                    "elasticsearch.heap_size = 384"));
        }
        TestNode.Run create = old.get(0).ctl("create-cluster", "-y");
        assertEquals(0, create.code(), create.out() + create.err());
        Path file = old.get(0).root.resolve("etc/chef-backend/chef-backend-secrets.json");
        secrets = SecretsFile.load(file);
        for (TestNode n : old.subList(1, 3)) {
            TestNode.Run join = n.ctl("join-cluster", old.get(0).address, "-s", file.toString(), "-y");
            assertEquals(0, join.code(), join.out() + join.err());
        }
        RecoveryTestSupport.waitSynced(old.get(0), 2, Duration.ofSeconds(180));
        try (Connection c = pg(old.get(0), secrets); Statement st = c.createStatement()) {
            st.execute("create table " + TABLE + " (id bigint primary key, payload text)");
        }
    }

    @AfterAll
    void destroy() throws Exception {
        stopScratch();
        for (TestNode n : old) {
            n.destroy();
        }
        for (TestNode n : fresh) {
            n.destroy();
        }
        umount(backupDir(old.get(1)));
    }

    static Path backupDir(TestNode n) {
        return n.root.resolve("var/opt/chef-backup");
    }

    static List<Path> archives(TestNode n) throws Exception {
        if (!Files.isDirectory(backupDir(n))) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(backupDir(n))) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tgz")).toList();
        }
    }

    @Test
    @Order(1)
    void backupOnTheLeaderIsRefusedWithoutForce() throws Exception {
        TestNode.Run r = old.get(0).ctl("backup");
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("this node is the leader; run backup on a follower, or pass -f"), r.err());
        assertTrue(archives(old.get(0)).isEmpty());
        TestNode.Run bad = old.get(1).ctl("backup", "--timeout", "0");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--timeout must be a positive number"), bad.err());
    }

    @Test
    @Order(2)
    void backupWithoutRoomIsRefusedBeforeItCopiesAnything() throws Exception {
        Path dir = backupDir(old.get(1));
        Files.createDirectories(dir);
        // a 1 MB file system where the backup goes: the database alone is larger
        run(List.of("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir.toString()));
        try {
            TestNode.Run r = old.get(1).ctl("backup");
            assertEquals(1, r.code(), r.out() + r.err());
            assertTrue(r.err().contains("not enough free space in " + dir), r.err());
            assertTrue(r.err().matches("(?s).*it needs about \\d+ MB \\(the database is \\d+ MB.*"), r.err());
            try (Stream<Path> s = Files.list(dir)) {
                assertEquals(0, s.count(), "the refused backup left files behind");
            }
        } finally {
            umount(dir);
        }
    }

    static void umount(Path dir) {
        try {
            new ProcessBuilder("umount", dir.toString()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        } catch (Exception e) {
            // not mounted
        }
    }

    @Test
    @Order(3)
    void backupOnAFollowerUnderWriteLoad() throws Exception {
        TestNode follower = old.get(1);
        TestNode.Run r;
        try (RecoveryTestSupport.Writer w = new RecoveryTestSupport.Writer(old.get(0).address,
                secrets.dbSuperuserPassword(), TABLE, Duration.ofMinutes(5))) {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> w.acked.size() > 200), "the writer did not write");
            ackedBeforeBackup = w.snapshot();
            r = follower.ctl("backup");
            int atEnd = w.acked.size();
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> w.acked.size() > atEnd + 100),
                    "no writes after the backup");
        }
        assertEquals(0, r.code(), r.out() + r.err());
        System.out.println(r.out());
        assertTrue(r.out().contains("\u2713 PostgreSQL: consistent base backup from follower " + follower.name), r.out());
        assertTrue(r.out().contains("Backup complete: " + backupDir(follower)), r.out());
        List<Path> made = archives(follower);
        assertEquals(1, made.size(), made.toString());
        assertTrue(made.get(0).getFileName().toString().matches("chef-backup-\\d{4}(-\\d\\d){5}\\.tgz"), made.toString());
        Files.createDirectories(archive.getParent());
        Files.copy(made.get(0), archive);

        // the backup's own content, read from the archive by a scratch PostgreSQL
        Path scratchDir = BASE.resolve("scratch");
        Files.createDirectories(scratchDir);
        run(List.of("tar", "-C", scratchDir.toString(), "-xzf", archive.toString()));
        JsonNode manifest = RecoveryTestSupport.JSON.readTree(scratchDir.resolve("manifest.json").toFile());
        assertEquals(follower.name, manifest.at("/node/name").asText());
        assertEquals("follower", manifest.at("/node/role").asText());
        assertTrue(manifest.at("/lsn/end").asText().matches("[0-9A-F]+/[0-9A-F]+"), manifest.toString());
        assertTrue(manifest.path("files").has("pgsql/PG_VERSION"));
        startScratch(scratchDir);
        try (Connection c = pg("127.0.0.49", 5439, null)) {
            backupChecksum = checksum(c, TABLE);
            backupIds = ids(c, TABLE);
        }
        stopScratch();
        List<Long> missing = ackedBeforeBackup.stream().filter(id -> !backupIds.contains(id)).toList();
        assertTrue(missing.isEmpty(), "rows acknowledged before the backup started are not in it: " + missing);
        try (Connection c = pg(old.get(0), secrets)) {
            // negative control: the writes went on, so the live table differs from the backup's moment
            assertNotEquals(backupChecksum, checksum(c, TABLE));
            assertTrue(ids(c, TABLE).size() > backupIds.size());
        }
        System.out.printf("backup: %d rows acknowledged before it started, %d in the backup (%s)%n",
                ackedBeforeBackup.size(), backupIds.size(), backupChecksum);
    }

    void startScratch(Path dir) throws Exception {
        Path data = dir.resolve("pgsql");
        Files.deleteIfExists(data.resolve("standby.signal"));
        Files.deleteIfExists(data.resolve("standby.conf"));
        Files.writeString(dir.resolve("hba.conf"), "local all all trust\nhost all all 127.0.0.0/8 trust\n");
        run(List.of("chown", "-R", "chef_pgsql:chef_pgsql", dir.toString()));
        run(List.of("chmod", "700", data.toString()));
        scratch = new ProcessBuilder("setpriv", "--reuid=chef_pgsql", "--regid=chef_pgsql", "--init-groups", "--",
                Binaries.postgresBinDir().resolve("postgres").toString(), "-D", data.toString(),
                "-c", "listen_addresses=127.0.0.49", "-c", "port=5439", "-c", "ssl=off", "-c", "hba_file=" + dir.resolve("hba.conf"),
                "-c", "unix_socket_directories=" + dir, "-c", "cluster_name=scratch")
                .redirectErrorStream(true).redirectOutput(dir.resolve("postgres.log").toFile()).start();
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(60), () -> {
            try (Connection c = pg("127.0.0.49", 5439, null)) {
                return true;
            } catch (Exception e) {
                return false;
            }
        }), "the scratch PostgreSQL did not start on the backup: " + Files.readString(dir.resolve("postgres.log")));
    }

    void stopScratch() throws InterruptedException {
        if (scratch != null && scratch.isAlive()) {
            scratch.destroy();
            if (!scratch.waitFor(30, TimeUnit.SECONDS)) {
                scratch.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    @Order(4)
    void aTruncatedOrTamperedArchiveIsRefusedWithNothingDeleted() throws Exception {
        TestNode target = old.get(2);
        long pgPid = target.pid("postgresql");
        assertTrue(pgPid > 0);
        String config = Files.readString(target.configFile());
        Path data = target.root.resolve("var/opt/chef-backend/postgresql/15/data");
        assertTrue(Files.exists(data.resolve("PG_VERSION")), "no data directory where expected: " + data);

        Path truncated = BASE.resolve("saved/truncated.tgz");
        byte[] whole = Files.readAllBytes(archive);
        Files.write(truncated, Arrays.copyOf(whole, whole.length * 2 / 3));
        TestNode.Run t = target.ctl("restore", truncated.toString(), "-y");
        assertNotEquals(0, t.code(), t.out() + t.err());
        assertTrue(t.out().contains("\u2717 Unpacking backup"), t.out());
        assertTrue(t.err().contains("is truncated or corrupt"), t.err());

        // a file changed inside an otherwise valid archive: only the manifest's checksums can tell
        Path unpacked = BASE.resolve("saved/tamper");
        Files.createDirectories(unpacked);
        run(List.of("tar", "-C", unpacked.toString(), "-xzf", archive.toString()));
        Path victim = unpacked.resolve("pgsql/global/pg_control");
        byte[] bytes = Files.readAllBytes(victim);
        bytes[100] ^= 0x55;
        Files.write(victim, bytes);
        Path tampered = BASE.resolve("saved/tampered.tgz");
        run(List.of("tar", "-C", unpacked.toString(), "-czf", tampered.toString(), "."));
        TestNode.Run m = target.ctl("restore", tampered.toString(), "-y");
        assertNotEquals(0, m.code(), m.out() + m.err());
        assertTrue(m.err().contains("is corrupt: pgsql/global/pg_control does not match its checksum"), m.err());

        // nothing was touched: same PostgreSQL process, data and configuration, no staging left
        assertEquals(pgPid, target.pid("postgresql"));
        assertTrue(Files.exists(data.resolve("PG_VERSION")));
        assertEquals(config, Files.readString(target.configFile()));
        try (Stream<Path> s = Files.list(backupDir(target))) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).toList(), "staging left behind");
        }
        TestNode.Run missing = target.ctl("restore", BASE.resolve("saved/nope.tgz").toString(), "-y");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("no backup file at"), missing.err());
    }

    @Test
    @Order(5)
    void theDestroyedClusterIsRestoredOnANewNodeAndTwoNodesJoin() throws Exception {
        for (TestNode n : old) {
            n.destroy();
        }
        for (TestNode n : old) {
            assertTrue(n.processes().isEmpty(), n.name + " still runs");
        }
        for (int i = 0; i < 3; i++) {
            fresh.add(TestNode.create("127.0.0." + (44 + i), BASE.resolve("r" + (i + 1)), TestNode.secrets(),
                    "elasticsearch.heap_size = 384"));
        }
        TestNode first = fresh.get(0);
        TestNode.Run r = first.ctl("restore", archive.toString(), "-y");
        assertEquals(0, r.code(), r.out() + r.err());
        System.out.println(r.out());
        for (String step : List.of("Unpacking backup to temporary directory", "Removing existing data directories",
                "Restoring basic configuration", "Restoring Elasticsearch data", "Restoring PostgreSQL data",
                "Starting up Chef Backend", "Cleaning Up Temporary Files")) {
            assertTrue(r.out().contains("\u2713 " + step), step + " not reported:\n" + r.out());
        }
        assertTrue(Files.readString(first.configFile()).contains("publish_address '" + first.address + "'"));
        Path file = first.root.resolve("etc/chef-backend/chef-backend-secrets.json");
        assertEquals(secrets.dbSuperuserPassword(), SecretsFile.load(file).dbSuperuserPassword(),
                "the secrets were not restored");
        for (TestNode n : fresh.subList(1, 3)) {
            TestNode.Run join = n.ctl("join-cluster", first.address, "-s", file.toString(), "-y");
            assertEquals(0, join.code(), join.out() + join.err());
        }
        RecoveryTestSupport.waitSynced(first, 2, Duration.ofSeconds(180));
        assertEquals(first.name, RecoveryTestSupport.clusterStatus(fresh.get(2)).at("/cluster/leader").asText());
    }

    @Test
    @Order(6)
    void everyNodeOfTheRestoredClusterHoldsExactlyTheBackupsContent() throws Exception {
        for (TestNode n : fresh) {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> {
                try (Connection c = pg(n, secrets)) {
                    return checksum(c, TABLE).equals(backupChecksum);
                } catch (Exception e) {
                    return false;
                }
            }), n.name + " differs from the backup");
            try (Connection c = pg(n, secrets)) {
                assertEquals(backupChecksum, checksum(c, TABLE));
                Set<Long> present = ids(c, TABLE);
                assertTrue(present.containsAll(ackedBeforeBackup), n.name + " lacks rows acknowledged before the backup");
            }
        }
        try (Connection c = pg(fresh.get(0), secrets); Statement st = c.createStatement()) {
            st.execute("insert into " + TABLE + " values (-1, 'after restore')");
        }
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> {
            try (Connection c = pg(fresh.get(2), secrets)) {
                return ids(c, TABLE).contains(-1L);
            } catch (Exception e) {
                return false;
            }
        }), "a write on the restored leader did not reach the joined node");
    }
}
