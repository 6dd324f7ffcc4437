package org.chefbackend.postgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.system.Binaries;

/**
 * How a former primary (or a standby that forked) becomes a copy of the new leader's timeline without copying the
 * database: crash recovery first when it was not shut down cleanly, then pg_rewind, which either finds nothing to
 * undo (its WAL ends where the new timeline forked off) or copies back only the blocks changed since the fork.
 *
 * <p>Crash recovery runs in single-user mode with {@code archive_mode=on} and a failing {@code archive_command}:
 * the end-of-recovery checkpoint would otherwise recycle the WAL segments pg_rewind reads to find the last
 * checkpoint before the fork ("could not find previous WAL record"), and only a base backup would be left.
 * Unarchivable segments are never removed, so they stay (reference: Patroni's rewind does the same). pg_rewind's
 * own crash recovery does not, and it cannot be told to.
 */
public final class Rewind {
    /** What pg_rewind found. */
    public enum Outcome {
        /** It undid what this node wrote after the fork. */
        REWOUND,
        /** This node's WAL ends at or before the fork: it follows as it is. */
        NOT_NEEDED
    }

    /** pg_rewind failed. {@code walGone}: the WAL it needs is not on this node any more, so retrying cannot help. */
    public static final class Failed extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final boolean walGone;

        Failed(String message, boolean walGone) {
            super(message);
            this.walGone = walGone;
        }

        public boolean walGone() {
            return walGone;
        }
    }

    private Rewind() {
    }

    /**
     * Makes the stopped data directory of this node a copy of the leader's timeline. The leader must have
     * checkpointed after its promotion, or pg_rewind sees both on one timeline and finds nothing to do. Writes no
     * standby configuration: the caller does.
     *
     * @throws Failed when pg_rewind fails; the data directory is then as pg_rewind left it
     */
    public static Outcome run(NodeContext node, String leaderAddress, int leaderPort) throws IOException {
        PostgresLayout layout = PostgresLayout.of(node);
        if (!cleanlyShutDown(controlData(layout.dataDir()).get("Database cluster state"))) {
            finishCrashRecovery(node);
        }
        String source = sourceServer(node, leaderAddress, leaderPort, PgpassFile.write(node), PeerTls.ensure(node));
        String out;
        try {
            out = Commands.run(Commands.asUser(layout.user(), List.of(Binaries.postgresBinDir().resolve("pg_rewind")
                    .toString(), "--target-pgdata=" + layout.dataDir(), "--source-server=" + source)),
                    layout.dataDir().getParent(), null, null);
        } catch (ServiceSetupException e) {
            throw new Failed(e.getMessage(), walGone(e.getMessage()));
        }
        return out.contains("no rewind required") ? Outcome.NOT_NEEDED : Outcome.REWOUND;
    }

    /** pg_rewind's --source-server: the leader, as the superuser, checked as every connection between nodes is. */
    static String sourceServer(NodeContext node, String leaderAddress, int leaderPort, Path pgpass, PeerTls tls) {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("host", leaderAddress);
        k.put("port", String.valueOf(leaderPort));
        k.put("user", node.settings().string("postgresql.db_superuser"));
        k.put("dbname", "postgres");
        k.putAll(tls.conninfo());
        k.put("connect_timeout", "10");
        k.put("passfile", pgpass.toString());
        return StandbyConfig.conninfo(k);
    }

    /**
     * Replays this node's own WAL to its end and shuts down cleanly, keeping every WAL segment (see the class
     * comment). A standby's signal file goes first: single-user mode refuses standby mode, and the caller writes
     * the standby configuration again afterwards.
     */
    static void finishCrashRecovery(NodeContext node) throws IOException {
        PostgresLayout layout = PostgresLayout.of(node);
        Files.deleteIfExists(layout.dataDir().resolve(StandbyConfig.STANDBY_SIGNAL));
        Commands.run(Commands.asUser(layout.user(), List.of(Binaries.postgresBinDir().resolve("postgres").toString(),
                "--single", "-D", layout.dataDir().toString(), "-c", "archive_mode=on", "-c", "archive_command=false",
                "-c", "log_min_error_statement=panic", "template1")), layout.dataDir(), "", null);
    }

    /** pg_controldata's "Database cluster state" after a clean stop of a primary or of a standby. */
    static boolean cleanlyShutDown(String state) {
        return "shut down".equals(state) || "shut down in recovery".equals(state);
    }

    /** pg_rewind's words for WAL it needs and cannot read on the target (a retry finds it no more than this one). */
    static boolean walGone(String message) {
        return message.contains("could not find previous WAL record")
                || (message.contains("could not open file") && message.contains("pg_wal/"));
    }

    /** pg_controldata's report on a (stopped) data directory, field by field. */
    public static Map<String, String> controlData(Path dataDir) throws IOException {
        Process p = new ProcessBuilder(Binaries.postgresBinDir().resolve("pg_controldata").toString(), "-D",
                dataDir.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("pg_controldata did not finish within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        if (p.exitValue() != 0) {
            throw new IOException("pg_controldata failed: " + out.strip());
        }
        return parseControlData(out);
    }

    static Map<String, String> parseControlData(String out) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                fields.put(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
            }
        }
        return fields;
    }
}
