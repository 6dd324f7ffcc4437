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
    @Parameters(index = "0", paramLabel = "PATH", description = "The backup (.tgz) made by chef-backend-ctl backup.")
    Path archive;

    @Option(names = {"--publish-address", "--publish_address"}, paramLabel = "IP",
            description = "This node's address (default: its chef-backend.rb's, else the backup's).")
    String publishAddress;

    @Option(names = {"-d", "--staging-dir"}, paramLabel = "DIR",
            description = "Where to unpack the backup (default: a new directory under /var/opt/chef-backup).")
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
