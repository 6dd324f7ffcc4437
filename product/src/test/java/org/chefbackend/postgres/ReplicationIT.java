package org.chefbackend.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.chefbackend.agent.Change;
import org.chefbackend.agent.Launch;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.Settings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** A real PostgreSQL 15 leader on 127.0.0.25 and a follower on 127.0.0.26 made by base backup, streaming by slot. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicationIT {
    static final Path LEADER_ROOT = Path.of("/tmp/cbt-rl");
    static final Path FOLLOWER_ROOT = Path.of("/tmp/cbt-rf");
    static final Secrets SECRETS = Secrets.generate(new SecureRandom()); // one cluster: the same secrets everywhere
    static final PostgresRecipe RECIPE = new PostgresRecipe();
    static final int PORT = 5432;

    static NodeContext leader;
    static NodeContext follower;
    static String slot;
    static Process leaderPostmaster;
    static Process followerPostmaster;
    static final List<String> progress = new CopyOnWriteArrayList<>();

    static NodeContext node(Path root, String address, String name, String extra) {
        Settings settings = Settings.from(ChefBackendRbParser.parse("t.rb", "publish_address '" + address + "'\n"
                + "postgresql.shared_buffers = '128MB'\n" + extra), MachineFacts.detect());
        String guid = String.format("%032x", name.hashCode() & 0xffffffffL); // distinct per name, unused here
        return new NodeContext(settings, new NodePaths(root), name, guid, SECRETS);
    }

    @BeforeAll
    static void startLeader() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "creates users and chowns: run as root");
        for (Path root : List.of(LEADER_ROOT, FOLLOWER_ROOT)) {
            stopLeftoverPostmaster(root);
            PostgresRecipeIT.deleteTree(root);
            Files.createDirectories(root);
        }
        leader = node(LEADER_ROOT, "127.0.0.25", "rep-leader", "");
        follower = node(FOLLOWER_ROOT, "127.0.0.26", "rep-follower.example.com", ""); // a name the slot must hash
        slot = ReplicationSlots.nameFor(follower.nodeName());
        RECIPE.prepare(leader);
        leaderPostmaster = start(leader);
        awaitTrue(() -> PostgresAdmin.isAcceptingConnections(leader), 60, "the leader accepts connections", leader);
    }

    @AfterAll
    static void stopBoth() throws Exception {
        for (Process p : new Process[] {followerPostmaster, leaderPostmaster}) {
            if (p != null) {
                stopPostmaster(p);
            }
        }
    }

    @Test
    @Order(1)
    void theLeaderHoldsRowsAndAReservedSlotForTheFollower() throws Exception {
        try (Connection c = PostgresAdmin.connect(leader, "postgres", 5000); Statement st = c.createStatement()) {
            st.execute("create table items (id int primary key, note text)");
            st.execute("insert into items select i, 'row ' || i from generate_series(1, 1000) i");
            ReplicationSlots.create(c, slot);
            ReplicationSlots.create(c, slot); // idempotent
            try (ResultSet rs = st.executeQuery("select slot_type, restart_lsn is not null from pg_replication_slots"
                    + " where slot_name = '" + slot + "'")) {
                assertTrue(rs.next(), "slot " + slot + " exists");
                assertEquals("physical", rs.getString(1));
                assertTrue(rs.getBoolean(2), "reserves WAL from its creation");
                assertFalse(rs.next());
            }
        }
    }

    @Test
    @Order(2)
    void aBaseBackupCopiesTheLeaderAndLeavesAStandbyConfiguration() throws Exception {
        PostgresLayout layout = PostgresLayout.of(follower);
        BaseBackup.take(follower, leader.publishAddress(), PORT, slot, progress::add);

        assertTrue(progress.stream().anyMatch(l -> l.contains(" kB (")), "a -P progress line: " + progress);
        assertTrue(Files.exists(layout.versionFile()));
        assertEquals("chef_pgsql", owner(layout.dataDir()));
        assertEquals("rwx------", mode(layout.dataDir()));
        Path conf = layout.dataDir().resolve("standby.conf");
        for (Path f : List.of(conf, layout.dataDir().resolve("standby.signal"), PgpassFile.path(follower))) {
            assertEquals("chef_pgsql", owner(f), f.toString());
            assertEquals("rw-------", mode(f), f.toString());
        }
        assertTrue(Files.readString(conf).contains("primary_slot_name = '" + slot + "'"));
        assertEquals("*:*:*:replicator:" + SECRETS.replicationPassword() + "\n*:*:*:chef_pgsql:"
                + SECRETS.dbSuperuserPassword() + "\n", Files.readString(PgpassFile.path(follower)));

        ServiceSetupException notEmpty = assertThrows(ServiceSetupException.class,
                () -> BaseBackup.take(follower, leader.publishAddress(), PORT, slot, progress::add));
        assertTrue(notEmpty.getMessage().contains("not empty"), notEmpty.getMessage());
        assertTrue(Files.exists(layout.versionFile()), "a refused backup leaves the data alone");
    }

    @Test
    @Order(3)
    void thePreparedFollowerStartsAsAStreamingStandby() throws Exception {
        PostgresLayout layout = PostgresLayout.of(follower);
        var copied = Files.getLastModifiedTime(layout.versionFile());
        RECIPE.prepare(follower);
        assertEquals(copied, Files.getLastModifiedTime(layout.versionFile()), "no initdb over the base backup");
        assertTrue(Files.exists(layout.dataDir().resolve("standby.signal")), "prepare keeps standby.signal");
        assertTrue(Files.readString(layout.postgresqlConf()).contains("listen_addresses = '127.0.0.26'"),
                "the leader's copied postgresql.conf is replaced by the follower's");

        followerPostmaster = start(follower);
        awaitTrue(() -> {
            ReplicationStatus.LocalState s = localState(follower);
            return s != null && s.inRecovery() && "streaming".equals(s.walReceiverStatus());
        }, 60, "the follower streams", follower);
        try (Connection c = PostgresAdmin.connect(follower, "postgres", 5000)) {
            assertEquals(1000, count(c), "the base backup's rows, not a fresh initdb");
        }
    }

    @Test
    @Order(4)
    void newRowsOnTheLeaderReachTheFollower() throws Exception {
        try (Connection c = PostgresAdmin.connect(leader, "postgres", 5000); Statement st = c.createStatement()) {
            st.execute("insert into items select i, 'row ' || i from generate_series(1001, 1010) i");
        }
        awaitTrue(() -> {
            try (Connection c = PostgresAdmin.connect(follower, "postgres", 5000)) {
                return count(c) == 1010;
            } catch (SQLException e) {
                return false;
            }
        }, 30, "the follower sees 1010 rows", follower);
    }

    @Test
    @Order(5)
    void theLeaderListsTheFollowerStreamingThroughItsSlotOverTls() throws Exception {
        try (Connection c = PostgresAdmin.connect(leader, "postgres", 5000)) {
            List<ReplicationStatus.ReplicaInfo> replicas = ReplicationStatus.replicas(c);
            assertEquals(1, replicas.size(), replicas.toString());
            ReplicationStatus.ReplicaInfo r = replicas.get(0);
            assertEquals(follower.nodeName(), r.applicationName());
            assertEquals(slot, r.slot());
            assertEquals("streaming", r.state());
            assertEquals("async", r.syncState());
            assertTrue(r.replayLagBytes() >= 0, r.toString());
            assertTrue(r.clientAddr() != null && r.clientAddr().startsWith("127."), r.toString());
            try (ResultSet rs = c.createStatement().executeQuery(
                    "select ssl from pg_stat_ssl join pg_stat_replication using (pid)")) {
                assertTrue(rs.next());
                assertTrue(rs.getBoolean(1), "the replication connection uses TLS");
            }
        }
    }

    @Test
    @Order(6)
    void theFollowerRefusesWrites() throws Exception {
        try (Connection c = PostgresAdmin.connect(follower, "postgres", 5000); Statement st = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> st.execute("insert into items values (0, 'no')"));
            assertEquals("25006", e.getSQLState(), e.getMessage()); // read_only_sql_transaction
        }
    }

    @Test
    @Order(7)
    void localStatesTellLeaderFromFollower() throws Exception {
        ReplicationStatus.LocalState l = localState(leader);
        ReplicationStatus.LocalState f = localState(follower);
        assertFalse(l.inRecovery());
        assertEquals(1, l.timeline());
        assertEquals(null, l.walReceiverStatus());
        assertTrue(ReplicationStatus.lsnToLong(l.replayLsn()) > 0, "a primary's replay position is its current one");
        assertTrue(f.inRecovery());
        assertEquals(1, f.timeline());
        assertEquals("127.0.0.25", f.senderHost());
        assertTrue(ReplicationStatus.lsnToLong(f.replayLsn()) <= ReplicationStatus.lsnToLong(l.currentOrReceiveLsn()));
        assertTrue(ReplicationStatus.lsnToLong(f.replayLsn()) > 0);
    }

    @Test
    @Order(8)
    void dropSlotEndsTheStreamingFollowersUseOfIt() throws Exception {
        try (Connection c = PostgresAdmin.connect(leader, "postgres", 5000)) {
            ReplicationSlots.drop(c, slot);
            try (ResultSet rs = c.createStatement().executeQuery("select count(*) from pg_replication_slots")) {
                rs.next();
                assertEquals(0, rs.getInt(1));
            }
            ReplicationSlots.drop(c, slot); // idempotent
        }
    }

    @Test
    @Order(9)
    void aFailedBaseBackupSaysWhyAndLeavesAnEmptyDirectory() throws Exception {
        NodeContext other = node(FOLLOWER_ROOT, "127.0.0.26", "rep-failing", "postgresql.data_dir = '/var/opt/cb-fail/data'");
        List<String> lines = new CopyOnWriteArrayList<>();
        ServiceSetupException e = assertThrows(ServiceSetupException.class,
                () -> BaseBackup.take(other, leader.publishAddress(), PORT, "cb_no_such_slot", lines::add));
        assertTrue(e.getMessage().contains("replication slot \"cb_no_such_slot\" does not exist"), e.getMessage() + lines);
        Path data = other.path("postgresql.data_dir");
        try (var entries = Files.list(data)) {
            assertFalse(entries.findAny().isPresent(), "partial copy removed");
        }
    }

    @Test
    @Order(10)
    void rewritingTheStandbyConfigurationAsksForWhatTheServerNeeds() throws Exception {
        String leaderAddress = leader.publishAddress();
        assertEquals(Change.NONE, StandbyConfig.write(follower, leaderAddress, PORT, slot));
        assertEquals(Change.RELOAD, StandbyConfig.write(follower, leaderAddress, PORT, "cb_other"));
        assertEquals(Change.RELOAD, StandbyConfig.write(follower, leaderAddress, PORT, slot));
    }

    @Test
    @Order(11)
    void aPromotedFollowerIsWritableOnANewTimelineAndDropsItsStandbyFiles() throws Exception {
        PostgresLayout layout = PostgresLayout.of(follower);
        try (Connection c = PostgresAdmin.connect(follower, "postgres", 5000); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("select pg_promote(true, 60)")) {
                rs.next();
                assertTrue(rs.getBoolean(1), "promoted");
            }
            ReplicationStatus.LocalState s = ReplicationStatus.localState(c);
            assertFalse(s.inRecovery());
            assertEquals(2, s.timeline(), "the new timeline, before any checkpoint: " + s);
            assertFalse(Files.exists(layout.dataDir().resolve("standby.signal")), "promotion removes the signal");
            StandbyConfig.clear(follower);
            assertFalse(Files.exists(layout.dataDir().resolve("standby.conf")));
            st.execute("insert into items values (2000, 'on the new leader')");
        }
        StandbyConfig.clear(follower); // idempotent
    }

    /**
     * Issue 17: the old leader, still a primary on timeline 1 with writes the new leader never got, crashes; it
     * rejoins by crash recovery and pg_rewind, without a copy of the database, and then streams from the new leader.
     */
    @Test
    @Order(12)
    void aCrashedOldLeaderRejoinsTheNewOneByPgRewind() throws Exception {
        try (Connection c = PostgresAdmin.connect(leader, "postgres", 5000); Statement st = c.createStatement()) {
            st.execute("insert into items select i, 'only on the old timeline' from generate_series(3000, 3099) i");
        }
        crash(leaderPostmaster, leader);
        PostgresLayout layout = PostgresLayout.of(leader);
        assertEquals("in production", Rewind.controlData(layout.dataDir()).get("Database cluster state"),
                "the crash took effect: not shut down cleanly");
        String leaderSlot = ReplicationSlots.nameFor(leader.nodeName());
        try (Connection c = PostgresAdmin.connect(follower, "postgres", 5000); Statement st = c.createStatement()) {
            st.execute("checkpoint"); // the new timeline in the control file, as leaderl does after a promotion
            ReplicationSlots.create(c, leaderSlot);
        }

        assertEquals(Rewind.Outcome.REWOUND, Rewind.run(leader, follower.publishAddress(), PORT));
        StandbyConfig.write(leader, follower.publishAddress(), PORT, leaderSlot);
        RECIPE.prepare(leader); // pg_rewind copied the new leader's configuration; the supervisor renders it again
        leaderPostmaster = start(leader);
        awaitTrue(() -> {
            ReplicationStatus.LocalState s = localState(leader);
            return s != null && s.inRecovery() && s.timeline() == 2 && "streaming".equals(s.walReceiverStatus());
        }, 60, "the old leader streams from the new one on timeline 2", leader);
        try (Connection c = PostgresAdmin.connect(leader, "postgres", 5000); Statement st = c.createStatement()) {
            awaitTrue(() -> {
                try (ResultSet rs = c.createStatement().executeQuery("select count(*) from items where id = 2000")) {
                    return rs.next() && rs.getInt(1) == 1;
                } catch (SQLException e) {
                    return false;
                }
            }, 30, "the new leader's row reaches the rejoined node", leader);
            try (ResultSet rs = st.executeQuery("select count(*) from items where id >= 3000")) {
                rs.next();
                assertEquals(0, rs.getInt(1), "what only the old timeline had is undone");
            }
        }
    }

    /**
     * A crashed leader whose WAL ends exactly where the promoted standby's timeline forks off (a crash with a standby
     * that had everything): it has nothing to undo but cannot follow as it is (crash recovery puts a checkpoint past
     * the fork), so it is rewound. Now the node of test 12 leads, and the other one crashes.
     */
    @Test
    @Order(13)
    void aCrashedLeaderWhoseWalEndsAtTheForkRejoinsByPgRewind() throws Exception {
        try (Connection c = PostgresAdmin.connect(follower, "postgres", 5000); Statement st = c.createStatement()) {
            st.execute("insert into items select i, 'before the crash' from generate_series(4000, 4099) i");
        }
        awaitTrue(() -> {
            try (Connection c = PostgresAdmin.connect(leader, "postgres", 5000);
                    ResultSet rs = c.createStatement().executeQuery("select count(*) from items where id >= 4000")) {
                return rs.next() && rs.getInt(1) == 100;
            } catch (SQLException e) {
                return false;
            }
        }, 30, "the standby has every write", leader);
        crash(followerPostmaster, follower);
        try (Connection c = PostgresAdmin.connect(leader, "postgres", 5000); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("select pg_promote(true, 60)")) {
                rs.next();
                assertTrue(rs.getBoolean(1), "promoted");
            }
            st.execute("checkpoint");
            ReplicationSlots.create(c, slot);
        }
        StandbyConfig.clear(leader);

        assertEquals(Rewind.Outcome.REWOUND, Rewind.run(follower, leader.publishAddress(), PORT));
        StandbyConfig.write(follower, leader.publishAddress(), PORT, slot);
        RECIPE.prepare(follower);
        followerPostmaster = start(follower);
        awaitTrue(() -> {
            ReplicationStatus.LocalState s = localState(follower);
            return s != null && s.inRecovery() && s.timeline() == 3 && "streaming".equals(s.walReceiverStatus());
        }, 60, "the crashed leader streams from the new one on timeline 3", follower);
    }

    @Test
    @Order(14)
    void aStandbyStoppedCleanlyOnTheLeadersTimelineNeedsNoRewind() throws Exception {
        stopPostmaster(followerPostmaster);
        assertEquals(Rewind.Outcome.NOT_NEEDED, Rewind.run(follower, leader.publishAddress(), PORT));
        followerPostmaster = start(follower);
        awaitTrue(() -> {
            ReplicationStatus.LocalState s = localState(follower);
            return s != null && "streaming".equals(s.walReceiverStatus());
        }, 60, "it streams again as it was", follower);
    }

    /** kill -9 of the postmaster; returns once it and every process it had started are gone. */
    static void crash(Process postmaster, NodeContext node) throws Exception {
        List<ProcessHandle> all = new ArrayList<>(List.of(postmaster.toHandle()));
        postmaster.toHandle().descendants().forEach(all::add);
        PostgresRecipeIT.signal("KILL", postmaster.pid());
        awaitTrue(() -> all.stream().noneMatch(ProcessHandle::isAlive), 30, "the crashed postmaster's processes end", node);
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    static ReplicationStatus.LocalState localState(NodeContext node) {
        try (Connection c = PostgresAdmin.connect(node, "postgres", 5000)) {
            return ReplicationStatus.localState(c);
        } catch (SQLException e) {
            return null;
        }
    }

    static int count(Connection c) throws SQLException {
        try (ResultSet rs = c.createStatement().executeQuery("select count(*) from items")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** The postmaster as the supervisor runs it: the recipe's launch, as the service user, output to a file. */
    static Process start(NodeContext node) throws Exception {
        Launch launch = RECIPE.launch(node);
        List<String> command = new ArrayList<>(Commands.asUser(launch.user(), List.of()));
        command.addAll(launch.command());
        ProcessBuilder pb = new ProcessBuilder(command).directory(launch.workingDirectory().toFile())
                .redirectErrorStream(true).redirectOutput(output(node).toFile());
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        pb.environment().putAll(launch.environment());
        return pb.start();
    }

    static Path output(NodeContext node) {
        return node.paths().root().resolve("postgres.out");
    }

    static void awaitTrue(BooleanSupplier condition, int seconds, String what, NodeContext node) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": not within " + seconds + " s; output:\n"
                        + PostgresRecipeIT.read(output(node)));
            }
            Thread.sleep(100);
        }
    }

    /** SIGINT is PostgreSQL's fast shutdown; SIGKILL by pid only if it overstays. */
    static void stopPostmaster(Process p) throws Exception {
        PostgresRecipeIT.signal("INT", p.pid());
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            PostgresRecipeIT.signal("KILL", p.pid());
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** A postmaster an earlier, interrupted run left on a data directory under {@code root}. */
    static void stopLeftoverPostmaster(Path root) throws Exception {
        Path pidFile = root.resolve("var/opt/chef-backend/postgresql/15/data/postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
        Path cmdline = Path.of("/proc/" + pid + "/cmdline");
        if (!Files.exists(cmdline) || !PostgresRecipeIT.read(cmdline).contains(root.toString())) {
            return;
        }
        PostgresRecipeIT.signal("INT", pid);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (Files.exists(Path.of("/proc/" + pid)) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        if (Files.exists(Path.of("/proc/" + pid))) {
            PostgresRecipeIT.signal("KILL", pid);
        }
    }

    static String owner(Path p) throws Exception {
        return Files.getOwner(p, LinkOption.NOFOLLOW_LINKS).getName();
    }

    static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }
}
