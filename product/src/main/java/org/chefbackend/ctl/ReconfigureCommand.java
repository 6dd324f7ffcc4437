package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.chefbackend.agent.ConfigChangeCheck;
import org.chefbackend.agent.MachineProbe;
import org.chefbackend.agent.ProcessIdentity;
import org.chefbackend.config.Settings;
import org.chefbackend.system.OperatorException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "reconfigure", mixinStandardHelpOptions = true,
        description = "Apply a changed chef-backend.rb: re-render every service's configuration and reload or "
                + "restart only the services whose configuration changed.")
final class ReconfigureCommand implements Callable<Integer> {
    @Mixin
    RootOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Settings settings = node.settings(); // a broken file stops here, before anything changes
        // the agent checks the rest against the machine (addresses, ports) before it changes anything
        AgentClient client = ServiceCommands.client(node, settings);
        var out = spec.commandLine().getOut();
        if (client.status().isEmpty()) {
            Optional<ProcessIdentity> agent = AgentProcess.running(node.paths());
            if (agent.isPresent()) {
                throw OperatorException.failure("the node agent (pid " + agent.get().pid() + ") runs but does not"
                        + " answer at " + client.base() + "; nothing was changed");
            }
            List<String> problems = ConfigChangeCheck.addressProblems(settings, new MachineProbe());
            if (!problems.isEmpty()) {
                throw OperatorException.usage(String.join("; ", problems));
            }
            out.println("ok: " + node.configFile() + " is valid; the node agent is not running, 'start' applies it");
            out.flush();
            return 0;
        }
        JsonNode result = client.admin("/admin/reconfigure", Duration.ofMinutes(5));
        for (Iterator<Map.Entry<String, JsonNode>> it = result.path("reconfigure").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.println("ok: " + e.getKey() + ": " + e.getValue().asText());
        }
        out.flush();
        return 0;
    }
}
