package org.chefbackend.ctl;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeIdentity;
import org.chefbackend.backup.PointInTimeRestore;
import org.chefbackend.cluster.ClusterFile;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.config.Settings;
import org.chefbackend.etcd.EtcdRecipe;
import org.chefbackend.postgres.PostgresLayout;
import org.chefbackend.postgres.PostgresRecipe;
import org.chefbackend.recovery.Processes;
import org.chefbackend.recovery.Restore;
import org.chefbackend.repository.RepositorySettings;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.FileTrees;
import org.chefbackend.system.OperatorException;

/**
 * {@code restore --repository [DIR]}: the first node of a new cluster, recovered to a moment from the repository. The
 * whole recovery runs in a staging directory first ({@link PointInTimeRestore}); only when PostgreSQL got to the target
 * there is this node's data replaced. The node keeps its chef-backend.rb; the secrets come from {@code -s}.
 */
final class RepositoryRestore {
    private final RestoreCommand c;
    private final PrintWriter out;

    RepositoryRestore(RestoreCommand command, PrintWriter out) {
        this.c = command;
        this.out = out;
    }

    int call() throws Exception {
        NodePaths paths = c.node.paths();
        if (c.archive != null) {
            throw OperatorException.usage("restore --repository reads the repository; it takes no backup file ("
                    + c.archive + ")");
        }
        if (c.publishAddress != null) {
            throw OperatorException.usage("--publish-address does not go with --repository: this node keeps its "
                    + "chef-backend.rb, publish_address included");
        }
        if (c.timeout <= 0) {
            throw OperatorException.usage("--timeout must be a positive number of seconds, not " + c.timeout);
        }
        PointInTimeRestore.Target target = target();
        Settings settings = c.node.settings();
        String address = settings.optionalString("publish_address").orElseThrow(() ->
                OperatorException.usage("publish_address is not set in " + paths.configFile()));
        LocalAddress.require(address);
        RepositorySettings configured = RepositorySettings.of(settings).orElse(null);
        Path dir = !c.repository.isEmpty() ? Path.of(c.repository).toAbsolutePath()
                : configured != null ? configured.directory() : null;
        if (dir == null) {
            throw OperatorException.usage("name the repository (--repository DIR) or set backup.repository in "
                    + paths.configFile());
        }
        if (!Files.isDirectory(dir)) {
            throw OperatorException.usage("no repository directory at " + dir);
        }
        RepositorySettings source = (configured != null ? configured : RepositorySettings.of(
                settings.with("backup.repository", dir.toString())).orElseThrow()).withDirectory(dir);
        if (c.secretsFile == null) {
            throw OperatorException.usage("pass the cluster's secrets with -s FILE (the repository holds none)");
        }
        Secrets secrets = SecretsFile.load(c.secretsFile.toAbsolutePath());
        NodeIdentity id = NodeIdentity.load(paths, settings);
        NodeContext ctx = new NodeContext(settings, paths, id.name(), id.guid(), secrets);
        // beside the data directory by default: the PostgreSQL user reaches it (it restores and recovers there), and
        // placing the result is a rename on the same file system, not a copy
        Path staging = c.stagingDir != null ? c.stagingDir.toAbsolutePath() : PostgresLayout.of(ctx).dataDir()
                .resolveSibling(".restore-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd-HH-mm-ss")));
        requireEmpty(staging);
        PostgresRecipe.traversableParents(staging);
        requireReachable(staging.getParent(), settings.string("postgresql.username"));
        Checklist list = new Checklist(out, c.options.quiet);
        try {
            PointInTimeRestore.Result[] staged = new PointInTimeRestore.Result[1];
            list.step("Restoring from " + dir + " and recovering to " + target.describe() + " in " + staging,
                    () -> staged[0] = PointInTimeRestore.stage(ctx, source, target, staging,
                            Duration.ofSeconds(c.timeout), list::detail));
            staged[0].stoppedAt().forEach(list::detail);
            if (!c.options.confirm(out, "Replace this node's data with the recovered database and make it the first "
                    + "node of a new cluster?")) {
                throw OperatorException.usage("not confirmed; nothing was changed (use -y to confirm)");
            }
            AgentClient client = ServiceCommands.client(c.node, settings);
            list.step("Stopping this node's services", () -> ServiceCommands.stopAgent(paths, client));
            list.step("Removing existing data directories", () -> Restore.removeData(paths, Restore.dataPaths(paths,
                    settings)));
            list.step("Installing the cluster's secrets", () -> SecretsFile.write(paths.secretsFile(), secrets));
            list.step("Restoring Elasticsearch data: not in the repository (run chef-server-ctl reindex --all once the "
                    + "frontends are restored)", () -> { });
            list.step("Placing the recovered PostgreSQL data", () -> Restore.placePostgres(ctx, staging));
            list.step("Reconfiguring Chef Backend as the first node of a new cluster", () -> {
                EtcdRecipe.writeInitialCluster(ctx, "new", Map.of(id.guid(), EtcdRecipe.peerUrl(ctx)));
                ClusterFile.creating().write(paths);
            });
            list.step("Starting up Chef Backend", () -> {
                ServiceCommands.ensureAgent(paths, client);
                CreateClusterCommand.waitForLeader(client, AgentWatch.of(paths, settings, "restore"), out, c.options);
            });
        } finally {
            list.step("Cleaning Up Temporary Files", () -> {
                if (c.stagingDir == null) {
                    FileTrees.deleteTree(staging);
                } else {
                    FileTrees.emptyDirectory(staging);
                }
            });
        }
        out.println("Restore complete: " + paths.root() + " leads a new cluster recovered to " + target.describe()
                + "; join the other nodes with " + CtlCommand.ctl() + " join-cluster " + address + " -s SECRETS");
        out.flush();
        return 0;
    }

    private PointInTimeRestore.Target target() {
        List<PointInTimeRestore.Target> given = new ArrayList<>();
        if (c.targetTime != null) {
            given.add(new PointInTimeRestore.Target("time", c.targetTime));
        }
        if (c.targetLsn != null) {
            if (!c.targetLsn.matches("[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}")) {
                throw OperatorException.usage("--target-lsn must be a WAL position such as 0/5000028, not " + c.targetLsn);
            }
            given.add(new PointInTimeRestore.Target("lsn", c.targetLsn));
        }
        if (c.targetName != null) {
            given.add(new PointInTimeRestore.Target("name", c.targetName));
        }
        if (given.size() > 1) {
            throw OperatorException.usage("give one of --target-time, --target-lsn and --target-name (none: the latest)");
        }
        given.forEach(t -> {
            if (t.value().isBlank() || t.value().chars().anyMatch(Character::isISOControl)) {
                throw OperatorException.usage("the recovery target must be one line of text");
            }
        });
        return given.isEmpty() ? PointInTimeRestore.Target.LATEST : given.get(0);
    }

    /** PostgreSQL and pgBackRest run as the PostgreSQL user in the staging directory: refuse one it cannot reach. */
    private static void requireReachable(Path dir, String user) {
        try {
            Processes.run(Processes.asUser(user, List.of("test", "-x", dir.toString())), Path.of("/"), Map.of(), null,
                    System.nanoTime() + TimeUnit.SECONDS.toNanos(10), line -> { });
        } catch (IOException e) {
            throw OperatorException.usage("the PostgreSQL user " + user + " cannot reach " + dir + " (a directory on the "
                    + "way is closed to it); choose a staging directory it can reach with -d DIR");
        }
    }

    private static void requireEmpty(Path staging) throws IOException {
        if (Files.isDirectory(staging)) {
            try (Stream<Path> entries = Files.list(staging)) {
                if (entries.findAny().isPresent()) {
                    throw OperatorException.usage("the staging directory " + staging + " is not empty");
                }
            }
        }
    }
}
