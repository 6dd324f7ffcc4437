package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.chefbackend.config.Settings;
import org.chefbackend.system.OperatorException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "remove-node", mixinStandardHelpOptions = true,
        description = "Remove NODE_NAME from the cluster, from another member: its etcd membership, status, "
                + "replication slot and search cluster-manager vote. The node must be powered off or have its "
                + "services stopped.")
final class RemoveNodeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NODE_NAME", description = "The member's name (see cluster-status).")
    String name;

    @Mixin
    ClusterOptions options;

    @Mixin
    RootOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Settings settings = node.settings();
        AgentClient client = ServiceCommands.client(node, settings);
        ServiceCommands.requireAgent(node, client);
        if (!options.confirm(out, "Remove " + name + " from the cluster?")) {
            throw OperatorException.usage("not confirmed; nothing was changed (use -y to confirm)");
        }
        AgentClient.Response r = client.post("/admin/cluster/remove",
                new ObjectMapper().createObjectNode().put("name", name), client.adminKey(), Duration.ofMinutes(2));
        if (r.status() != 200) {
            String error = r.body().path("error").asText("HTTP " + r.status());
            throw r.status() == 404 || r.status() == 409 ? OperatorException.usage(error) : OperatorException.failure(error);
        }
        for (JsonNode line : r.body().path("done")) {
            options.step(out, line.asText());
        }
        return 0;
    }
}
