package org.chefbackend.recovery;

import static org.chefbackend.recovery.RecoveryTestSupport.ids;
import static org.chefbackend.recovery.RecoveryTestSupport.pg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
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
 * Continuous archiving and point-in-time restore with real PostgreSQL, pgBackRest and etcd (issue 22's CI tier). A lone
 * node archives into a repository directory and takes its first full backup by schedule; restore --repository brings
 * back the latest state, then exactly the rows committed before a chosen second, and refuses an unreachable moment with
 * nothing changed. Then two nodes join, a follower backs up through the leader's pgBackRest TLS server, the leader is
 * killed, and the archive is complete across the failover: backup-check passes, fails when one segment is taken away,
 * and a restore of the latest state, after the other nodes are lost too, holds every acknowledged row.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RepositoryRestoreIT {
    static final Path BASE = Path.of("/tmp/cbit-repo");
    static final Path REPOSITORY = BASE.resolve("repo");
    static final String TABLE = "pitr_probe";
    static final DateTimeFormatter TARGET = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss+00").withZone(ZoneOffset.UTC);
    static final String[] CONFIG = {
        "etcd.heartbeat_interval = 100", "etcd.election_timeout = 1000", "leaderl.leader_ttl_seconds = 5",
        "leaderl.health_check.interval_seconds = 1", "leaderl.status_post_update_interval_seconds = 2",
        "elasticsearch.heap_size = 384", "backup.repository = '" + REPOSITORY + "'", "backup.archive_timeout = 5"};
    final List<TestNode> nodes = new ArrayList<>();
    Secrets secrets;
    Path secretsFile = BASE.resolve("saved-secrets.json");
    String target;

    @BeforeAll
    void build() throws Exception {
        FileTrees.deleteTree(BASE);
        Files.createDirectories(REPOSITORY); // as an operator makes the share: empty, root's; the agent adopts it
        for (int i = 0; i < 3; i++) {
            nodes.add(TestNode.create("127.0.0." + (181 + i), BASE.resolve("r" + (i + 1)), TestNode.secrets(), CONFIG));
        }
        TestNode.Run create = nodes.get(0).ctl("create-cluster", "-y");
        assertEquals(0, create.code(), create.out() + create.err());
        Files.copy(nodes.get(0).root.resolve("etc/chef-backend/chef-backend-secrets.json"), secretsFile);
        secrets = SecretsFile.load(secretsFile);
        try (Connection c = pg(nodes.get(0), secrets); Statement st = c.createStatement()) {
            st.execute("create table " + TABLE + " (id bigint primary key, payload text)");
        }
    }

    @AfterAll
    void destroy() throws Exception {
        nodes.forEach(TestNode::destroy);
        FileTrees.deleteTree(BASE);
    }

    static void insert(TestNode n, Secrets s, long from, long to) throws Exception {
        try (Connection c = pg(n, s); Statement st = c.createStatement()) {
            for (long id = from; id <= to; id++) {
                st.executeUpdate("insert into " + TABLE + " values (" + id + ", md5('" + id + "'))");
            }
        }
    }

    static Set<Long> range(long from, long to) {
        return new TreeSet<>(LongStream.rangeClosed(from, to).boxed().toList());
    }

    /** Switches to a new WAL segment on the leader and waits until its archiver has archived it. */
    static void archiveNow(TestNode leader, Secrets s) throws Exception {
        String segment;
        try (Connection c = pg(leader, s); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select pg_walfile_name(pg_switch_wal())")) {
            rs.next();
            segment = rs.getString(1);
        }
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(120), () -> leader.status().map(st -> st.at(
                "/backup/archiver/last_archived_wal").asText("")).filter(w -> w.compareTo(segment) >= 0).isPresent()),
                "segment " + segment + " not archived: " + leader.status().map(st -> st.path("backup")).orElse(null));
    }

    static void waitLeader(TestNode n) {
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(120), () -> n.status().map(st -> st.at("/cluster/leader")
                .asBoolean()).orElse(false)), "not leading: " + n.status().orElse(null));
    }

    @Test
    @Order(1)
    void theLoneLeaderArchivesAndTakesItsFirstFullBackupBySchedule() throws Exception {
        TestNode a = nodes.get(0);
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(120), () -> a.status().map(st -> st.at("/backup/last_backup/type")
                .asText()).filter("full"::equals).isPresent()), "no scheduled full backup: " + a.status()
                .map(st -> st.path("backup")).orElse(null));
        TestNode.Run list = a.ctlOk("backup-list");
        assertTrue(list.out().contains("full") && list.out().contains("Recoverable window: from"), list.out());
        TestNode.Run status = a.ctlOk("status");
        assertTrue(status.out().contains("archive  ok: last archived"), status.out());
    }

    @Test
    @Order(2)
    void aRestoreToASecondHoldsExactlyTheRowsCommittedBeforeIt() throws Exception {
        TestNode a = nodes.get(0);
        insert(a, secrets, 1, 100);
        Instant t = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
        target = TARGET.format(t);
        TestNode.waitUntil(Duration.ofSeconds(5), () -> Instant.now().isAfter(t.plusMillis(1200)));
        insert(a, secrets, 101, 150); // every one of these started more than a second after the target
        archiveNow(a, secrets);

        // the control first: the archive holds the later rows, so a restore that ignored the target would have them
        TestNode.Run latest = a.ctl("restore", "--repository", "-s", secretsFile.toString(), "-y");
        assertEquals(0, latest.code(), latest.out() + latest.err());
        waitLeader(a);
        try (Connection c = pg(a, secrets)) {
            assertEquals(range(1, 150), ids(c, TABLE), "the latest restore lost acknowledged rows");
        }

        TestNode.Run pitr = a.ctl("restore", "--repository", "--target-time", target, "-s", secretsFile.toString(), "-y");
        assertEquals(0, pitr.code(), pitr.out() + pitr.err());
        assertTrue(pitr.out().contains("recovery stopping before commit"), pitr.out());
        waitLeader(a);
        try (Connection c = pg(a, secrets)) {
            Set<Long> restored = ids(c, TABLE);
            assertEquals(range(1, 100), restored, "a restore to " + target + " must hold the rows before it, none after");
            assertNotEquals(range(1, 150), restored);
        }
        archiveNow(a, secrets); // the new timeline's history and WAL reach the repository
    }

    @Test
    @Order(3)
    void aMomentTheArchiveCannotReachIsRefusedWithNothingChanged() throws Exception {
        TestNode a = nodes.get(0);
        long agent = a.agentPid();
        TestNode.Run refused = a.ctl("restore", "--repository", "--target-time", "2001-01-01 00:00:00+00", "-s",
                secretsFile.toString(), "-y");
        assertNotEquals(0, refused.code(), refused.out());
        assertTrue(refused.err().contains("chef-backend-ctl:") && !refused.err().contains("Exception"), refused.err());
        assertEquals(agent, a.agentPid(), "the node was stopped although the restore was refused");
        try (Connection c = pg(a, secrets)) {
            assertEquals(range(1, 100), ids(c, TABLE));
        }
        TestNode.Run bad = a.ctl("restore", "--repository", "--target-lsn", "zz", "-s", secretsFile.toString(), "-y");
        assertEquals(2, bad.code(), bad.out() + bad.err());
        // a staging directory the PostgreSQL user cannot reach (as the tarball backups' root-only directory) is refused
        Path closed = Files.createDirectories(BASE.resolve("closed"));
        Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
        TestNode.Run unreachable = a.ctl("restore", "--repository", "-d", closed.resolve("staging").toString(), "-s",
                secretsFile.toString(), "-y");
        assertEquals(2, unreachable.code(), unreachable.out() + unreachable.err());
        assertTrue(unreachable.err().contains("cannot reach " + closed), unreachable.err());
        assertEquals(agent, a.agentPid());
    }

    @Test
    @Order(4)
    void anUnmountedRepositoryIsReportedAndTheLeaderKeepsTakingWrites() throws Exception {
        TestNode a = nodes.get(0);
        Path away = BASE.resolve("repo-unmounted");
        Files.move(REPOSITORY, away);
        try {
            try (Connection c = pg(a, secrets); Statement st = c.createStatement()) {
                st.execute("select pg_switch_wal()"); // a segment to archive, with nowhere to go
            }
            insert(a, secrets, 151, 160);
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> statusOut(a)
                    .contains("archive  FAILING: the repository " + REPOSITORY + " is missing (not mounted?)")),
                    statusOut(a));
            TestNode.Run status = a.ctl("status");
            assertEquals(0, status.code(), "the services work; archiving is reported, not failed: " + status.out());
            assertTrue(status.err().contains("WAL archiving fails") || status.out().contains("WAL archiving fails"),
                    status.out() + status.err());
        } finally {
            Files.move(away, REPOSITORY);
        }
        archiveNow(a, secrets); // what waited is archived once the repository is back (PostgreSQL retries within 60 s)
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(90), () -> statusOut(a).contains("archive  ok:")), statusOut(a));
        try (Connection c = pg(a, secrets); Statement st = c.createStatement()) {
            st.execute("delete from " + TABLE + " where id between 151 and 160"); // the rows the later checks expect
        }
    }

    @Test
    @Order(5)
    void aFollowerBacksUpThroughTheLeadersTlsServer() throws Exception {
        TestNode a = nodes.get(0);
        for (TestNode n : nodes.subList(1, 3)) {
            TestNode.Run join = n.ctl("join-cluster", a.address, "-s", secretsFile.toString(), "-y");
            assertEquals(0, join.code(), join.out() + join.err());
        }
        RecoveryTestSupport.waitSynced(a, 2, Duration.ofSeconds(180));
        insert(a, secrets, 1000, 1100);
        TestNode.Run backup = nodes.get(1).ctl("backup", "--repository", "--type", "diff");
        assertEquals(0, backup.code(), backup.out() + backup.err());
        assertTrue(backup.out().contains("(follower)") && backup.out().contains("diff backup size"), backup.out());
        TestNode.Run status = nodes.get(1).ctlOk("status");
        assertTrue(status.out().contains("archive  follower: holds"), status.out());
    }

    @Test
    @Order(6)
    void theArchiveHasNoGapAcrossAFailover() throws Exception {
        TestNode a = nodes.get(0);
        a.processes().forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> a.processes().isEmpty()), "the leader still runs");
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(90), () -> leader().isPresent()), "no new leader");
        TestNode b = leader().orElseThrow();
        insert(b, secrets, 1101, 1200);
        archiveNow(b, secrets);
        TestNode.Run check = b.ctl("backup-check");
        assertEquals(0, check.code(), check.out() + check.err());
        assertTrue(check.out().contains("complete") && check.out().contains("->"), check.out());

        // the control: one segment of the path taken away is found missing
        Path taken = aSegmentOnThePath();
        Path aside = BASE.resolve(taken.getFileName());
        Files.move(taken, aside);
        try {
            TestNode.Run gap = b.ctl("backup-check");
            assertEquals(1, gap.code(), gap.out() + gap.err());
            assertTrue(gap.out().contains(taken.getFileName().toString().substring(0, 24)), gap.out());
        } finally {
            Files.move(aside, taken);
        }
        assertEquals(0, b.ctl("backup-check").code());
    }

    @Test
    @Order(7)
    void aLatestRestoreAfterTheFailoverHoldsEveryAcknowledgedRow() throws Exception {
        // the disaster: the other two go too (a restore with the cluster's secrets next to its live nodes would rejoin
        // them, as the documents' restore would); the crashed leader's host becomes the first node of a new cluster
        nodes.subList(1, 3).forEach(TestNode::destroy);
        TestNode a = nodes.get(0);        TestNode.Run restore = a.ctl("restore", "--repository", "-s", secretsFile.toString(), "-y");
        assertEquals(0, restore.code(), restore.out() + restore.err());
        waitLeader(a);
        try (Connection c = pg(a, secrets)) {
            Set<Long> expected = range(1, 100);
            expected.addAll(range(1000, 1200));
            assertEquals(expected, ids(c, TABLE));
        }
    }

    static String statusOut(TestNode n) {
        try {
            return n.ctl("status").out();
        } catch (IOException | InterruptedException e) {
            return "";
        }
    }

    Optional<TestNode> leader() {
        return nodes.subList(1, 3).stream().filter(n -> n.status().map(st -> st.at("/cluster/leader").asBoolean())
                .orElse(false)).findFirst();
    }

    /** An archived segment of the newest timeline, not its newest (so the check's path runs through it). */
    static Path aSegmentOnThePath() throws Exception {
        try (Stream<Path> files = Files.walk(REPOSITORY.resolve("archive"))) {
            List<Path> segments = files.filter(p -> p.getFileName().toString().matches("[0-9A-F]{24}-[0-9a-f]{40}.*"))
                    .sorted().toList();
            assertTrue(segments.size() >= 3, "too few archived segments: " + segments);
            return segments.get(segments.size() - 2);
        }
    }

}
