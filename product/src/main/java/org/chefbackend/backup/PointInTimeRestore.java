package org.chefbackend.backup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceUsers;
import org.chefbackend.recovery.Processes;
import org.chefbackend.repository.PgBackRestConf;
import org.chefbackend.repository.PgBackRestFiles;
import org.chefbackend.repository.RepositorySettings;
import org.chefbackend.system.Binaries;

/**
 * {@code restore --repository}'s first half, which touches nothing of the node: pgBackRest restores the newest backup
 * before the target into a staging directory, and a private PostgreSQL (a unix socket in the staging directory, no TCP,
 * no archiving) replays the archived WAL up to the target and promotes there. Only a staging directory that got there
 * is handed on; PostgreSQL itself refuses a target it cannot reach ("recovery ended before configured recovery target
 * was reached"), and that refusal is the operator's error, with nothing deleted.
 */
public final class PointInTimeRestore {
    private PointInTimeRestore() {
    }

    /** Where recovery stops: a time in recovery_target_time syntax, an LSN, a restore point's name, or the latest WAL. */
    public record Target(String kind, String value) {
        public static final Target LATEST = new Target("latest", null);

        /** pgBackRest's restore options for this target. */
        List<String> options() {
            if (kind.equals("latest")) {
                return List.of("--type=default");
            }
            return List.of("--type=" + kind, "--target=" + value, "--target-action=promote");
        }

        public String describe() {
            return switch (kind) {
                case "latest" -> "the latest archived WAL";
                case "time" -> "time " + value;
                case "lsn" -> "LSN " + value;
                default -> "restore point '" + value + "'";
            };
        }
    }

    /** What recovery said about where it stopped (PostgreSQL's own log lines). */
    public record Result(Path dataDir, List<String> stoppedAt) {
    }

    /**
     * Restores into {@code staging/pgsql} and recovers to {@code target} there; {@code staging} must be new or empty.
     *
     * @param repository the repository to read (restore --repository DIR), with this node's backup.* options
     */
    public static Result stage(NodeContext node, RepositorySettings repository, Target target, Path staging,
            Duration timeout, Consumer<String> progress) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String user = node.settings().string("postgresql.username");
        ServiceUsers.ensureUser(user);
        ServiceUsers.ownedDirectory(staging, user, "rwx------");
        Path data = staging.resolve("pgsql");
        Path socket = staging.resolve("run");
        ServiceUsers.ownedDirectory(socket, user, "rwx------");
        PgBackRestFiles files = new PgBackRestFiles(staging.resolve("pgbackrest"), staging.resolve("pgbackrest/log"),
                PgBackRestFiles.of(node).certificate());
        for (Path dir : List.of(files.dir(), files.logDir(), files.lockDir(), files.spoolDir())) {
            ServiceUsers.ownedDirectory(dir, user, "rwx------");
        }
        int port = node.settings().intValue("postgresql.port");
        String conf = PgBackRestConf.render(repository, files, new PgBackRestConf.LocalPostgres(data.toString(), port,
                socket.toString(), node.settings().string("postgresql.db_superuser")), null,
                node.secrets().repositoryCipherPass());
        ServiceUsers.writeOwned(files.conf(), conf.getBytes(StandardCharsets.UTF_8), user, "rw-------");

        List<String> restore = new ArrayList<>(List.of("/usr/bin/pgbackrest", "--config=" + files.conf(),
                "--stanza=" + RepositorySettings.STANZA, "--log-level-console=info", "--log-level-stderr=off",
                "restore", "--archive-mode=off"));
        restore.addAll(target.options());
        Processes.run(Processes.asUser(user, restore), staging, Map.of(), null, deadline, line -> {
            if (line.contains("restore backup set") || line.contains("ERROR")) {
                progress.accept(line.replaceFirst("^\\S+ \\S+ P\\d+ +\\w+: ", ""));
            }
        });
        for (String f : List.of("standby.conf", "synchronous.conf", "standby.signal")) {
            Files.deleteIfExists(data.resolve(f)); // a follower's backup: recovery follows the archive, not a leader
        }
        // beside pgBackRest's logs, not in the staging directory: it outlives a failed restore, which empties that
        Path log = Files.createDirectories(PgBackRestFiles.of(node).logDir()).resolve("restore-recovery.log");
        recover(user, data, socket, port, log, deadline);
        List<String> stopped = stoppedAt(Files.readAllLines(log));
        forgetRecoverySettings(data);
        markNewestHistoryForArchiving(data);
        return new Result(data, stopped);
    }

    /** Runs PostgreSQL on the staging directory until it has promoted at the target, then stops it cleanly. */
    static void recover(String user, Path data, Path socket, int port, Path log, long deadline) throws IOException {
        Path postgres = Binaries.postgresBinDir().resolve("postgres");
        List<String> command = Processes.asUser(user, List.of(postgres.toString(), "-D", data.toString(),
                "-c", "listen_addresses=", "-c", "unix_socket_directories=" + socket, "-c", "port=" + port,
                "-c", "archive_mode=off", "-c", "ssl=off", "-c", "hba_file=" + data.resolve("pg_hba.conf"),
                "-c", "synchronous_standby_names=", "-c", "cluster_name=chef-backend-restore",
                "-c", "log_destination=stderr", "-c", "logging_collector=off"));
        ProcessBuilder pb = new ProcessBuilder(command).directory(data.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("LANG", "C.UTF-8");
        Process p = pb.start();
        try {
            while (true) {
                if (!p.isAlive()) {
                    String problem = lastProblem(log);
                    throw new IOException("PostgreSQL stopped recovering: " + problem
                            + (problem.contains("before configured recovery target") ? " (the archived WAL ends before"
                            + " that moment, or holds no transaction after it yet: choose an earlier target, or none"
                            + " for the latest)" : "") + "; its log: " + log);
                }
                if (promoted(user, socket, port)) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("recovery did not reach the target in time; the last it logged: "
                            + lastProblem(log));
                }
                Thread.sleep(500);
            }
            p.toHandle().destroy(); // SIGTERM: smart shutdown, nobody is connected; a shutdown checkpoint follows
            if (!p.waitFor(Math.max(1, TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime())), TimeUnit.SECONDS)
                    || p.exitValue() != 0) {
                throw new IOException("the recovered PostgreSQL did not shut down cleanly: " + lastProblem(log));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while PostgreSQL recovered");
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
    }

    private static boolean promoted(String user, Path socket, int port) {
        try {
            StringBuilder out = new StringBuilder();
            Processes.run(Processes.asUser(user, List.of(Binaries.postgresBinDir().resolve("psql").toString(),
                    "-h", socket.toString(), "-p", String.valueOf(port), "-d", "postgres", "-Atc",
                    "select pg_is_in_recovery()")), socket, Map.of(), null, System.nanoTime()
                    + TimeUnit.SECONDS.toNanos(10), out::append);
            return out.toString().strip().equals("f");
        } catch (IOException e) {
            return false; // not accepting connections yet (still restoring WAL)
        }
    }

    /** Recovery's own words on where it stopped, for the operator. */
    static List<String> stoppedAt(List<String> log) {
        return log.stream().filter(l -> l.contains("recovery stopping") || l.contains("last completed transaction")
                || l.contains("selected new timeline") || l.contains("redo done at"))
                .map(l -> l.replaceFirst("^.*?(LOG|FATAL|ERROR): +", "")).toList();
    }

    private static String lastProblem(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        Optional<String> fatal = lines.stream().filter(l -> l.contains("FATAL") || l.contains("PANIC")).reduce((a, b) -> b);
        return fatal.orElse(lines.isEmpty() ? "no output" : lines.get(lines.size() - 1))
                .replaceFirst("^.*?(FATAL|PANIC|LOG|ERROR): +", "");
    }

    /**
     * pgBackRest put restore_command and the recovery target into postgresql.auto.conf; the new cluster's leader
     * renders its own settings, and a recovery target left behind would stop its next recovery there.
     */
    static void forgetRecoverySettings(Path data) throws IOException {
        Path auto = data.resolve("postgresql.auto.conf");
        if (Files.exists(auto)) {
            Files.writeString(auto, "# Do not edit this file manually!\n"
                    + "# It will be overwritten by the ALTER SYSTEM command.\n");
        }
    }

    /**
     * The promotion made a new timeline while archiving was off; its history file must reach the repository, or a later
     * restore could not follow the new cluster's timeline: marked ready, the leader's archiver sends it.
     */
    static void markNewestHistoryForArchiving(Path data) throws IOException {
        Path wal = data.resolve("pg_wal");
        try (Stream<Path> files = Files.list(wal)) {
            Optional<Path> newest = files.filter(p -> p.getFileName().toString().matches("[0-9A-F]{8}\\.history"))
                    .max((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
            if (newest.isPresent()) {
                Path ready = wal.resolve("archive_status").resolve(newest.get().getFileName() + ".ready");
                if (!Files.exists(ready)) {
                    Files.createFile(ready);
                }
            }
        }
    }
}
