package org.chefbackend.ctl;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.chefbackend.demo.Demo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "A local demo: a cluster of real nodes on loopback addresses with HAProxy in front, as a Chef "
                + "Server frontend runs it.",
        subcommands = {DemoCommand.Up.class, DemoCommand.Status.class, DemoCommand.Down.class})
final class DemoCommand implements Runnable {
    @Option(names = {"-d", "--dir"}, paramLabel = "DIR", scope = CommandLine.ScopeType.INHERIT,
            description = "Work directory: node roots, HAProxy's files, the demo's state (default: /tmp/chef-backend-demo).")
    Path dir = Demo.DEFAULT_DIR;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    Demo demo(CommandSpec sub) {
        PrintWriter out = sub.commandLine().getOut();
        PrintWriter err = sub.commandLine().getErr();
        return new Demo((root, o, e, args) -> {
            List<String> argv = new ArrayList<>(List.of(args));
            argv.add("--root");
            argv.add(root.toString());
            return ChefBackendCtl.execute(argv.toArray(String[]::new), o, e);
        }, out, err);
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = "Create the cluster (create-cluster on the first node, join-cluster on the others; small "
                    + "heaps), start HAProxy, wait until it shows exactly one UP server per backend, then print "
                    + "cluster-status and how to connect with psql and curl.")
    static final class Up implements Callable<Integer> {
        @ParentCommand
        DemoCommand parent;

        @Spec
        CommandSpec spec;

        @Option(names = "--nodes", paramLabel = "IP", split = ",", defaultValue = "127.0.0.2,127.0.0.3,127.0.0.4",
                description = "One loopback address per node (default: ${DEFAULT-VALUE}).")
        List<String> nodes;

        @Option(names = "--listen", paramLabel = "ADDR", defaultValue = "127.0.0.1",
                description = "HAProxy's listen address (default: ${DEFAULT-VALUE}).")
        String listen;

        @Option(names = "--postgresql-port", paramLabel = "PORT", defaultValue = "15432",
                description = "HAProxy's PostgreSQL port; not 5432, so it never clashes with a local PostgreSQL "
                        + "(default: ${DEFAULT-VALUE}).")
        int postgresqlPort;

        @Option(names = "--elasticsearch-port", paramLabel = "PORT", defaultValue = "19200",
                description = "HAProxy's search port (default: ${DEFAULT-VALUE}).")
        int elasticsearchPort;

        @Option(names = "--config-line", paramLabel = "LINE",
                description = "An extra chef-backend.rb line for every node, e.g. \"leaderl.leader_ttl_seconds = 10\" "
                        + "(repeatable).")
        List<String> configLines = new ArrayList<>();

        @Override
        public Integer call() throws IOException {
            return parent.demo(spec).up(new Demo.Options(parent.dir, nodes, listen, postgresqlPort, elasticsearchPort,
                    configLines));
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "cluster-status of the demo and HAProxy's UP servers; exits 1 when something is not healthy.")
    static final class Status implements Callable<Integer> {
        @ParentCommand
        DemoCommand parent;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            return parent.demo(spec).status(parent.dir);
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true,
            description = "Stop everything the demo started (HAProxy and every node, by pid) and remove its directory.")
    static final class Down implements Callable<Integer> {
        @ParentCommand
        DemoCommand parent;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            return parent.demo(spec).down(parent.dir);
        }
    }
}
