package org.chefbackend.ctl;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.chefbackend.config.Settings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "tail", mixinStandardHelpOptions = true,
        description = "Follow the logs of every service, or of SERVICE (<log_directory>/current).")
final class TailCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "SERVICE",
            description = "elasticsearch, etcd, leaderl or postgresql")
    String service;

    @Option(names = {"-n", "--lines"}, paramLabel = "N", defaultValue = "10", description = "Lines of history to print first (default ${DEFAULT-VALUE}).")
    int lines;

    @Option(names = "--no-follow", description = "Print the last lines and exit instead of following.")
    boolean noFollow;

    @Mixin
    RootOptions node;

    @Override
    public Integer call() throws Exception {
        Settings settings = node.settings();
        List<String> command = new ArrayList<>(List.of("tail", "-n", String.valueOf(lines)));
        if (!noFollow) {
            command.add("-F");
        }
        for (String name : ServiceCommands.targets(service)) {
            Path current = node.paths().resolve(settings.string(name + ".log_directory")).resolve("current");
            command.add(current.toString());
        }
        // tail(1) already follows renames (-F), which is how rotation replaces "current"
        return new ProcessBuilder(command).inheritIO().start().waitFor();
    }
}
