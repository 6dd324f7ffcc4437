package org.chefbackend.postgres;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.chefbackend.agent.ServiceSetupException;

/** Runs short setup programs (initdb, single-user postgres, openssl) to completion, optionally as another user. */
final class Commands {
    private static final long TIMEOUT_SECONDS = 120;

    private Commands() {
    }

    /** setpriv rather than runuser/su: no PAM session, no login shell, exec in place. */
    static List<String> asUser(String user, List<String> command) {
        List<String> all = new ArrayList<>(List.of("setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "--"));
        all.addAll(command);
        return all;
    }

    /**
     * Runs {@code command} in {@code dir} with a minimal environment (no inherited PG* variables), feeding
     * {@code stdin}, and returns its merged output.
     *
     * @param secret a value to blank out of the output before it goes into an error message, or null
     */
    static String run(List<String> command, Path dir, String stdin, String secret) {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        pb.environment().put("LANG", "C.UTF-8");
        String what = Path.of(command.get(command.indexOf("--") + 1)).getFileName().toString();
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new ServiceSetupException(what + " cannot run: " + e.getMessage());
        }
        try {
            CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> readAll(p));
            try (OutputStream in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new ServiceSetupException(what + " did not finish within " + TIMEOUT_SECONDS + " s");
            }
            String out = output.join();
            if (secret != null) {
                out = out.replace(secret, "<redacted>");
            }
            if (p.exitValue() != 0) {
                throw new ServiceSetupException(what + " failed (exit " + p.exitValue() + "): "
                        + out.strip().replace('\n', ' '));
            }
            return out;
        } catch (IOException e) {
            p.destroyForcibly();
            throw new ServiceSetupException(what + " cannot run: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            // e.g. pg_rewind: it must not go on changing a data directory its caller has given up on
            destroyWithChildren(p);
            throw new ServiceSetupException(what + " interrupted");
        }
    }

    /**
     * Kills {@code p} and every process it started, and waits (bounded) until they are gone: pg_basebackup -X stream
     * forks a child that streams WAL into pg_wal, and it would go on writing into a directory being emptied.
     */
    static void destroyWithChildren(Process p) {
        List<ProcessHandle> all = new ArrayList<>(p.descendants().toList()); // before the parent dies and they move
        all.add(p.toHandle());
        all.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle h : all) {
            try {
                h.onExit().orTimeout(10, TimeUnit.SECONDS).join();
            } catch (CompletionException e) {
                // still there after SIGKILL and 10 s: nothing more to do from here
            }
        }
    }

    private static String readAll(Process p) {
        try {
            return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
