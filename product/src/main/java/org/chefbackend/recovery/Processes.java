package org.chefbackend.recovery;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Runs the external programs backup and restore need (pg_basebackup, tar, opensearch-node) within a deadline. */
public final class Processes {
    private Processes() {
    }

    /** setpriv: run as the service user without a PAM session. */
    public static List<String> asUser(String user, List<String> command) {
        List<String> all = new ArrayList<>(List.of("setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "--"));
        all.addAll(command);
        return all;
    }

    /**
     * Runs {@code command} with a minimal environment plus {@code env}, feeding {@code stdin}, handing each output
     * line (split at \r and \n) to {@code lines}. Throws with the last lines of output when it fails or runs past
     * {@code deadlineNanos} (then it is killed).
     */
    public static void run(List<String> command, Path dir, Map<String, String> env, String stdin, long deadlineNanos,
            Consumer<String> lines) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        pb.environment().put("LANG", "C.UTF-8");
        pb.environment().putAll(env);
        String what = Path.of(command.get(command.contains("--") ? command.indexOf("--") + 1 : 0)).getFileName().toString();
        Process p = pb.start();
        List<String> tail = new ArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                StringBuilder line = new StringBuilder();
                int c;
                while ((c = r.read()) >= 0) {
                    if (c != '\r' && c != '\n') {
                        line.append((char) c);
                        continue;
                    }
                    emit(line, tail, lines);
                }
                emit(line, tail, lines);
            } catch (IOException e) {
                // killed: what was read is all there is
            }
        }, what + " output");
        reader.setDaemon(true);
        reader.start();
        try (var in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            // it did not read its input; its exit status tells
        }
        try {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0 || !p.waitFor(left, TimeUnit.NANOSECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new TimeoutException(what + " did not finish in time");
            }
            reader.join(5000);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(what + " interrupted");
        }
        if (p.exitValue() != 0) {
            String last;
            synchronized (tail) {
                last = String.join("; ", tail);
            }
            throw new IOException(what + " failed (exit " + p.exitValue() + "): " + (last.isEmpty() ? "no output" : last));
        }
    }

    private static void emit(StringBuilder line, List<String> tail, Consumer<String> lines) {
        String text = line.toString().strip();
        line.setLength(0);
        if (text.isEmpty()) {
            return;
        }
        synchronized (tail) {
            tail.add(text);
            if (tail.size() > 3) {
                tail.remove(0);
            }
        }
        try {
            lines.accept(text);
        } catch (RuntimeException e) {
            // progress is advisory
        }
    }

    /** A program ran past its deadline. */
    public static final class TimeoutException extends IOException {
        private static final long serialVersionUID = 1L;

        TimeoutException(String message) {
            super(message);
        }
    }
}
