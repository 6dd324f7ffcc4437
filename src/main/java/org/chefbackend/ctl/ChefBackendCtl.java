package org.chefbackend.ctl;

import java.io.PrintWriter;
import org.chefbackend.config.ConfigException;
import org.chefbackend.config.SecretsException;
import org.chefbackend.system.Binaries;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * chef-backend-ctl: the operator's one command. A thin, fast-starting client: it reads local files and (for
 * cluster commands) talks to node agents over HTTP; it never loads the etcd stack.
 */
@Command(name = "chef-backend-ctl",
        mixinStandardHelpOptions = true,
        versionProvider = VersionCommand.Provider.class,
        description = "Manage a chef-backend node and its cluster.",
        subcommands = {
            CommandLine.HelpCommand.class,
            GenSampleBackendConfigCommand.class,
            ReconfigureCommand.class,
            ShowConfigCommand.class,
            GenServerConfigCommand.class,
            GenHaproxyConfigCommand.class,
            VersionCommand.class,
            StartCommand.class,
            StopCommand.class,
            RestartCommand.class,
            StatusCommand.class,
            TailCommand.class,
            ServiceListCommand.class,
            AgentCommand.class,
            CreateClusterCommand.class,
            JoinClusterCommand.class,
            RemoveNodeCommand.class,
            CleanseCommand.class,
            ClusterStatusCommand.class,
            IntentCommands.Promote.class,
            IntentCommands.Demote.class,
            IntentCommands.ForceLeader.class,
            SetFailoverCommands.Cluster.class,
            SetFailoverCommands.Node.class,
            DemoCommand.class,
            BackupCommand.class,
            RestoreCommand.class,
            PgsqlFollowCommand.class,
        })
public final class ChefBackendCtl implements Runnable {
    /** Bad input: a wrong option, a broken chef-backend.rb or secrets file. */
    public static final int EXIT_USAGE = 2;
    /** The command could not do its work. */
    public static final int EXIT_FAILURE = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs one command line; the entry point tests use. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new ChefBackendCtl());
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
                || e instanceof org.chefbackend.agent.ServiceSetupException) {
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
