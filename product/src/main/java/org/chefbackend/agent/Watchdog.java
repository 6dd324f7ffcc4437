package org.chefbackend.agent;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process outside the agent's JVM that stops PostgreSQL when the agent, as leader, stops refreshing a deadline
 * before its lease can expire: a frozen or crashed agent cannot fence anything itself. The deadline is in
 * milliseconds of system uptime (/proc/uptime), a monotonic clock both processes read.
 */
public final class Watchdog {
    private static final Logger log = LoggerFactory.getLogger(Watchdog.class);
    private final Path dir;
    private final Path deadlineFile;
    private final Path pidFile;
    private Process process;

    public Watchdog(NodeContext node) {
        this.dir = NodeState.agentDir(node.paths());
        this.deadlineFile = dir.resolve("watchdog.deadline");
        this.pidFile = dir.resolve("watchdog.pid");
    }

    /** Replaces a watchdog a previous agent left (by its pid file) and starts this agent's, disarmed. */
    public void start(NodeContext node) throws IOException {
        readPid().filter(ProcessIdentity::isAlive).ifPresent(old -> {
            log.info("watchdog: ending pid {} left by a previous agent", old.pid());
            Signals.send(old.pid(), "KILL");
        });
        Path script = dir.resolve("watchdog.sh");
        try (InputStream in = Watchdog.class.getResourceAsStream("watchdog.sh")) {
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        disarm();
        Path data = node.path("postgresql.data_dir");
        Path sentinel = NodeState.sentinel(node.paths(), NodeState.NO_START_PGSQL);
        process = new ProcessBuilder(List.of("setsid", "bash", script.toString(), deadlineFile.toString(),
                data.toString(), sentinel.toString()))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("watchdog.log").toFile()))
                .start();
        process.getOutputStream().close();
        Optional<ProcessIdentity> id = ProcessIdentity.of(process.pid());
        if (id.isPresent()) {
            Files.writeString(pidFile, id.get().serialize() + "\n");
        }
        log.info("watchdog: started, pid {}", process.pid());
    }

    /** PostgreSQL must be down at {@code uptimeMillis} unless armed again before. */
    public void arm(long uptimeMillis) {
        write(String.valueOf(uptimeMillis));
    }

    public void disarm() {
        write("0");
    }

    public void stop() {
        disarm();
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
        try {
            Files.deleteIfExists(pidFile);
        } catch (IOException e) {
            log.warn("watchdog: cannot delete its pid file: {}", e.getMessage());
        }
    }

    /** Milliseconds since boot, from /proc/uptime: the clock the watchdog reads too. */
    public static long uptimeMillis() {
        try {
            String s = Files.readString(Path.of("/proc/uptime")).trim().split("\\s+")[0];
            return Math.round(Double.parseDouble(s) * 1000);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read /proc/uptime: " + e.getMessage());
        }
    }

    private void write(String value) {
        try {
            Path tmp = deadlineFile.resolveSibling("watchdog.deadline.tmp");
            Files.writeString(tmp, value + "\n");
            Files.move(tmp, deadlineFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            log.error("watchdog: cannot write its deadline: {}", e.getMessage());
        }
    }

    private Optional<ProcessIdentity> readPid() {
        try {
            return Files.exists(pidFile) ? ProcessIdentity.parse(Files.readString(pidFile)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
