package org.chefbackend.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.chefbackend.bench.ChefBackendCluster;
import org.chefbackend.bench.HaCluster;
import org.chefbackend.bench.Procs;
import org.chefbackend.bench.Writer;
import org.chefbackend.system.FileTrees;

/**
 * {@code bin/chaos pitr} (issue 22): continuous archiving and point-in-time restore under the harness's write load. A
 * 3-node synchronous cluster archives into a pgBackRest repository (backup.repository); a base backup is taken on a
 * follower; two host crashes and a switchover follow while the writer runs, with T1 recorded between the crashes;
 * backup-check must find no missing segment across them. Then restores on a fifth address (the machine of a new
 * cluster): to T1 (everything acknowledged before present, nothing sent after; the same check claiming T1 + 20 s must
 * fail), to the latest WAL (everything acknowledged present), and, after every node of the cluster is killed and its
 * data deleted, to the latest again, measuring the recovery point against archive_timeout. The restores to T1 and to
 * the latest are test restores beside a live cluster: their node reads the repository (restore --repository DIR) but
 * does not archive into it, or the new timeline it leads would become the one "latest" follows. The replacement after
 * the disaster archives, as a new cluster's leader must; it is seen to lead a timeline the repository did not have and
 * to archive its history there.
 */
final class Pitr {
    static final String SCENARIO = "pitr";
    static final Path BASE = Path.of("/tmp/cbit-pitr");
    static final Path REPOSITORY = BASE.resolve("repo");
    static final String RESTORE_ADDRESS = "127.0.0.198";
    /** The writer and the leader watch stop by themselves after this long. */
    static final int MAX_SECONDS = 3600;
    /** The negative control claims the restore to T1 reached this many seconds later. */
    static final double CONTROL_SECONDS = 20;
    /** backup.archive_timeout (the default, written out): the recovery point's target. */
    static final int ARCHIVE_TIMEOUT = 60;
    /** How long the writer runs before every node is lost: more than one archive_timeout. */
    static final int RPO_WRITE_SECONDS = 100;
    private static final Pattern FULL_BACKUP = Pattern.compile("(?m)^\\d{8}-\\d{6}F\\s+full\\s");
    private static final Pattern MISSING = Pattern.compile("(\\d+) segment\\(s\\) missing");
    private static final Pattern HISTORY = Pattern.compile("^([0-9A-F]{8})\\.history");
    private static final Pattern LAST_ARCHIVED = Pattern.compile("last archived ([0-9A-F]{24})");

    private final Chaos chaos;
    private final RestoreNode target;
    private final Path secrets = BASE.resolve("secrets.json");

    Pitr(Chaos chaos, RestoreNode target) {
        this.chaos = chaos;
        this.target = target;
    }

    /** The harness's options for this scenario: its own addresses, node roots and result files. */
    static Chaos.Options options(Path repo, int runs, int ttl, boolean sync) {
        return new Chaos.Options(runs, ttl, sync, BASE.resolve("cluster"),
                List.of("127.0.0.195", "127.0.0.196", "127.0.0.197"), "127.0.0.194", repo.resolve("docs/RESULTS.md"),
                repo.resolve("docs/results/pitr.json"), repo.resolve("docs/results"));
    }

    /**
     * chef-backend.rb lines of every node that archives: the cluster's and the replacement's. No scheduled backups: the
     * scenario takes its own with backup --repository, which holds no cluster-wide lock, so a scheduled one on another
     * node could run at the same moment.
     */
    static List<String> repositorySettings() {
        return List.of("backup.repository = '" + REPOSITORY + "'", "backup.archive_timeout = " + ARCHIVE_TIMEOUT,
                "backup.full_every_hours = 0", "backup.diff_every_hours = 0");
    }

    /** bin/chaos pitr: the runs, then the report; exit 0 when every run passed. */
    static int main(Path repo, Chaos.Options opt) {
        try {
            List<PitrRun> runs = runAll(repo, opt);
            PitrReport.write(opt, runs);
            System.out.println("wrote " + opt.report() + " and " + opt.json());
            return !runs.isEmpty() && runs.stream().allMatch(PitrRun::passed) ? 0 : 1;
        } catch (Exception e) {
            System.err.println("chaos: " + e.getMessage());
            return 1;
        }
    }

    /** The runs; everything they started ended and /tmp/cbit-pitr removed at the end, also on failure or Ctrl-C. */
    static List<PitrRun> runAll(Path repo, Chaos.Options opt) {
        Chaos c = new Chaos(repo, opt, null, "pitr").withSettings(repositorySettings());
        Pitr p = new Pitr(c, new RestoreNode(repo.resolve("bin/chef-backend-ctl"), BASE.resolve("restore"),
                RESTORE_ADDRESS));
        Thread hook = new Thread(p::tearDown, "pitr-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            List<PitrRun> runs = new ArrayList<>();
            for (int r = 1; r <= opt.runs(); r++) {
                runs.add(p.run(r));
            }
            return runs;
        } finally {
            p.tearDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // shutting down already
            }
        }
    }

    void tearDown() {
        target.close();
        chaos.close();
        try {
            FileTrees.deleteTree(BASE);
        } catch (IOException e) {
            Chaos.log("removing %s failed: %s", BASE, e.getMessage());
        }
    }

    ChefBackendCluster cb() {
        return chaos.cb;
    }

    PitrRun run(int run) {
        Chaos.log("--- %s run %d", SCENARIO, run);
        PitrRun out = new PitrRun(run);
        out.archiveTimeout = ARCHIVE_TIMEOUT;
        double began = Procs.now();
        Writer w = null;
        LeaderWatch watch = null;
        try {
            fresh();
            out.synchronous = chaos.syncOn;
            watch = LeaderWatch.start(chaos.opt.addresses(), MAX_SECONDS);
            Writer writer = Writer.start(cb(), 50, MAX_SECONDS);
            w = writer;
            awaitAcks(writer, 20);
            backup(out);
            double t0 = Procs.now();
            out.leaderMoves.add(failover("failover 1"));
            out.t1 = recordT1(writer);
            double controlEnd = out.t1.at() + CONTROL_SECONDS + 5;
            if (!Procs.waitUntil(Duration.ofSeconds(120), () -> writer.firstAckAfter(controlEnd) != null)) {
                throw new IllegalStateException("no write acknowledged " + (CONTROL_SECONDS + 5) + " s after T1");
            }
            out.leaderMoves.add(failover("failover 2"));
            out.leaderMoves.add(switchover());
            double settled = Procs.now();
            if (!Procs.waitUntil(Duration.ofSeconds(30), () -> writer.firstAckAfter(settled) != null)) {
                throw new IllegalStateException("no write acknowledged within 30 s of the healed switchover");
            }
            w.close();
            watch.close();
            List<Writer.Ack> acks = w.acks();
            List<LeaderWatch.Sweep> sweeps = watch.sweeps();
            out.acked = acks.size();
            out.leaderChanges = (int) LeaderWatch.changes(sweeps).stream().filter(s -> s.at() >= t0).count();
            out.doubleLeaderSweeps = LeaderWatch.doubleLeaders(sweeps).size();
            switchAndAwaitArchived(out);
            backupCheck(out);
            restoreToT1(out, acks);
            restoreLatest(out, acks);
            recoveryPoint(out);
        } catch (Chaos.NotEffective e) {
            out.error = "the crash did not take effect: " + e.getMessage();
        } catch (Exception e) {
            out.error = e.getClass().getSimpleName() + ": " + e.getMessage();
        } finally {
            if (w != null) {
                w.close();
            }
            if (watch != null) {
                watch.close();
            }
            target.close();
            out.seconds = Procs.now() - began;
        }
        if (out.error != null) {
            Chaos.log("%s run %d FAILED: %s", SCENARIO, run, out.error);
        }
        report(out);
        return out;
    }

    /** A healed synchronous cluster archiving into an empty repository, and the secrets an operator keeps aside. */
    private void fresh() throws Exception {
        tearDown();
        Files.createDirectories(REPOSITORY); // empty and root's: the agent gives it to PostgreSQL's user
        chaos.setUp();
        chaos.setSynchronous(chaos.opt.synchronous());
        awaitHealed("the cluster was built");
        Files.copy(cb().nodeRoot(0).resolve("etc/chef-backend/chef-backend-secrets.json"), secrets,
                StandardCopyOption.REPLACE_EXISTING);
    }

    private static void awaitAcks(Writer w, int n) {
        if (!Procs.waitUntil(Duration.ofSeconds(30), () -> w.acks().size() >= n)) {
            throw new IllegalStateException("the writer got fewer than " + n + " acknowledgements through HAProxy in 30 s");
        }
    }

    private void awaitHealed(String after) {
        String unhealed = chaos.healCheck.await(Duration.ofSeconds(300));
        if (unhealed != null) {
            throw new IllegalStateException("not healed 300 s after " + after + ": " + unhealed);
        }
    }

    /** Node i's agent /status, null when it does not answer. */
    private JsonNode status(int i) {
        String body = Procs.httpGet("http://" + chaos.addr(i) + ":7331/status");
        try {
            return body == null ? null : Chaos.JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    private int leader() {
        int l = cb().leader();
        if (l < 0) {
            throw new IllegalStateException("no node answers 200 on /leader");
        }
        return l;
    }

    /** backup --repository on a follower once the leader has made the stanza; then backup-list must show it. */
    private void backup(PitrRun out) {
        int l = leader();
        if (!Procs.waitUntil(Duration.ofSeconds(120), () -> {
            JsonNode s = status(l);
            return s != null && s.path("backup").path("stanza_ready").asBoolean();
        })) {
            throw new IllegalStateException(cb().nodeName(l) + " did not report the repository's stanza ready in 120 s");
        }
        int f = l == 0 ? 1 : 0;
        String name = cb().nodeName(f);
        double from = Procs.now();
        Procs.Result b = cb().ctl(f, Duration.ofSeconds(900), "backup", "--repository");
        if (b.code() != 0) {
            throw new IllegalStateException("backup --repository on " + name + ": exit " + b.code() + ": " + b.all());
        }
        out.backupSeconds = Procs.now() - from;
        String[] listing = {""};
        if (!Procs.waitUntil(Duration.ofSeconds(60), () -> {
            listing[0] = cb().ctl(f, Duration.ofSeconds(60), "backup-list").all();
            return FULL_BACKUP.matcher(listing[0]).find();
        })) {
            throw new IllegalStateException("backup-list on " + name + " shows no full backup: " + listing[0]);
        }
        Chaos.log("full backup on the follower %s in %.1f s; backup-list:%n%s", name, out.backupSeconds, listing[0]);
    }

    /** kill -9 of every process of the leader's host (the host-crash fault); started again; healed. */
    private String failover(String what) throws Exception {
        int l = leader();
        String old = cb().nodeName(l);
        double from = Procs.now();
        int killed = chaos.crashHost(l);
        if (!Procs.waitUntil(Duration.ofSeconds(90), () -> {
            int n = cb().leader();
            return n >= 0 && n != l;
        })) {
            throw new IllegalStateException(what + ": no other node led within 90 s of the crash of " + old);
        }
        double elected = Procs.now() - from;
        String now = cb().nodeName(cb().leader());
        cb().restartHost(l);
        awaitHealed(what);
        String line = String.format(Locale.ROOT, "%s: kill -9 of %d processes of the leader %s; %s led after %.1f s; "
                + "healed %.0f s after the crash", what, killed, old, now, elected, Procs.now() - from);
        Chaos.log("%s", line);
        return line;
    }

    /** promote of the synchronous standby (a switchover), run on it; healed. */
    private String switchover() {
        int l = leader();
        String standby = chaos.syncOn ? chaos.syncStandby() : null;
        int t = -1;
        for (int i = 0; i < chaos.opt.addresses().size() && t < 0; i++) {
            if (i != l && (standby == null || cb().nodeName(i).equals(standby))) {
                t = i;
            }
        }
        if (t < 0) {
            throw new IllegalStateException("no follower to promote (synchronous standby " + standby + ")");
        }
        int to = t;
        String name = cb().nodeName(to);
        double from = Procs.now();
        Procs.Result p = cb().ctl(to, Duration.ofSeconds(240), "promote", name);
        if (p.code() != 0) {
            throw new IllegalStateException("promote " + name + ": " + p.all());
        }
        if (!Procs.waitUntil(Duration.ofSeconds(30), () -> cb().leader() == to)) {
            throw new IllegalStateException("promote " + name + " exited 0, but " + name + " does not lead");
        }
        awaitHealed("promote " + name);
        String line = String.format(Locale.ROOT, "switchover: promote %s (from %s); healed %.0f s after the command",
                name, cb().nodeName(l), Procs.now() - from);
        Chaos.log("%s", line);
        return line;
    }

    /** T1: a whole second while the writer runs, once writes flow again after the first failover. */
    private static PitrCheck.Target recordT1(Writer w) {
        double healed = Procs.now();
        if (!Procs.waitUntil(Duration.ofSeconds(30), () -> w.firstAckAfter(healed) != null)) {
            throw new IllegalStateException("no write acknowledged within 30 s of the healed failover");
        }
        Procs.sleep(3000); // some writes on this side of T1 after the failover
        PitrCheck.Target t1 = PitrCheck.Target.of(Instant.now(), Procs.now());
        Chaos.log("T1 = '%s'", t1.time());
        return t1;
    }

    /** pg_switch_wal() on the leader; back when its archiver reports the finished segment archived. */
    private void switchAndAwaitArchived(PitrRun out) {
        int l = leader();
        String segment = query(chaos.addr(l), "select pg_walfile_name(pg_switch_wal())");
        out.switchedSegment = segment;
        if (!Procs.waitUntil(Duration.ofSeconds(120), () -> {
            JsonNode s = status(l);
            String last = s == null ? "" : s.path("backup").path("archiver").path("last_archived_wal").asText("");
            return last.length() == 24 && last.compareTo(segment) >= 0;
        })) {
            throw new IllegalStateException("the leader " + cb().nodeName(l) + " did not report " + segment
                    + " archived within 120 s: " + status(l).path("backup"));
        }
        String row = cb().ctl(l, Duration.ofSeconds(60), "status").out().lines()
                .filter(x -> x.strip().startsWith("archive")).findFirst().orElse("");
        out.archiveRow = row.strip().replaceAll("\\s+", " ");
        Matcher m = LAST_ARCHIVED.matcher(row);
        if (!m.find() || m.group(1).compareTo(segment) < 0) {
            throw new IllegalStateException("the leader's archive row does not show " + segment + " archived: " + row);
        }
        Chaos.log("switched WAL on %s; %s archived: %s", cb().nodeName(l), segment, out.archiveRow);
    }

    private void backupCheck(PitrRun out) throws SQLException {
        int l = leader();
        out.clusterTimeline = timeline(cb(), chaos.addr(l));
        int node = (l + 1) % chaos.opt.addresses().size();
        Procs.Result r = cb().ctl(node, Duration.ofSeconds(300), "backup-check");
        out.backupCheckExit = r.code();
        out.backupCheckSummary = r.all();
        Matcher m = MISSING.matcher(r.out());
        out.missingSegments = r.code() == 0 ? 0 : m.find() ? Long.parseLong(m.group(1)) : -1;
        Chaos.log("backup-check on %s: exit %d: %s (the leader is on timeline %d)", cb().nodeName(node), r.code(),
                out.backupCheckSummary, out.clusterTimeline);
    }

    /** A test restore beside the live cluster: it reads the repository and does not archive into it. */
    private Set<Long> testRestore(List<String> targetOptions, double[] seconds, long[] timeline) throws Exception {
        target.prepare(Chaos.settings(chaos.opt.ttl()));
        double from = Procs.now();
        Procs.Result r = target.restore(REPOSITORY, secrets, targetOptions);
        seconds[0] = Procs.now() - from;
        if (r.code() != 0) {
            throw new IllegalStateException("restore --repository " + String.join(" ", targetOptions) + " on "
                    + RESTORE_ADDRESS + ": exit " + r.code() + ": " + r.all());
        }
        Set<Long> ids = target.writtenIds(cb());
        timeline[0] = target.timeline(cb());
        target.close();
        return ids;
    }

    private void restoreToT1(PitrRun out, List<Writer.Ack> acks) throws Exception {
        double[] seconds = {Double.NaN};
        long[] timeline = {0};
        Set<Long> ids = testRestore(List.of("--target-time", out.t1.time()), seconds, timeline);
        out.t1RestoreSeconds = seconds[0];
        out.t1Timeline = timeline[0];
        out.atT1 = PitrCheck.atTarget(acks, out.t1, ids);
        out.control = PitrCheck.atTarget(acks, out.t1.plus(CONTROL_SECONDS), ids);
        Chaos.log("restore to T1 in %.0f s (timeline %d): %s; negative control (as if T1 + %.0f s): %s", seconds[0],
                timeline[0], out.atT1, CONTROL_SECONDS, out.control);
    }

    private void restoreLatest(PitrRun out, List<Writer.Ack> acks) throws Exception {
        double[] seconds = {Double.NaN};
        long[] timeline = {0};
        Set<Long> ids = testRestore(List.of(), seconds, timeline);
        out.latestRestoreSeconds = seconds[0];
        out.latestTimeline = timeline[0];
        out.latestMissing = PitrCheck.missing(acks, ids).size();
        out.latestPresent = acks.size() - out.latestMissing;
        Chaos.log("restore to the latest WAL in %.0f s (timeline %d): %d of %d acknowledged writes present", seconds[0],
                timeline[0], out.latestPresent, acks.size());
    }

    /**
     * The writer runs; every node is lost at once (kill -9 of everything of the three node roots, then their
     * PostgreSQL data deleted); a new machine restores the latest WAL, archiving as the new cluster's leader.
     */
    private void recoveryPoint(PitrRun out) throws Exception {
        out.repositoryTimelineBefore = repositoryTimelines().stream().mapToLong(Long::longValue).max().orElse(1);
        Writer w = Writer.start(cb(), 50, MAX_SECONDS);
        List<Writer.Ack> acks;
        try {
            awaitAcks(w, 20);
            Procs.sleep(RPO_WRITE_SECONDS * 1000L); // a steady load across more than one archive_timeout
            List<Long> pids = new ArrayList<>();
            for (int i = 0; i < chaos.opt.addresses().size(); i++) {
                pids.addAll(cb().hostProcesses(i));
            }
            Procs.kill9(pids);
            w.close();
            if (!Procs.waitUntil(Duration.ofSeconds(10), () -> pids.stream().noneMatch(Procs::alive)
                    && chaos.opt.addresses().stream().noneMatch(a -> Procs.open(a, 5432)))) {
                throw new Chaos.NotEffective("a node of the cluster still has live processes or PostgreSQL answers");
            }
            acks = w.acks();
        } finally {
            w.close();
        }
        for (int i = 0; i < chaos.opt.addresses().size(); i++) {
            FileTrees.emptyDirectory(cb().dataDisk(i));
            if (hasPostgresData(cb().nodeRoot(i))) {
                throw new Chaos.NotEffective("PostgreSQL data left under " + cb().nodeRoot(i));
            }
        }
        Chaos.log("every node lost: %d writes acknowledged in the last %d s; restoring the latest on %s", acks.size(),
                RPO_WRITE_SECONDS, RESTORE_ADDRESS);
        List<String> settings = new ArrayList<>(Chaos.settings(chaos.opt.ttl()));
        settings.addAll(repositorySettings());
        target.prepare(settings);
        double from = Procs.now();
        Procs.Result r = target.restore(null, secrets, List.of());
        out.rpoRestoreSeconds = Procs.now() - from;
        if (r.code() != 0) {
            throw new IllegalStateException("restore --repository on " + RESTORE_ADDRESS + " after every node was lost: "
                    + "exit " + r.code() + ": " + r.all());
        }
        out.rpo = PitrCheck.recoveryPoint(acks, target.writtenIds(cb()));
        out.rpoTimeline = target.timeline(cb());
        out.rpoHistoryArchived = Procs.waitUntil(Duration.ofSeconds(120),
                () -> repositoryTimelines().contains(out.rpoTimeline));
        Chaos.log("restore after the loss of every node in %.0f s: %s; timeline %d (the repository had up to %d), its "
                + "history %s", out.rpoRestoreSeconds, out.rpo, out.rpoTimeline, out.repositoryTimelineBefore,
                out.rpoHistoryArchived ? "archived" : "NOT archived within 120 s");
        target.close();
    }

    private static boolean hasPostgresData(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.anyMatch(p -> p.getFileName().toString().equals("PG_VERSION"));
        }
    }

    /** The timelines whose history file the repository holds (a posix repository, read directly). */
    static Set<Long> repositoryTimelines() {
        Set<Long> timelines = new TreeSet<>();
        Path archive = REPOSITORY.resolve("archive/chef-backend");
        if (!Files.isDirectory(archive)) {
            return timelines;
        }
        try (Stream<Path> walk = Files.walk(archive, 2)) {
            walk.map(p -> HISTORY.matcher(p.getFileName().toString())).filter(Matcher::find)
                    .forEach(m -> timelines.add(Long.parseLong(m.group(1), 16)));
        } catch (IOException e) {
            throw new IllegalStateException("listing " + archive + ": " + e.getMessage(), e);
        }
        return timelines;
    }

    /** The timeline of the PostgreSQL on {@code host}, from the name of the WAL segment it writes (a primary). */
    static long timeline(HaCluster cluster, String host) throws SQLException {
        try (Connection c = cluster.connect(host, 5, 30); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select pg_walfile_name(pg_current_wal_lsn())")) {
            rs.next();
            return Long.parseLong(rs.getString(1).substring(0, 8), 16);
        }
    }

    private String query(String host, String sql) {
        try (Connection c = cb().connect(host, 5, 60); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + " on " + host + ": " + e.getMessage(), e);
        }
    }

    static void report(PitrRun o) {
        Chaos.log("%s run %d: %s; %d acked; backup %.0f s; backup-check exit %d (%d missing); T1 '%s': %s; control: %s; "
                + "latest: %d missing; RPO %s; restores %.0f / %.0f / %.0f s; timelines %d / %d / %d / %d; %.0f s",
                SCENARIO, o.run, o.passed() ? "PASSED" : "FAILED", o.acked, o.backupSeconds, o.backupCheckExit,
                o.missingSegments, o.t1 == null ? "" : o.t1.time(), o.atT1, o.control, o.latestMissing, o.rpo,
                o.t1RestoreSeconds, o.latestRestoreSeconds, o.rpoRestoreSeconds, o.clusterTimeline, o.t1Timeline,
                o.latestTimeline, o.rpoTimeline, o.seconds);
    }
}
