package org.chefbackend.ctl;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.chefbackend.config.NodePaths;
import org.chefbackend.system.Distribution;
import org.chefbackend.system.OperatorException;
import org.chefbackend.system.ShortCommand;

/**
 * chef-backend.service, the package's unit: when systemd is the init system and the unit runs this node, start and
 * stop go through systemctl, so that the agent lives in the unit's cgroup with its limits, restarts on failure and
 * logs to the journal. Elsewhere (containers, CI, a checkout's node roots) the CLI starts the agent itself.
 */
final class SystemdUnit {
    static final String NAME = "chef-backend.service";
    /** Where the package installs, and so the only distribution and node root the unit runs. */
    static final Path PACKAGE_HOME = Path.of("/opt/chef-backend");
    static final Path PACKAGE_ROOT = Path.of("/");
    private static final List<Path> UNIT_DIRS = List.of(Path.of("/etc/systemd/system"), Path.of("/lib/systemd/system"),
            Path.of("/usr/lib/systemd/system"));

    private SystemdUnit() {
    }

    /** What decides who starts the agent. */
    record Facts(boolean systemdRuns, boolean unitInstalled, Path root, Path distribution) {
    }

    /** The unit manages the node only for the package's own node: root / run from /opt/chef-backend. */
    static boolean manages(Facts f) {
        return f.systemdRuns() && f.unitInstalled() && f.root().equals(PACKAGE_ROOT)
                && f.distribution().equals(PACKAGE_HOME);
    }

    static boolean manages(NodePaths paths) {
        return manages(observe(paths));
    }

    static Facts observe(NodePaths paths) {
        // sd_booted(3): systemd is PID 1 exactly when this directory exists
        boolean systemd = Files.isDirectory(Path.of("/run/systemd/system"));
        boolean unit = UNIT_DIRS.stream().anyMatch(d -> Files.isRegularFile(d.resolve(NAME)));
        return new Facts(systemd, unit, paths.root(), Distribution.home());
    }

    static void start() {
        systemctl("start");
    }

    static void stop() {
        systemctl("stop");
    }

    /** True while the unit is starting or running; false once it has exited or failed. */
    static boolean active() {
        return run(List.of("systemctl", "is-active", "--quiet", NAME)).code() == 0;
    }

    /** The unit's last journal line: why the agent exited. */
    static String lastLogLine() {
        Result r = run(List.of("journalctl", "--unit", NAME, "--lines", "1", "--output", "cat", "--no-pager"));
        String line = r.output().strip();
        return line.isEmpty() ? "see journalctl -u " + NAME : line.replaceFirst("^chef-backend agent: ", "");
    }

    private static void systemctl(String verb) {
        Result r = run(List.of("systemctl", verb, NAME));
        if (r.code() != 0) {
            throw OperatorException.failure("systemctl " + verb + " " + NAME + " failed (exit " + r.code() + "): "
                    + r.output().strip().replace('\n', ' ') + "; see journalctl -u " + NAME);
        }
    }

    private record Result(int code, String output) {
    }

    private static Result run(List<String> command) {
        return ShortCommand.run(Duration.ofSeconds(200), true, command)
                .map(o -> new Result(o.exit(), o.text()))
                .orElse(new Result(127, String.join(" ", command) + " did not run, or did not finish within 200 s"));
    }
}
