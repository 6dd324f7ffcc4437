package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.chefbackend.config.Settings;
import org.chefbackend.system.OperatorException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** set-cluster-failover and set-node-failover: the switches leaderl reads from etcd every iteration. */
final class SetFailoverCommands {
    private SetFailoverCommands() {
    }

    static boolean parse(String state) {
        switch (state.toLowerCase(Locale.ROOT)) {
            case "on", "true", "enabled", "enable":
                return true;
            case "off", "false", "disabled", "disable":
                return false;
            default:
                throw OperatorException.usage("STATE must be on, off, true, false, enabled or disabled, got '" + state + "'");
        }
    }

    static int set(RootOptions node, CommandSpec spec, String scope, String state) {
        boolean enabled = parse(state);
        Settings settings = node.settings();
        AgentClient client = ServiceCommands.client(node, settings);
        ServiceCommands.requireAgent(node, client);
        AgentClient.Response r = client.post("/admin/cluster/failover", new ObjectMapper().createObjectNode()
                .put("scope", scope).put("enabled", enabled), client.adminKey(), Duration.ofSeconds(30));
        if (r.status() != 200) {
            throw OperatorException.failure(r.body().path("error").asText("HTTP " + r.status()));
        }
        spec.commandLine().getOut().println("ok: " + r.body().path("done").asText());
        spec.commandLine().getOut().flush();
        return 0;
    }

    @Command(name = "set-cluster-failover", mixinStandardHelpOptions = true,
            description = "Enable or disable automatic failover for the whole cluster (e.g. around upgrades).")
    static final class Cluster implements Callable<Integer> {
        @Parameters(paramLabel = "STATE", description = "on, off, true, false, enabled or disabled")
        String state;

        @Mixin
        RootOptions node;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            return set(node, spec, "cluster", state);
        }
    }

    @Command(name = "set-node-failover", mixinStandardHelpOptions = true,
            description = "Enable or disable failover to this node: with it off, the node is never elected leader.")
    static final class Node implements Callable<Integer> {
        @Parameters(paramLabel = "STATE", description = "on, off, true, false, enabled or disabled")
        String state;

        @Mixin
        RootOptions node;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            return set(node, spec, "node", state);
        }
    }
}
