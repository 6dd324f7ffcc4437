package org.chefbackend.ctl;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.Callable;
import org.chefbackend.config.Settings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "start", mixinStandardHelpOptions = true,
        description = "Start the node's services (starting its agent if needed), or just SERVICE. A service stopped "
                + "with 'stop SERVICE' stays down until started again.")
final class StartCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "SERVICE",
            description = "elasticsearch, etcd, leaderl or postgresql")
    String service;

    @Mixin
    RootOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        List<String> targets = ServiceCommands.targets(service);
        Settings settings = node.settings();
        AgentClient client = ServiceCommands.client(node, settings);
        boolean wasRunning = client.status().isPresent();
        ServiceCommands.ensureAgent(node.paths(), client);
        if (service != null || wasRunning) {
            client.admin(service == null ? "/admin/start" : "/admin/services/" + service + "/start",
                    ServiceCommands.SERVICE_WAIT.plusSeconds(60));
        }
        var done = ServiceCommands.startedEnough(service);
        var states = ServiceCommands.waitFor(client, targets, done, ServiceCommands.SERVICE_WAIT);
        return ServiceCommands.report(spec.commandLine().getOut(), states, done);
    }
}
