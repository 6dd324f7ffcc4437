package org.chefbackend.readme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.chefbackend.readme.ReadmeCommands.Command;
import org.chefbackend.testing.DemoLogs;
import org.junit.jupiter.api.Test;

/**
 * README.md's demo, run as a reader pastes it: every command of its ```sh blocks, in order, each in a shell of its
 * own from the repository's root, against the real demo it starts (the demo's defaults: 127.0.0.1:15432/19200, nodes
 * on 127.0.0.2–4, /tmp/chef-backend-demo); then every command {@code demo up} printed, from another directory.
 * {@code bin/demo down} (README's and the printed one) runs last, and the demo is taken down also when a command fails.
 */
class ReadmeCommandsIT {
    static final Path REPO = ReadmeCommandsTest.REPO;
    static final Path DEMO_DIR = Path.of("/tmp/chef-backend-demo");
    static final String NODE1 = "CHEF_BACKEND_ROOT=" + DEMO_DIR.resolve("node1");
    static final String PASSWORD = "<printed by demo up>";
    private static final Pattern PRINTED_PASSWORD = Pattern.compile("PGPASSWORD=(\\S+) psql");
    /** A command's time limit: demo up builds first in a fresh clone. */
    private static final long COMMAND_SECONDS = 600;

    record Run(String command, int code, String out, String err, double seconds) {
        String both() {
            String text = out + err;
            return text.length() > 4000 ? "…" + text.substring(text.length() - 4000) : text;
        }
    }

    /** What README says of a command's output, beyond its exit status: each must be checked once. */
    private final Set<String> checked = new TreeSet<>();

    @Test
    void readmesDemoCommandsAndWhatDemoUpPrintsRunAsPasted() throws Exception {
        List<Command> commands = ReadmeCommands.demoCommands(Files.readString(REPO.resolve("README.md")));
        if (Files.exists(DEMO_DIR.resolve("demo.json"))) {
            System.out.println("a demo from an earlier run: " + run(REPO, "bin/demo down").both());
        }
        Path elsewhere = Files.createTempDirectory("readme-it");
        Map<String, String> filled = new HashMap<>();
        List<String> last = new ArrayList<>(); // bin/demo down: README's, then the one demo up printed
        List<Run> lastRuns = new ArrayList<>();
        boolean passed = false;
        try {
            for (Command c : commands) {
                if (c.text().equals("bin/demo down")) {
                    last.add(0, c.text());
                    continue;
                }
                Run r = run(REPO, forThisTest(ReadmeCommands.fill(c, filled)));
                assertEquals(c.expectedExit(), r.code(), c + " exited " + r.code() + ":\n" + r.both());
                checkWhatReadmeSays(c, r);
                if (c.text().contains("bin/demo up")) {
                    Matcher m = PRINTED_PASSWORD.matcher(r.out());
                    assertTrue(m.find(), "demo up printed no password:\n" + r.out());
                    filled.put(PASSWORD, m.group(1));
                    for (String printed : printedCommands(r.out())) {
                        if (printed.endsWith(" demo down")) {
                            last.add(printed);
                            continue;
                        }
                        Run p = run(elsewhere, printed);
                        assertEquals(0, p.code(), "printed by demo up, run from " + elsewhere + ": " + printed
                                + "\n" + p.both());
                    }
                    assertTrue(printedCommands(r.out()).stream().anyMatch(l -> l.endsWith(" demo down")),
                            "demo up printed no demo down:\n" + r.out());
                }
            }
            assertEquals(Set.of("start", "stopped node's hint", "stopped node seen by another"), checked);
            passed = true;
        } finally {
            if (!passed) {
                keepLogs();
            }
            for (String command : last) {
                lastRuns.add(run(REPO, command));
            }
            if (Files.exists(DEMO_DIR.resolve("demo.json"))) {
                System.out.println("cleanup: " + run(REPO, "bin/demo down").both());
            }
        }
        for (Run r : lastRuns) {
            assertEquals(0, r.code(), r.command() + ":\n" + r.both());
        }
        assertTrue(Files.notExists(DEMO_DIR), "bin/demo down left " + DEMO_DIR);
    }

    /**
     * README's command as this test runs it. {@code bin/install-deps} gets {@code --dry-run}: it would install
     * packages (as root, from the network) on the machine running the tests, which CI must not change; the dry run
     * runs the same script's checks and exits 0 as a real run does when nothing is missing, so the rest of the line
     * ({@code && bin/demo up}) runs as it would for the reader.
     */
    static String forThisTest(String command) {
        return command.replaceAll("\\bbin/install-deps\\b(?! --dry-run)", "bin/install-deps --dry-run");
    }

    /** The commands demo up printed last: the indented lines after "HAProxy forwards to the leader". */
    static List<String> printedCommands(String out) {
        int from = out.indexOf("HAProxy forwards to the leader");
        assertTrue(from >= 0, "demo up printed no commands:\n" + out);
        return out.substring(from).lines().filter(l -> l.startsWith("    ")).map(String::strip).toList();
    }

    /** The output README describes, for the commands it describes it for. */
    private void checkWhatReadmeSays(Command c, Run r) {
        String ctl = REPO.resolve("bin/chef-backend-ctl").toString();
        if (c.text().startsWith(NODE1 + " bin/chef-backend-ctl status") && c.expectedExit() == 3) {
            // the hint is pasted on this node: the clone's absolute chef-backend-ctl, whatever the directory
            assertTrue(r.err().contains("start it with: " + NODE1 + " " + ctl + " start"), r.both());
            assertTrue(r.out().contains("postgresql: down (the node agent is not running)"), r.both());
            checked.add("stopped node's hint");
        } else if (c.text().contains("node2 bin/chef-backend-ctl cluster-status")) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith("backend-127-0-0-2") && l.contains("stopped")),
                    "node1 is not shown stopped:\n" + r.out());
            checked.add("stopped node seen by another");
        } else if (c.text().equals(NODE1 + " bin/chef-backend-ctl start")) {
            String postgresql = r.out().lines().filter(l -> l.contains(": postgresql: ")).findFirst().orElse("");
            assertTrue(postgresql.startsWith("ok: run: postgresql: (pid ") || postgresql.startsWith(
                    "held: down: postgresql: ") && postgresql.endsWith("(held down by the no-start-pgsql sentinel)"),
                    "start's PostgreSQL line: " + r.out());
            System.out.println("start's PostgreSQL line on the former leader: " + postgresql);
            checked.add("start");
        }
    }

    static Run run(Path dir, String command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("readme-it", ".out");
        Path err = Files.createTempFile("readme-it", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder("sh", "-c", command).directory(dir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().remove("CHEF_BACKEND_ROOT");
            long t0 = System.nanoTime();
            Process p = pb.start();
            if (!p.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new AssertionError("no end within " + COMMAND_SECONDS + " s: " + command);
            }
            Run r = new Run(command, p.exitValue(), Files.readString(out), Files.readString(err),
                    (System.nanoTime() - t0) / 1e9);
            // the demo's password stays out of the build's log
            System.out.printf("%6.1f s  exit %d  %s%n", r.seconds(), r.code(),
                    command.replaceAll("PGPASSWORD=\\S+", "PGPASSWORD=" + PASSWORD));
            return r;
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** The nodes' logs, copied where demo down does not remove them, for a failure's diagnosis. */
    static void keepLogs() throws IOException, InterruptedException {
        DemoLogs.keep(DEMO_DIR, Path.of("/tmp/readme-it-failed-logs"));
    }
}
