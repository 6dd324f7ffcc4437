package org.chefbackend.recovery;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.postgres.PgpassFile;
import org.chefbackend.postgres.PostgresAdmin;
import org.chefbackend.postgres.PostgresLayout;
import org.chefbackend.system.Binaries;
import org.chefbackend.system.Distribution;
import org.chefbackend.system.FileTrees;

/**
 * {@code backup}: a consistent base backup of this node's PostgreSQL (pg_basebackup through the replication role,
 * WAL streamed alongside, so the copy restores on its own), chef-backend.rb and the secrets, and a manifest, packed as
 * {@code <root>/var/opt/chef-backup/chef-backup-YYYY-MM-DD-HH-MM-SS.tgz}. The search index is not included, as in the
 * original since 2.3.16: after a restore, {@code chef-server-ctl reindex --all} rebuilds it.
 */
public final class Backup {
    public static final String DIRECTORY = "/var/opt/chef-backup";
    /** Room kept free besides the copy and the archive. */
    static final long MARGIN_BYTES = 64L << 20;
    private static final Pattern START = Pattern.compile("write-ahead log start point: ([0-9A-F]+/[0-9A-F]+) on timeline (\\d+)");
    private static final Pattern END = Pattern.compile("write-ahead log end point: ([0-9A-F]+/[0-9A-F]+)");
    private static final Pattern PERCENT = Pattern.compile("\\((\\d+)%\\)");

    /** What a finished backup reports. */
    public record Result(Path archive, long databaseBytes, long archiveBytes, String startLsn, String endLsn,
            long timeline, Duration copy, Duration total) {
    }

    private Backup() {
    }

    public static Path directory(NodeContext ctx) {
        return ctx.paths().resolve(DIRECTORY);
    }

    /**
     * How much more room a backup of {@code databaseBytes} needs than {@code usableBytes} offers (the copy, then
     * an archive at most as large, plus a margin); empty when it fits.
     */
    public static Optional<Long> shortfall(long databaseBytes, long usableBytes) {
        long needed = 2 * databaseBytes + MARGIN_BYTES;
        return needed > usableBytes ? Optional.of(needed - usableBytes) : Optional.empty();
    }

    static long needed(long databaseBytes) {
        return 2 * databaseBytes + MARGIN_BYTES;
    }

    /** The size of every database on this node's PostgreSQL. */
    public static long databaseBytes(NodeContext ctx) throws SQLException {
        try (Connection c = PostgresAdmin.connect(ctx, "postgres", 10_000); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select sum(pg_database_size(oid))::bigint from pg_database")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * Takes the backup.
     *
     * @param role this node's role when it was taken (for the manifest)
     * @param step receives each finished step's description
     * @param progress receives pg_basebackup's progress (a line per 10 %) and other details
     */
    public static Result take(NodeContext ctx, String role, Duration timeout, Consumer<String> step,
            Consumer<String> progress) throws IOException, SQLException {
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        long dbBytes = databaseBytes(ctx);
        Path dir = directory(ctx);
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        long usable = Files.getFileStore(dir).getUsableSpace();
        Optional<Long> short_ = shortfall(dbBytes, usable);
        if (short_.isPresent()) {
            throw new NoRoomException("not enough free space in " + dir + " for a backup: it needs about "
                    + mb(needed(dbBytes)) + " MB (the database is " + mb(dbBytes) + " MB, copied, then compressed), "
                    + mb(usable) + " MB are free; free " + mb(short_.get()) + " MB more and run backup again");
        }
        step.accept("Enough free space in " + dir + ": " + mb(usable) + " MB free for a " + mb(dbBytes) + " MB database");
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd-HH-mm-ss"));
        String name = "chef-backup-" + stamp;
        Path staging = dir.resolve("." + name + ".staging");
        Path partial = dir.resolve("." + name + ".tgz.partial");
        Path archive = dir.resolve(name + ".tgz");
        PostgresLayout layout = PostgresLayout.of(ctx);
        try {
            // as root: the copy is root's until a restore hands it to the service user
            Files.createDirectories(staging);
            Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwx------"));
            Path pgpass = PgpassFile.write(ctx);
            String[] lsn = new String[3];
            int[] shown = {-10};
            long c0 = System.nanoTime();
            List<String> command = List.of(
                    Binaries.postgresBinDir().resolve("pg_basebackup").toString(),
                    "-h", ctx.publishAddress(), "-p", String.valueOf(layout.port()),
                    "-U", ctx.settings().string("postgresql.replication_user"), "-D", staging.resolve("pgsql").toString(),
                    "-X", "stream", "-c", "fast", "-P", "-v", "--no-password", "--label=chef-backend " + name);
            try {
                Processes.run(command, staging, Map.of("PGPASSFILE", pgpass.toString(), "PGSSLMODE", "require",
                        "PGCONNECT_TIMEOUT", "10"), null, deadline, line -> {
                            Matcher s = START.matcher(line);
                            if (s.find()) {
                                lsn[0] = s.group(1);
                                lsn[2] = s.group(2);
                            }
                            Matcher e = END.matcher(line);
                            if (e.find()) {
                                lsn[1] = e.group(1);
                            }
                            Matcher p = PERCENT.matcher(line);
                            if (p.find() && Integer.parseInt(p.group(1)) >= shown[0] + 10) {
                                shown[0] = Integer.parseInt(p.group(1));
                                progress.accept("PostgreSQL base backup: " + line);
                            }
                        });
            } catch (Processes.TimeoutException e) {
                throw new IOException("the backup did not finish within " + timeout.toSeconds()
                        + " s (--timeout); nothing was kept");
            }
            if (lsn[0] == null || lsn[1] == null) {
                throw new IOException("pg_basebackup did not report the backup's WAL positions");
            }
            Duration copy = Duration.ofNanos(System.nanoTime() - c0);
            step.accept("PostgreSQL: consistent base backup from " + role + " " + ctx.nodeName() + ", WAL "
                    + lsn[0] + " to " + lsn[1] + " (timeline " + lsn[2] + ")");
            Path config = staging.resolve("config");
            Files.createDirectories(config);
            Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rwx------"));
            for (Path f : List.of(ctx.paths().configFile(), ctx.paths().secretsFile())) {
                if (Files.exists(f)) {
                    Files.copy(f, config.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(config.resolve(f.getFileName()), PosixFilePermissions.fromString("rw-------"));
                }
            }
            step.accept("Configuration: chef-backend.rb and chef-backend-secrets.json");
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("created_at", Instant.now().toString());
            info.put("chef_backend_version", Distribution.version());
            info.put("postgresql_version", Files.readString(staging.resolve("pgsql/PG_VERSION")).trim());
            info.put("node", Map.of("name", ctx.nodeName(), "guid", ctx.nodeGuid(), "publish_address",
                    ctx.publishAddress(), "role", role));
            info.put("lsn", Map.of("start", lsn[0], "end", lsn[1], "timeline", Long.parseLong(lsn[2])));
            info.put("database_bytes", dbBytes);
            info.put("elasticsearch", "not included; run chef-server-ctl reindex --all after a restore");
            Manifest.write(staging, info, Manifest.checksums(staging));
            step.accept("Manifest: versions, node, WAL position and SHA-256 of every file");
            progress.accept("compressing into " + archive);
            try {
                // gzip -1: about three times faster than the default level, the archive only slightly larger
                Processes.run(List.of("tar", "-C", staging.toString(), "-I", "gzip -1", "-cf", partial.toString(), "."),
                        dir, Map.of(),
                        null, deadline, line -> progress.accept("tar: " + line));
            } catch (Processes.TimeoutException e) {
                throw new IOException("the backup did not finish within " + timeout.toSeconds()
                        + " s (--timeout); nothing was kept");
            }
            Files.setPosixFilePermissions(partial, PosixFilePermissions.fromString("rw-------"));
            Files.move(partial, archive, StandardCopyOption.ATOMIC_MOVE);
            step.accept("Archive: " + archive + " (" + mb(Files.size(archive)) + " MB)");
            return new Result(archive, dbBytes, Files.size(archive), lsn[0], lsn[1], Long.parseLong(lsn[2]), copy,
                    Duration.ofNanos(System.nanoTime() - t0));
        } finally {
            Files.deleteIfExists(partial);
            FileTrees.deleteTree(staging);
        }
    }

    static long mb(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }

    /** There is not enough room for the backup: nothing was written. */
    public static final class NoRoomException extends IOException {
        private static final long serialVersionUID = 1L;

        NoRoomException(String message) {
            super(message);
        }
    }
}
