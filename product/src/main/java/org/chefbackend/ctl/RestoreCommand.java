package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeIdentity;
import org.chefbackend.cluster.ClusterFile;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.config.Settings;
import org.chefbackend.etcd.EtcdRecipe;
import org.chefbackend.postgres.BaseBackup;
import org.chefbackend.recovery.Backup;
import org.chefbackend.recovery.Restore;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.FileTrees;
import org.chefbackend.system.OperatorException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "restore", mixinStandardHelpOptions = true,
        description = "Build a new cluster's first node from a backup (disaster recovery): the archive is unpacked and "
                + "verified against its manifest before anything is deleted; then this node's data is replaced, the "
                + "configuration and secrets restored, PostgreSQL restored, and the node started as the leader of a new "
                + "cluster. Other nodes then join it with join-cluster; afterwards run chef-server-ctl reindex --all.")
final class RestoreCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "PATH",
            description = "The backup (.tgz) made by chef-backend-ctl backup (not with --repository).")
    Path archive;

    @Option(names = "--repository", arity = "0..1", fallbackValue = "", paramLabel = "DIR",
            description = "Restore from a pgBackRest repository (default DIR: backup.repository) to a moment: the newest "
                    + "base backup before it, then the archived WAL up to it. This node's chef-backend.rb is kept; the "
                    + "secrets come from -s.")
    String repository;

    @Option(names = "--target-time", paramLabel = "TIMESTAMP",
            description = "With --repository: recover up to this moment, in PostgreSQL's recovery_target_time syntax, "
                    + "e.g. '2026-01-01 12:00:00+00'.")
    String targetTime;

    @Option(names = "--target-lsn", paramLabel = "LSN", description = "With --repository: recover up to this WAL position.")
    String targetLsn;

    @Option(names = "--target-name", paramLabel = "NAME",
            description = "With --repository: recover up to this restore point (pg_create_restore_point).")
    String targetName;

    @Option(names = {"-s", "--secrets-file-path"}, paramLabel = "PATH",
            description = "With --repository: the cluster's chef-backend-secrets.json (the repository holds no secrets).")
    Path secretsFile;

    @Option(names = "--timeout", paramLabel = "SECS", defaultValue = "3600",
            description = "With --repository: give up (changing nothing) when recovery has not reached the target in this "
                    + "many seconds (default: ${DEFAULT-VALUE}).")
    long timeout;

    @Option(names = {"--publish-address", "--publish_address"}, paramLabel = "IP",
            description = "This node's address (default: its chef-backend.rb's, else the backup's).")
    String publishAddress;

    @Option(names = {"-d", "--staging-dir"}, paramLabel = "DIR",
            description = "Where to unpack the backup (default: a new directory under /var/opt/chef-backup; with "
                    + "--repository, where to restore and recover, beside the PostgreSQL data directory).")
    Path stagingDir;

    @Mixin
    ClusterOptions options;

    @Mixin
    RootOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        NodePaths paths = node.paths();
        if (repository != null) {
            return new RepositoryRestore(this, out).call();
        }
        if (targetTime != null || targetLsn != null || targetName != null || secretsFile != null) {
            throw OperatorException.usage("--target-time, --target-lsn, --target-name and -s go with --repository");
        }
        if (archive == null) {
            throw OperatorException.usage("name the backup file to restore, or restore from the repository with "
                    + "--repository");
        }
        Path file = archive.toAbsolutePath();
        if (!Files.isRegularFile(file)) {
            throw OperatorException.usage("no backup file at " + file);
        }
        if (publishAddress != null) {
            LocalAddress.require(publishAddress);
        }
        Settings before = node.settings();
        Path staging = stagingDir != null ? stagingDir.toAbsolutePath() : paths.resolve(Backup.DIRECTORY)
                .resolve(".restore-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd-HH-mm-ss")));
        Checklist list = new Checklist(out, options.quiet);
        JsonNode manifest = list.step("Unpacking backup to temporary directory and verifying it",
                () -> Restore.unpackAndVerify(file, staging));
        list.detail("backup of " + manifest.at("/node/name").asText() + " (" + manifest.at("/node/role").asText()
                + ") taken " + manifest.path("created_at").asText() + ", WAL end " + manifest.at("/lsn/end").asText()
                + ", " + manifest.path("files").size() + " files verified");
        try {
            if (!options.confirm(out, "Replace this node's data with the backup and make it the first node of a new "
                    + "cluster?")) {
                throw OperatorException.usage("not confirmed; nothing was changed (use -y to confirm)");
            }
            AgentClient client = ServiceCommands.client(node, before);
            list.step("Stopping this node's services", () -> ServiceCommands.stopAgent(paths, client));
            Set<Path> data = new LinkedHashSet<>(Restore.dataPaths(paths, before));
            list.step("Removing existing data directories", () -> Restore.removeData(paths, data));
            Settings[] restored = new Settings[1];
            list.step("Restoring basic configuration", () -> {
                Restore.restoreConfig(paths, staging, publishAddress);
                restored[0] = Settings.load(paths.configFile(), MachineFacts.detect());
                String address = restored[0].optionalString("publish_address").orElseThrow(() ->
                        OperatorException.usage("no publish address: pass --publish-address IP"));
                LocalAddress.require(address);
                Restore.removeData(paths, Restore.dataPaths(paths, restored[0]));
            });
            NodeIdentity id = NodeIdentity.load(paths, restored[0]);
            NodeContext ctx = new NodeContext(restored[0], paths, id.name(), id.guid(),
                    SecretsFile.load(paths.secretsFile()));
            list.step("Restoring Elasticsearch data: not in the backup (run chef-server-ctl reindex --all once the "
                    + "frontends are restored)", () -> { });
            list.step("Restoring PostgreSQL data (WAL up to " + manifest.at("/lsn/end").asText() + ")",
                    () -> Restore.placePostgres(ctx, staging));
            list.step("Reconfiguring Chef Backend as the first node of a new cluster", () -> {
                EtcdRecipe.writeInitialCluster(ctx, "new", Map.of(id.guid(), EtcdRecipe.peerUrl(ctx)));
                ClusterFile.creating().write(paths);
            });
            AgentClient local = ServiceCommands.client(node, restored[0]);
            list.step("Starting up Chef Backend", () -> {
                ServiceCommands.ensureAgent(paths, local);
                CreateClusterCommand.waitForLeader(local, AgentWatch.of(paths, restored[0], "restore"), out, options);
            });
        } finally {
            list.step("Cleaning Up Temporary Files", () -> deleteStaging(staging));
        }
        out.println("Restore complete: " + node.paths().root() + " leads a new cluster; join the other nodes with "
                + CtlCommand.ctl() + " join-cluster " + node.settings().string("publish_address") + " -s SECRETS");
        out.flush();
        return 0;
    }

    private void deleteStaging(Path staging) throws IOException {
        if (stagingDir == null) {
            FileTrees.deleteTree(staging);
        } else {
            FileTrees.emptyDirectory(staging);
        }
    }
}
