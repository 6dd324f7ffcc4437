package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeIdentity;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.config.Settings;
import org.chefbackend.recovery.Backup;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.OperatorException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "backup", mixinStandardHelpOptions = true,
        description = "Back up this node: a consistent PostgreSQL base backup, chef-backend.rb and the secrets, and a "
                + "manifest (versions, node, WAL position, SHA-256 of every file), as "
                + "/var/opt/chef-backup/chef-backup-YYYY-MM-DD-HH-MM-SS.tgz. Run it on a follower. The search index is "
                + "not included: after a restore, run chef-server-ctl reindex --all.")
final class BackupCommand implements Callable<Integer> {
    @Option(names = {"-f", "--force"}, description = "Back up even when this node is the leader.")
    boolean force;

    @Option(names = {"-y", "--yes"}, description = "Answer yes to every question.")
    boolean yes;

    @Option(names = "--timeout", paramLabel = "SECS", defaultValue = "600",
            description = "Give up (keeping nothing) after this many seconds (default: ${DEFAULT-VALUE}).")
    long timeout;

    @Option(names = "--quiet", description = "Print only errors and the archive's path.")
    boolean quiet;

    @Mixin
    RootOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (timeout <= 0) {
            throw OperatorException.usage("--timeout must be a positive number of seconds, not " + timeout);
        }
        NodePaths paths = node.paths();
        Settings settings = node.settings();
        AgentClient client = ServiceCommands.client(node, settings);
        JsonNode status = client.status().orElseThrow(() -> OperatorException.failure(
                "the node agent is not running; backup reads the running PostgreSQL (start it with: "
                        + CtlCommand.forRoot(paths.root(), "start") + ")"));
        boolean leader = status.path("cluster").path("leader").asBoolean();
        String role = leader ? "leader" : status.path("leaderl").path("state").asText("standalone");
        if (leader && !force) {
            throw OperatorException.usage("this node is the leader; run backup on a follower, or pass -f to back up "
                    + "the leader");
        }
        NodeIdentity id = NodeIdentity.load(paths, settings);
        NodeContext ctx = new NodeContext(settings, paths, id.name(), id.guid(), SecretsFile.load(paths.secretsFile()));
        Checklist list = new Checklist(out, quiet);
        Backup.Result r = list.step("Backing up " + id.name() + " (" + role + ")", () -> Backup.take(ctx, role,
                Duration.ofSeconds(timeout), s -> list.detail("\u2713 " + s), list::detail));
        double seconds = r.total().toNanos() / 1e9;
        out.printf("Backup complete: %s%n", r.archive());
        if (!quiet) {
            out.printf("  database %.1f MB, archive %.1f MB, WAL end %s, %.1f s (%.1f MB/s; base backup alone %.1f MB/s)%n",
                    r.databaseBytes() / 1048576.0, r.archiveBytes() / 1048576.0, r.endLsn(), seconds,
                    r.databaseBytes() / 1048576.0 / seconds,
                    r.databaseBytes() / 1048576.0 / Math.max(0.001, r.copy().toNanos() / 1e9));
        }
        out.flush();
        return 0;
    }
}
