package org.chefbackend.postgres;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.agent.ServiceUsers;
import org.chefbackend.system.Binaries;
import org.chefbackend.system.FileTrees;

/** A new standby made by copying the leader's whole cluster with pg_basebackup. */
public final class BaseBackup {
    private BaseBackup() {
    }

    /**
     * Copies the leader's cluster into this node's (absent or empty) data directory with pg_basebackup, through
     * the slot, and makes it a standby of the leader. The slot must exist: the caller creates it on the leader
     * ({@link ReplicationSlots#create}), and writes the unsynced sentinel around the whole sync. The server must be
     * stopped; the recipe's prepare and launch then start it as a streaming standby (prepare sees PG_VERSION and
     * skips initdb). No overall time limit: a large copy takes long; interrupting the calling thread ends it.
     *
     * @param progress receives pg_basebackup's verbose and -P lines ("12345/67890 kB (18%), …") as they come
     */
    public static void take(NodeContext node, String leaderAddress, int leaderPort, String slot,
            Consumer<String> progress) throws IOException {
        PostgresLayout layout = PostgresLayout.of(node);
        Path data = layout.dataDir();
        if (Files.exists(data, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> entries = Files.list(data)) {
                if (entries.findAny().isPresent()) {
                    throw new ServiceSetupException("postgresql.data_dir " + data
                            + " is not empty; a base backup needs an empty data directory (move it away first)");
                }
            }
        }
        Path pgpass = PgpassFile.write(node);
        ServiceUsers.requireOwnedBy(data, layout.user(), "postgresql.data_dir");
        PostgresRecipe.traversableParents(data);
        ServiceUsers.ownedDirectory(data, layout.user(), "rwx------");

        List<String> command = Commands.asUser(layout.user(), List.of(binDir().resolve("pg_basebackup").toString(),
                "-h", leaderAddress, "-p", String.valueOf(leaderPort),
                "-U", node.settings().string("postgresql.replication_user"), "-D", data.toString(),
                "-X", "stream", "-S", slot, "-c", "fast", "-P", "-v", "--no-password"));
        ProcessBuilder pb = new ProcessBuilder(command).directory(data.getParent().toFile()).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        pb.environment().put("LANG", "C.UTF-8");
        pb.environment().put("PGPASSFILE", pgpass.toString());
        pb.environment().putAll(PeerTls.ensure(node).environment());
        pb.environment().put("PGCONNECT_TIMEOUT", "10");

        Process p = pb.start();
        p.getOutputStream().close();
        // Read on a thread of its own: a blocked read would not notice an interrupt, waitFor does.
        CompletableFuture<String> output = CompletableFuture.supplyAsync(
                () -> forwardLines(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8), progress), r -> {
            Thread t = new Thread(r, "pg_basebackup output");
            t.setDaemon(true);
            t.start();
        });
        int exit;
        try {
            exit = p.waitFor();
        } catch (InterruptedException e) {
            // the interrupt is the caller's stop request: it must survive a failing clean-up, or the caller's
            // loop runs on after its stop
            Thread.currentThread().interrupt();
            Commands.destroyWithChildren(p);
            FileTrees.emptyDirectory(data);
            throw new ServiceSetupException("pg_basebackup from " + leaderAddress + " interrupted");
        }
        String errors = output.join();
        if (exit != 0) {
            FileTrees.emptyDirectory(data); // pg_basebackup cleans up after itself, but not when killed
            throw new ServiceSetupException("pg_basebackup from " + leaderAddress + ":" + leaderPort + " failed (exit "
                    + exit + "): " + (errors == null ? "no output" : errors));
        }
        StandbyConfig.write(node, leaderAddress, leaderPort, slot);
        ServiceUsers.chownTree(data, layout.user());
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
    }

    /**
     * Reads output to its end, handing every non-blank line (split at \r, which -P uses on a terminal, and at \n)
     * to {@code sink}. Returns the error lines joined by "; " (the first names the cause, the last is where
     * pg_basebackup gave up), else the last line, null if there was none.
     */
    static String forwardLines(Reader in, Consumer<String> sink) {
        Reader r = new BufferedReader(in);
        StringBuilder line = new StringBuilder();
        String last = null;
        List<String> errors = new ArrayList<>();
        while (true) {
            int c;
            try {
                c = r.read();
            } catch (IOException e) {
                c = -1; // the process was killed: what was read so far is all there is
            }
            if (c >= 0 && c != '\r' && c != '\n') {
                line.append((char) c);
                continue;
            }
            String text = line.toString().strip();
            line.setLength(0);
            if (!text.isEmpty()) {
                last = text;
                if (text.contains("error:") || text.contains("FATAL:")) {
                    errors.add(text);
                }
                try {
                    sink.accept(text);
                } catch (RuntimeException e) {
                    // progress is advisory; stopping to read would block pg_basebackup on a full pipe
                }
            }
            if (c < 0) {
                return errors.isEmpty() ? last : String.join("; ", errors);
            }
        }
    }

    private static Path binDir() {
        try {
            return Binaries.postgresBinDir();
        } catch (Binaries.MissingBinaryException e) {
            throw new ServiceSetupException(e.getMessage());
        }
    }
}
