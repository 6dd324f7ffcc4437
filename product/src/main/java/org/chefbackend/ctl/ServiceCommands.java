package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.chefbackend.agent.NodeState;
import org.chefbackend.agent.ProcessIdentity;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;
import org.chefbackend.system.OperatorException;
import org.chefbackend.system.Poll;

/** What start, stop, restart and status share: finding the agent, waiting for services, printing their lines. */
final class ServiceCommands {
    /** runit's sv waited 7 s for a service to change state; so do we before saying "timeout". */
    static final Duration SERVICE_WAIT = Duration.ofSeconds(7);
    /** Agent start-up includes first-time setup (initdb, certificates); give it time before giving up. */
    static final Duration AGENT_BOOT_WAIT = Duration.ofSeconds(180);
    static final Duration AGENT_STOP_WAIT = Duration.ofSeconds(120);

    private ServiceCommands() {
    }

    static AgentClient client(RootOptions node, Settings settings) {
        return new AgentClient(node.paths(), settings);
    }

    /** The agent's status; an operator error when it does not run. */
    static JsonNode requireAgent(RootOptions node, AgentClient client) {
        return client.status().orElseThrow(() -> NodeHints.agentNotRunning(node.paths()));
    }

    /** Starts the agent unless it runs, and waits until its API answers (or it exits, saying why). */
    static JsonNode ensureAgent(NodePaths paths, AgentClient client) throws IOException {
        Optional<JsonNode> status = client.status();
        if (status.isPresent()) {
            return status.get();
        }
        if (SystemdUnit.manages(paths)) {
            SystemdUnit.start();
            return waitForUnit(client);
        }
        if (AgentProcess.running(paths).isPresent()) {
            // running but not answering yet: it is still booting
            return waitForApi(paths, client, null);
        }
        Process agent = AgentProcess.spawn(paths);
        return waitForApi(paths, client, agent);
    }

    /** As waitForApi, for an agent that chef-backend.service runs: systemd says when it has exited. */
    private static JsonNode waitForUnit(AgentClient client) {
        long deadline = System.nanoTime() + AGENT_BOOT_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<JsonNode> status = client.status();
            if (status.isPresent()) {
                return status.get();
            }
            if (!SystemdUnit.active()) {
                throw OperatorException.failure("the node agent (" + SystemdUnit.NAME + ") exited: "
                        + SystemdUnit.lastLogLine());
            }
            sleep(200);
        }
        throw OperatorException.failure("the node agent did not answer within " + AGENT_BOOT_WAIT.toSeconds()
                + " s; see journalctl -u " + SystemdUnit.NAME);
    }

    private static JsonNode waitForApi(NodePaths paths, AgentClient client, Process agent) throws IOException {
        long deadline = System.nanoTime() + AGENT_BOOT_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<JsonNode> status = client.status();
            if (status.isPresent()) {
                return status.get();
            }
            if (agent != null && !agent.isAlive()) {
                String why = AgentProcess.lastConsoleLine(paths);
                throw agent.exitValue() == 2 ? OperatorException.usage(why) : OperatorException.failure(why);
            }
            if (agent == null && AgentProcess.running(paths).isEmpty()) {
                agent = AgentProcess.spawn(paths); // the agent we were waiting for died while booting: start one
            }
            sleep(200);
        }
        throw OperatorException.failure("the node agent did not answer within " + AGENT_BOOT_WAIT.toSeconds()
                + " s; see " + NodeState.agentConsole(paths));
    }

    /** Polls the agent until every named service satisfies {@code done} or the wait is over. */
    static List<JsonNode> waitFor(AgentClient client, List<String> services, Predicate<JsonNode> done, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            List<JsonNode> selected = select(client.status().orElseThrow(
                    () -> OperatorException.failure("the node agent stopped answering")), services);
            if (selected.stream().allMatch(done) || System.nanoTime() >= deadline) {
                return selected;
            }
            sleep(200);
        }
    }

    static List<JsonNode> select(JsonNode status, List<String> services) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode s : status.path("services")) {
            if (services.contains(s.path("name").asText())) {
                out.add(s);
            }
        }
        return out;
    }

    /** Prints "ok: …" for services that reached the wanted state and "timeout: …" for the others; returns the exit code. */
    static int report(PrintWriter out, List<JsonNode> services, Predicate<JsonNode> done) {
        long now = System.currentTimeMillis();
        int code = 0;
        for (JsonNode s : services) {
            boolean ok = done.test(s);
            boolean held = ok && isHeld(s);
            out.println((held ? "held: " : ok ? "ok: " : "timeout: ") + ServiceLines.runitLine(s, now));
            if (!ok) {
                code = 1;
            }
        }
        out.flush();
        return code;
    }

    /**
     * Held down by no-start-pgsql: a former leader's PostgreSQL, which leaderl brings back as a follower (or
     * reinstates); not a failure of start or restart.
     */
    static boolean isHeld(JsonNode s) {
        return !s.path("running").asBoolean()
                && s.path("reason").asText("").equals(NodeState.HELD_BY_NO_START_PGSQL);
    }

    /**
     * When start or restart of {@code service} (null: the whole node) succeeded: for the whole node a PostgreSQL
     * held down by no-start-pgsql is leaderl's to bring back (a former leader rejoining); asked for by name, it is not.
     */
    static Predicate<JsonNode> startedEnough(String service) {
        return service == null ? s -> isUpOrNotWanted(s) || isHeld(s) : ServiceCommands::isUpOrNotWanted;
    }

    static boolean isUpOrNotWanted(JsonNode s) {
        return !s.path("enabled").asBoolean() || s.path("running").asBoolean() || !s.path("wantUp").asBoolean();
    }

    static boolean isDown(JsonNode s) {
        return !s.path("running").asBoolean();
    }

    /** Stops the node's agent and every service, if it runs, and waits until its process has ended. */
    static boolean stopAgent(NodePaths paths, AgentClient client) {
        boolean wasRunning = client.status().isPresent();
        if (wasRunning) {
            client.admin("/admin/shutdown", Duration.ofSeconds(30));
        }
        waitForAgentExit(paths);
        return wasRunning || AgentProcess.running(paths).isPresent();
    }

    /**
     * Waits for the agent process to end after a shutdown call. Under chef-backend.service the unit is stopped
     * too (it has usually ended with its agent): its state says stopped, and nothing of the node lingers in its cgroup.
     */
    static void waitForAgentExit(NodePaths paths) {
        Optional<ProcessIdentity> agent = AgentProcess.running(paths);
        if (agent.isPresent() && !Poll.until(AGENT_STOP_WAIT, Duration.ofMillis(200), () -> !agent.get().isAlive())) {
            throw OperatorException.failure("the node agent (pid " + agent.get().pid() + ") did not stop within "
                    + AGENT_STOP_WAIT.toSeconds() + " s");
        }
        if (SystemdUnit.manages(paths)) {
            SystemdUnit.stop();
        }
    }

    static List<String> targets(String service) {
        ServiceLines.requireKnown(service);
        return service == null ? ServiceLines.SERVICES : List.of(service);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw OperatorException.failure("interrupted");
        }
    }
}
