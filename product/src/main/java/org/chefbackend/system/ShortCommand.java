package org.chefbackend.system;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Runs a short program to its end and keeps what it printed: dpkg's and systemd's queries, programs' versions. */
public final class ShortCommand {
    /** At most this much of its output is kept: these programs print a line or a few. */
    private static final int MAX_OUTPUT = 16_384;

    private ShortCommand() {
    }

    public record Output(int exit, String text) {
    }

    /**
     * Runs {@code command} with no input; its standard error joins the output when {@code withStderr}, else it is
     * dropped. Empty when the program cannot start or has not ended within {@code limit} (it is then killed).
     */
    public static Optional<Output> run(Duration limit, boolean withStderr, List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command);
        if (withStderr) {
            pb.redirectErrorStream(true);
        } else {
            pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        }
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            String text = new String(p.getInputStream().readNBytes(MAX_OUTPUT), StandardCharsets.UTF_8);
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                return Optional.empty();
            }
            return Optional.of(new Output(p.exitValue(), text));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
