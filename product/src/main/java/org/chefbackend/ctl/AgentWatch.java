package org.chefbackend.ctl;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.chefbackend.agent.ProcessIdentity;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;
import org.chefbackend.system.OperatorException;
import org.chefbackend.system.Poll;

/**
 * A long command's wait on its own node agent, watching that agent: if it dies (killed, crashed) the wait ends at
 * once with one line naming it and its log, instead of polling an agent that will never answer until the deadline.
 */
final class AgentWatch {
    private final ProcessIdentity agent;
    private final String command;
    private final Path log;

    AgentWatch(ProcessIdentity agent, String command, Path log) {
        this.agent = agent;
        this.command = command;
        this.log = log;
    }

    /** Watches the agent of this node as it runs now; an agent already gone is reported at once. */
    static AgentWatch of(NodePaths paths, Settings settings, String command) {
        Path log = logOf(paths, settings);
        ProcessIdentity agent = AgentProcess.running(paths).orElseThrow(() -> OperatorException.failure(
                "the node agent exited during " + command + "; its log: " + log));
        return new AgentWatch(agent, command, log);
    }

    /** leaderl's log, where the agent writes everything (its pid is the agent's). */
    static Path logOf(NodePaths paths, Settings settings) {
        return paths.resolve(settings.string("leaderl.log_directory")).resolve("current");
    }

    /** The line that ends the command when the agent is gone. */
    OperatorException died() {
        return OperatorException.failure("the node agent (pid " + agent.pid() + ") exited during " + command
                + "; its log: " + log);
    }

    void requireAlive() {
        if (!agent.isAlive()) {
            throw died();
        }
    }

    /**
     * {@link Poll#forValue} that checks the agent before each probe. Probes return empty while the agent does not
     * answer, so an agent that died is reported by the next check, at most {@code interval} later.
     */
    <T> Optional<T> poll(Duration timeout, Duration interval, Supplier<Optional<T>> probe) {
        return Poll.forValue(timeout, interval, () -> {
            requireAlive();
            return probe.get();
        });
    }

    /** {@link Poll#until}, watching the agent as {@link #poll} does. */
    boolean until(Duration timeout, Duration interval, BooleanSupplier condition) {
        return poll(timeout, interval, () -> condition.getAsBoolean() ? Optional.of(true) : Optional.empty())
                .isPresent();
    }
}
