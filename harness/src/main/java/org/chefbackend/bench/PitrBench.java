package org.chefbackend.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
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
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.chefbackend.system.FileTrees;
import org.chefbackend.system.Poll;

/**
 * {@code bin/bench pitr} (issue 22): a point-in-time restore of a ~1 GiB node (pgbench --join-scale) to a chosen
 * second, timed next to the documents' tarball {@code restore} of the same data on the same node. Its own one-node
 * cluster on 127.0.0.74 (HAProxy .75) with a repository under the bench root: a restore makes a new cluster, which a
 * node with live peers would not be. Patroni has no backup of its own; its column stays empty.
 */
final class PitrBench {
    static final DateTimeFormatter TARGET = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss+00").withZone(ZoneOffset.UTC);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path repo;
    private final Path root;
    private final int scale;
    private final List<String> settings;

    PitrBench(Path repo, Path root, int scale, List<String> settings) {
        this.repo = repo;
        this.root = root;
        this.scale = scale;
        this.settings = settings;
    }

    BenchTable run() throws Exception {
        Path repository = root.resolve("repository");
        FileTrees.deleteTree(root);
        Files.createDirectories(repository);
        List<String> config = new ArrayList<>(settings);
        config.addAll(List.of("backup.repository = '" + repository + "'", "backup.archive_timeout = 10",
                "backup.full_every_hours = 0", "backup.diff_every_hours = 0"));
        try (ChefBackendCluster c = new ChefBackendCluster(repo, root.resolve("node"), List.of("127.0.0.74"),
                "127.0.0.75", config)) {
            c.coldStart();
            Map<String, String> env = Map.of("PGPASSWORD", c.password(), "PGCONNECT_TIMEOUT", "10", "PGSSLMODE", "disable");
            System.out.println("pitr: loading pgbench scale " + scale);
            check("pgbench -i", Procs.run(Duration.ofSeconds(3600), env, List.of("pgbench", "-h", c.proxy(), "-U",
                    "chef_pgsql", "-i", "-q", "-s", String.valueOf(scale), "postgres")));
            long bytes = databaseBytes(c);
            Procs.Result tarball = c.ctl(0, Duration.ofSeconds(3600), "backup", "-f", "-y", "--quiet");
            check("backup", tarball);
            Path archive;
            try (Stream<Path> files = Files.list(c.nodeRoot(0).resolve("var/opt/chef-backup"))) {
                archive = files.filter(p -> p.toString().endsWith(".tgz")).findFirst().orElseThrow();
            }
            Path saved = Files.move(archive, root.resolve(archive.getFileName()));
            Path secrets = Files.copy(c.nodeRoot(0).resolve("etc/chef-backend/chef-backend-secrets.json"),
                    root.resolve("secrets.json"));
            Procs.Result repoBackup = c.ctl(0, Duration.ofSeconds(3600), "backup", "--repository", "-f", "-y");
            check("backup --repository", repoBackup);
            // writes after the backups, a chosen second among them, more writes after it (-n: pgbench would otherwise
            // truncate pgbench_history at its start, and the rows before the target with it)
            check("pgbench", Procs.run(Duration.ofSeconds(120), env, List.of("pgbench", "-h", c.proxy(), "-U",
                    "chef_pgsql", "-n", "-T", "15", "-c", "2", "postgres")));
            Instant t = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
            Poll.until(Duration.ofSeconds(5), Duration.ofMillis(100), () -> Instant.now().isAfter(t.plusMillis(1500)));
            check("pgbench", Procs.run(Duration.ofSeconds(120), env, List.of("pgbench", "-h", c.proxy(), "-U",
                    "chef_pgsql", "-n", "-T", "10", "-c", "2", "postgres")));
            System.out.println("pitr: target " + TARGET.format(t) + "; history " + text(c, "select now()::text || ' rows '"
                    + " || count(*) || ' from ' || min(mtime)::text || ' to ' || max(mtime)::text from pgbench_history"));
            long before = count(c, "select count(*) from pgbench_history where mtime < '" + TARGET.format(t) + "'");
            long all = count(c, "select count(*) from pgbench_history");
            switchAndWait(c);

            Procs.Result pitr = c.ctl(0, Duration.ofSeconds(7200), "restore", "--repository", "--target-time",
                    TARGET.format(t), "-s", secrets.toString(), "-y", "--quiet");
            check("restore --repository", pitr);
            waitLeading(c);
            long restored = count(c, "select count(*) from pgbench_history");
            long after = count(c, "select count(*) from pgbench_history where mtime >= '" + TARGET.format(t) + "'");
            Procs.Result plain = c.ctl(0, Duration.ofSeconds(7200), "restore", saved.toString(), "-y", "--quiet");
            check("restore", plain);
            waitLeading(c);
            long tarballRows = count(c, "select count(*) from pgbench_history");

            BenchTable table = new BenchTable("pitr", "Point-in-time restore of ~1 GiB, next to the documents' tarball "
                    + "restore of the same data");
            table.row("data (all databases)", BenchTable.f("%.2f GiB", bytes / 1073741824.0), "", "");
            table.row("`backup -f` (tarball)", BenchTable.f("%.1f s", tarball.seconds()), "", "");
            table.row("`backup --repository -f` (pgBackRest full)", BenchTable.f("%.1f s", repoBackup.seconds()), "", "");
            table.row("`restore TARBALL` to leading again", BenchTable.f("%.1f s", plain.seconds()), "", "");
            table.row("`restore --repository --target-time` to leading again", BenchTable.f("%.1f s", pitr.seconds()),
                    "", "");
            table.row("point-in-time / tarball restore", BenchTable.ratio(pitr.seconds(), plain.seconds()), "", "");
            table.row("pgbench_history rows: before the target / after it / restored", before + " / " + (all - before)
                    + " / " + restored, "", "");
            table.target("a restore to a chosen second holds exactly the rows committed before it", restored + " of "
                    + before + " (rows at or after it: " + after + ")", restored == before && after == 0);
            table.data.put("bytes", bytes).put("tarball_restore_s", plain.seconds()).put("pitr_restore_s", pitr.seconds())
                    .put("rows_before_target", before).put("rows_restored", restored).put("rows_after_target_restored", after)
                    .put("tarball_rows", tarballRows).put("target", TARGET.format(t));
            table.note("One node (127.0.0.74), pgbench scale " + scale + "; both restores on the same node, each timed from "
                    + "the command's start until it exits with the node leading (the tarball restore also unpacks and "
                    + "verifies the archive; the point-in-time restore restores the pgBackRest full backup into a staging "
                    + "directory and replays the archived WAL up to the target there before replacing the data). Patroni has "
                    + "no backup or point-in-time restore of its own (it leaves them to pgBackRest, WAL-G or Barman).");
            return table;
        } finally {
            FileTrees.deleteTree(root);
        }
    }

    private static void check(String what, Procs.Result r) {
        if (r.code() != 0) {
            throw new IllegalStateException(what + ": " + r.all());
        }
    }

    private static long count(ChefBackendCluster c, String sql) throws Exception {
        try (Connection conn = c.connect(c.addresses().get(0), 10, 600); Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String text(ChefBackendCluster c, String sql) throws Exception {
        try (Connection conn = c.connect(c.addresses().get(0), 10, 600); Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static long databaseBytes(ChefBackendCluster c) throws Exception {
        return count(c, "select sum(pg_database_size(datname)) from pg_database");
    }

    private static void waitLeading(ChefBackendCluster c) {
        if (!Poll.until(Duration.ofSeconds(300), Duration.ofMillis(500), () -> c.leader() == 0)) {
            throw new IllegalStateException("the restored node does not lead");
        }
    }

    /** A new WAL segment, and the leader's archiver past it. */
    private static void switchAndWait(ChefBackendCluster c) throws Exception {
        String segment;
        try (Connection conn = c.connect(c.addresses().get(0), 10, 60); Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery("select pg_walfile_name(pg_switch_wal())")) {
            rs.next();
            segment = rs.getString(1);
        }
        boolean archived = Poll.until(Duration.ofSeconds(120), Duration.ofMillis(500), () -> {
            Procs.Result s = Procs.run(Duration.ofSeconds(10), "curl", "-s", "http://127.0.0.74:7331/status");
            try {
                JsonNode n = JSON.readTree(s.out());
                return n.at("/backup/archiver/last_archived_wal").asText("").compareTo(segment) >= 0;
            } catch (Exception e) {
                return false;
            }
        });
        if (!archived) {
            throw new IllegalStateException("segment " + segment + " was not archived within 120 s");
        }
        System.out.printf(Locale.ROOT, "pitr: %s archived%n", segment);
    }
}
