package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeIdentity;
import org.chefbackend.backup.RepositoryBackup;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.config.Settings;
import org.chefbackend.recovery.Backup;
import org.chefbackend.repository.RepositorySettings;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.OperatorException;
import org.chefbackend.system.Poll;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "backup", mixinStandardHelpOptions = true,
        description = "Back up this node: a consistent PostgreSQL base backup, chef-backend.rb and the secrets, and a "
                + "manifest (versions, node, WAL position, SHA-256 of every file), as "
                + "/var/opt/chef-backup/chef-backup-YYYY-MM-DD-HH-MM-SS.tgz. Run it on a follower. The search index is "
                + "not included: after a restore, run chef-server-ctl reindex --all. With --repository, a pgBackRest base "
                + "backup into chef-backend.rb's backup.repository instead, restorable to any moment since with "
                + "restore --repository.")
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

    @Option(names = "--repository", description = "Take the base backup into backup.repository (pgBackRest), not a "
            + "tarball: with the WAL archive, any moment since it can be restored.")
    boolean repository;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "full", description = "With --repository: full, "
            + "diff (what changed since the last full) or incr (since the last backup) (default: ${DEFAULT-VALUE}).")
    String type;

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
        if (repository) {
            return intoRepository(ctx, out, leader, role, client);
        }
        if (!type.equals("full")) {
            throw OperatorException.usage("--type needs --repository: a tarball is always a full backup");
        }
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

    private int intoRepository(NodeContext ctx, PrintWriter out, boolean leader, String role, AgentClient client) {
        RepositorySettings r = RepositorySettings.of(ctx.settings()).orElseThrow(() -> OperatorException.usage(
                "backup.repository is not set in " + ctx.paths().configFile() + "; set it to the repository directory"
                        + " on every node, or run backup without --repository for a tarball"));
        if (!RepositoryBackup.TYPES.contains(type)) {
            throw OperatorException.usage("--type must be one of " + String.join(", ", RepositoryBackup.TYPES)
                    + ", not " + type);
        }
        Optional<RepositoryBackup.Leader> target = Optional.empty();
        if (!leader && ctx.secrets().ca() == null) {
            throw OperatorException.usage("this cluster is open (its secrets hold no cluster CA), so the leader runs no "
                    + "pgBackRest TLS server to back up through: back up the leader with -f, or close the cluster with "
                    + "secure-cluster");
        }
        if (!leader) {
            JsonNode view = client.get("/cluster").filter(c -> c.status() == 200).map(AgentClient.Response::body)
                    .orElseThrow(() -> OperatorException.failure("this node's agent gives no cluster view; a follower's"
                            + " backup needs the leader to start and stop it"));
            String name = Optional.ofNullable(view.at("/cluster/leader").asText(null)).orElseThrow(() ->
                    OperatorException.failure("no leader now: a follower's backup needs the leader to start and stop"
                            + " it; try again once the cluster has one"));
            String address = Optional.ofNullable(leaderAddress(view, name)).orElseThrow(() ->
                    OperatorException.failure("the cluster view does not list leader " + name + "'s address"));
            AgentClient remote = new AgentClient(address, ctx.settings().intValue("leaderl.http_port"), ctx.paths());
            JsonNode status = remote.status().orElseThrow(() -> OperatorException.failure("leader " + name + "'s agent "
                    + "at " + address + " does not answer; try again once it does"));
            target = Optional.of(RepositoryBackup.Leader.fromStatus(address, status).orElseThrow(() ->
                    OperatorException.usage("leader " + name + " has no backup.repository set; set it on every node")));
        }
        refuseWhileAnotherRuns(client, ctx);
        AgentClient leaderAgent = target.map(l -> new AgentClient(l.address(), ctx.settings().intValue("leaderl.http_port"),
                ctx.paths())).orElse(client);
        awaitStanza(leaderAgent);
        Checklist list = new Checklist(out, quiet);
        Optional<RepositoryBackup.Leader> from = target;
        long started = System.nanoTime();
        list.step("Backing up " + ctx.nodeName() + " (" + role + ") into " + r.directory() + " (" + type + ")",
                () -> RepositoryBackup.take(ctx, from, type, Duration.ofSeconds(timeout), line -> {
                    if (line.contains("new backup label") || line.contains("backup size") || line.contains("ERROR")) {
                        list.detail(line.replaceFirst("^\\S+ \\S+ P\\d+ +\\w+: ", ""));
                    }
                }));
        out.printf("Backup complete: %s backup in %s, %.1f s%n", type, r.directory(),
                (System.nanoTime() - started) / 1e9);
        out.flush();
        return 0;
    }

    /**
     * A scheduled backup running on any node (its /status says so) would share the repository with this one: pgBackRest
     * locks per node only. A scheduled one that starts in the next moment is not seen: the schedule's etcd lock is
     * the agents', which this command does not take.
     */
    private static void refuseWhileAnotherRuns(AgentClient client, NodeContext ctx) {
        JsonNode view = client.get("/cluster").filter(c -> c.status() == 200).map(AgentClient.Response::body).orElse(null);
        if (view == null) {
            return;
        }
        for (JsonNode n : view.path("nodes")) {
            String address = n.path("ip").asText(null);
            if (address == null) {
                continue;
            }
            new AgentClient(address, ctx.settings().intValue("leaderl.http_port"), ctx.paths()).status()
                    .map(st -> st.at("/backup/backup_running").asText(null)).ifPresent(type -> {
                        throw OperatorException.usage(n.path("name").asText() + " is taking a scheduled " + type
                                + " backup into the repository now; try again when it is done (status shows it)");
                    });
        }
    }

    /**
     * The leader makes the repository's stanza within a few seconds of leading (its agent's backup keeper); a backup
     * asked for before then waits for it, a while, rather than fail with pgBackRest's "has a stanza-create been
     * performed?".
     */
    private static void awaitStanza(AgentClient leader) {
        boolean ready = Poll.until(Duration.ofSeconds(60), Duration.ofMillis(500), () -> leader.status()
                .map(st -> st.at("/backup/stanza_ready").asBoolean()).orElse(false));
        if (!ready) {
            String problem = leader.status().map(st -> st.at("/backup/stanza_problem").asText("")).orElse("");
            throw OperatorException.failure("the leader has not made the repository's stanza"
                    + (problem.isEmpty() ? "" : ": " + problem) + "; see its status");
        }
    }

    private static String leaderAddress(JsonNode view, String name) {
        for (JsonNode n : view.path("nodes")) {
            if (n.path("name").asText().equals(name)) {
                return n.path("ip").asText(null);
            }
        }
        return null;
    }
}
