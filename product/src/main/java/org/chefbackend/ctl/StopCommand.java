package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.chefbackend.config.Settings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "stop", mixinStandardHelpOptions = true,
        description = "Stop the node: every service and the agent. With SERVICE, stop only that service; it stays "
                + "down (also across restarts of the node) until 'start SERVICE'. On the leader, stopping the node "
                + "hands over at once (PostgreSQL stops cleanly, then the key goes); stopping a SERVICE there first "
                + "hands the leadership over by a clean switchover to the best eligible follower, as restart does; 'stop "
                + "leaderl' there fences PostgreSQL (no-start-pgsql) and releases the key.")
final class StopCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "SERVICE",
            description = "elasticsearch, etcd, leaderl or postgresql")
    String service;

    @Mixin
    RootOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        List<String> targets = ServiceCommands.targets(service);
        Settings settings = node.settings();
        AgentClient client = ServiceCommands.client(node, settings);
        Optional<JsonNode> status = client.status();
        var out = spec.commandLine().getOut();
        if (service == null) {
            if (status.isPresent()) {
                client.admin("/admin/shutdown", Duration.ofSeconds(30));
            }
            ServiceCommands.waitForAgentExit(node.paths());
            for (String name : targets) {
                out.println("ok: down: " + name + ": 0s");
            }
            out.flush();
            return 0;
        }
        JsonNode running = ServiceCommands.requireAgent(node, client);
        Handover.ifLeader(node, spec, client, running, service, "stopping " + service);
        client.admin("/admin/services/" + service + "/stop", ServiceCommands.SERVICE_WAIT.plusSeconds(60));
        var states = ServiceCommands.waitFor(client, targets, ServiceCommands::isDown, ServiceCommands.SERVICE_WAIT);
        return ServiceCommands.report(out, states, ServiceCommands::isDown);
    }
}
