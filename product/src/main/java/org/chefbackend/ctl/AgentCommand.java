package org.chefbackend.ctl;

import java.util.concurrent.Callable;
import org.chefbackend.node.NodeAgent;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "agent", mixinStandardHelpOptions = true,
        description = "Run the node agent in the foreground (for a systemd unit; 'start' runs it in the background).")
final class AgentCommand implements Callable<Integer> {
    @Mixin
    RootOptions node;

    @Override
    public Integer call() {
        return NodeAgent.run(node.paths());
    }
}
