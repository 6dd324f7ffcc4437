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

@Command(name = "restart", mixinStandardHelpOptions = true,
        description = "Restart the node's services, or just SERVICE. On the leader this first hands the leadership "
                + "over to the best eligible follower by a clean switchover (as demote does: no acknowledged write "
                + "lost, about a second without writes), so the restart never causes an unplanned failover; with no "
                + "eligible follower (or failover off) the leader restarts in place and stays leader. 'restart leaderl' on the "
                + "leader hands over as 'stop leaderl' always has: PostgreSQL fenced, the key released.")
final class RestartCommand implements Callable<Integer> {
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
        var status = client.status();
        if (status.isEmpty()) {
            ServiceCommands.ensureAgent(node.paths(), client);
        } else {
            Handover.ifLeader(node, spec, client, status.get(), service, "restarting " + (service == null ? "its services" : service));
            client.admin(service == null ? "/admin/restart" : "/admin/services/" + service + "/restart",
                    ServiceCommands.SERVICE_WAIT.plusSeconds(120));
        }
        var done = ServiceCommands.startedEnough(service);
        var states = ServiceCommands.waitFor(client, targets, done, ServiceCommands.SERVICE_WAIT);
        return ServiceCommands.report(spec.commandLine().getOut(), states, done);
    }
}
