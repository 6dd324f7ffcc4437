package org.chefbackend.ctl;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.chefbackend.agent.NodeState;
import org.chefbackend.agent.ProcessIdentity;
import org.chefbackend.config.NodePaths;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.Distribution;

/** Starting the node agent as a detached process that outlives the CLI, and finding the running one. */
public final class AgentProcess {
    /**
     * Heap and collector for a small, long-running supervisor; keeps its footprint low on shared machines: one C1
     * compiler thread compiling only code that stays hot (the agent mostly waits; its compiled code had grown to
     * 13-20 MiB), a heap that gives back what it does not use, metaspace and glibc's heap trimmed as they empty.
     * One list for both ways an agent starts: `mvn package` copies it to the distribution's lib/, where
     * {@code chef-backend-ctl agent} (chef-backend.service) passes it to java as an argument file.
     */
    public static final List<String> JVM_OPTIONS = jvmOptions();

    private AgentProcess() {
    }

    private static List<String> jvmOptions() {
        InputStream in = AgentProcess.class.getResourceAsStream("agent.jvm-options");
        if (in == null) {
            throw new IllegalStateException("the agent's JVM options (agent.jvm-options) are missing from the jar");
        }
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
                    .filter(line -> !line.isEmpty()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The running agent of this node root, checked by pid and start time. */
    static Optional<ProcessIdentity> running(NodePaths paths) {
        Path pidFile = NodeState.agentPidFile(paths);
        try {
            return Files.exists(pidFile)
                    ? ProcessIdentity.parse(Files.readString(pidFile)).filter(ProcessIdentity::isAlive)
                    : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Spawns the agent in its own session (setsid), its console output in agent.console. */
    static Process spawn(NodePaths paths) throws IOException {
        Path console = NodeState.agentConsole(paths);
        Files.createDirectories(console.getParent());
        List<String> command = new ArrayList<>();
        command.add("setsid");
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(JVM_OPTIONS);
        command.add("-D" + Distribution.HOME_PROPERTY + "=" + Distribution.home());
        String ctl = System.getProperty(CtlCommand.PROPERTY);
        if (ctl != null && !ctl.isBlank()) { // the agent's hints name the command the operator started it with
            command.add("-D" + CtlCommand.PROPERTY + "=" + ctl);
        }
        command.add("-cp");
        command.add(Distribution.home().resolve("lib") + "/*");
        command.add("org.chefbackend.node.NodeAgent");
        command.add("--root");
        command.add(paths.root().toString());
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(paths.root().toFile())
                .redirectErrorStream(true)
                .redirectOutput(console.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put(NodePaths.ROOT_ENV, paths.root().toString());
        // ~50 threads would otherwise get up to 8 glibc malloc arenas of 64 MB reserve, several MB resident each
        pb.environment().put("MALLOC_ARENA_MAX", "2");
        return pb.start();
    }

    /** The last non-empty line the agent printed: its reason for not starting. */
    static String lastConsoleLine(NodePaths paths) {
        try {
            List<String> lines = Files.readAllLines(NodeState.agentConsole(paths));
            for (int i = lines.size() - 1; i >= 0; i--) {
                if (!lines.get(i).isBlank()) {
                    return lines.get(i).replaceFirst("^chef-backend agent: ", "");
                }
            }
        } catch (IOException e) {
            // fall through
        }
        return "the agent exited without saying why; see " + NodeState.agentConsole(paths);
    }
}
