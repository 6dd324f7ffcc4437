package org.chefbackend.ctl;

import java.util.concurrent.Callable;
import org.chefbackend.config.Settings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "service-list", mixinStandardHelpOptions = true,
        description = "List the node's services; enabled ones are marked with *.")
final class ServiceListCommand implements Callable<Integer> {
    @Mixin
    RootOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Settings settings = node.settings();
        for (String name : ServiceLines.SERVICES) {
            spec.commandLine().getOut().println(name + (settings.bool(name + ".enable") ? "*" : ""));
        }
        spec.commandLine().getOut().flush();
        return 0;
    }
}
