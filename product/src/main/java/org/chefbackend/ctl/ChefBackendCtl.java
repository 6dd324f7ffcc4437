package org.chefbackend.ctl;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.config.ConfigException;
import org.chefbackend.config.SecretsException;
import org.chefbackend.system.Binaries;
import org.chefbackend.system.OperatorException;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/**
 * chef-backend-ctl: the operator's one command. A thin, fast-starting client: it reads local files and (for
 * cluster commands) talks to node agents over HTTP; it never loads the etcd stack.
 */
@Command(name = "chef-backend-ctl",
        mixinStandardHelpOptions = true,
        versionProvider = VersionCommand.Provider.class,
        description = "Manage a chef-backend node and its cluster.")
public final class ChefBackendCtl implements Runnable {
    /** Bad input: a wrong option, a broken chef-backend.rb or secrets file. */
    public static final int EXIT_USAGE = OperatorException.EXIT_USAGE;
    /** The command could not do its work. */
    public static final int EXIT_FAILURE = OperatorException.EXIT_FAILURE;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Every subcommand by name, in the order help lists them. */
    static final Map<String, Class<?>> COMMANDS = commands();

    private static Map<String, Class<?>> commands() {
        Map<String, Class<?>> m = new LinkedHashMap<>();
        m.put("help", CommandLine.HelpCommand.class);
        m.put("gen-sample-backend-config", GenSampleBackendConfigCommand.class);
        m.put("reconfigure", ReconfigureCommand.class);
        m.put("show-config", ShowConfigCommand.class);
        m.put("gen-server-config", GenServerConfigCommand.class);
        m.put("gen-haproxy-config", GenHaproxyConfigCommand.class);
        m.put("version", VersionCommand.class);
        m.put("start", StartCommand.class);
        m.put("stop", StopCommand.class);
        m.put("restart", RestartCommand.class);
        m.put("status", StatusCommand.class);
        m.put("tail", TailCommand.class);
        m.put("service-list", ServiceListCommand.class);
        m.put("agent", AgentCommand.class);
        m.put("create-cluster", CreateClusterCommand.class);
        m.put("join-cluster", JoinClusterCommand.class);
        m.put("remove-node", RemoveNodeCommand.class);
        m.put("cleanse", CleanseCommand.class);
        m.put("cluster-status", ClusterStatusCommand.class);
        m.put("promote", IntentCommands.Promote.class);
        m.put("demote", IntentCommands.Demote.class);
        m.put("force-leader", IntentCommands.ForceLeader.class);
        m.put("set-cluster-failover", SetFailoverCommands.Cluster.class);
        m.put("set-node-failover", SetFailoverCommands.Node.class);
        m.put("demo", DemoCommand.class);
        m.put("backup", BackupCommand.class);
        m.put("backup-list", BackupListCommand.class);
        m.put("backup-check", BackupCheckCommand.class);
        m.put("restore", RestoreCommand.class);
        m.put("pgsql-follow", PgsqlFollowCommand.class);
        m.put("secure-cluster", SecureClusterCommand.class);
        m.put("rotate-secrets", RotateSecretsCommand.class);
        m.put("rotate-certificates", RotateCertificatesCommand.class);
        m.put("rotate-ca", RotateCaCommand.class);
        return m;
    }

    /** The command with every subcommand: what help lists, and what checks of written command lines parse with. */
    public static CommandLine everyCommand() {
        CommandLine cli = new CommandLine(new ChefBackendCtl());
        COMMANDS.forEach(cli::addSubcommand);
        return cli;
    }

    /** Runs one command line; the entry point tests use. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        // picocli reflects over every subcommand it is given, a good part of a short command's start-up: a command
        // line naming one subcommand gets only that one; anything else (help, --version, a typo) gets them all
        Class<?> only = args.length > 0 && !args[0].equals("help") ? COMMANDS.get(args[0]) : null;
        CommandLine cli;
        if (only != null) {
            cli = new CommandLine(new ChefBackendCtl());
            cli.addSubcommand(args[0], only);
        } else {
            cli = everyCommand();
        }
        cli.setOut(out);
        cli.setErr(err);
        cli.setUsageHelpAutoWidth(true);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> report(e, commandLine.getErr()));
        return cli.execute(args);
    }

    /** Operators get one line, never a stack trace; CHEF_BACKEND_DEBUG=1 shows it for bug reports. */
    static int report(Exception e, PrintWriter err) {
        int code;
        String message;
        if (e instanceof ConfigException || e instanceof SecretsException) {
            code = EXIT_USAGE;
            message = e.getMessage();
        } else if (e instanceof OperatorException op) {
            code = op.exitCode();
            message = op.getMessage();
        } else if (e instanceof Binaries.MissingBinaryException
                || e instanceof ServiceSetupException) {
            code = EXIT_FAILURE;
            message = e.getMessage();
        } else {
            code = EXIT_FAILURE;
            message = "internal error: " + e.getClass().getSimpleName() + ": " + e.getMessage()
                    + " (rerun with CHEF_BACKEND_DEBUG=1 for details)";
        }
        err.println("chef-backend-ctl: " + message);
        if ("1".equals(System.getenv("CHEF_BACKEND_DEBUG"))) {
            e.printStackTrace(err);
        }
        err.flush();
        return code;
    }
}
