package org.chefbackend.ctl;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;
import org.chefbackend.system.FileTrees;
import org.chefbackend.system.OperatorException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "cleanse", mixinStandardHelpOptions = true,
        description = "Return this node to its state before it was configured: stops everything, saves its "
                + "configuration to <root>/root/chef-backend-cleanse-<timestamp>/, and deletes its data, "
                + "configuration and logs. The package stays. Used to replace a failed node.")
final class CleanseCommand implements Callable<Integer> {
    @Option(names = "--with-external", description = "Accepted for compatibility; there is nothing external to delete.")
    boolean withExternal;

    @Mixin
    ClusterOptions options;

    @Mixin
    RootOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        NodePaths paths = node.paths();
        Settings settings = node.settings();
        if (!options.confirm(out, "Delete all of this node's data, configuration and logs?")) {
            throw OperatorException.usage("not confirmed; nothing was changed (use -y to confirm)");
        }
        ServiceCommands.stopAgent(paths, ServiceCommands.client(node, settings));
        options.step(out, "Stopped every service");
        if (Files.exists(paths.etcDir())) {
            Path saved = paths.resolve("/root").resolve("chef-backend-cleanse-"
                    + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd-HH-mm-ss")));
            Files.createDirectories(saved, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            try (Stream<Path> files = Files.list(paths.etcDir())) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    if (Files.isRegularFile(f)) {
                        Files.copy(f, saved.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
                    }
                }
            }
            options.step(out, "Saved the configuration to " + saved);
        }
        Set<Path> doomed = new LinkedHashSet<>(List.of(paths.varDir(), paths.logDir(), paths.etcDir()));
        for (String key : List.of("postgresql.data_dir", "etcd.data_dir", "elasticsearch.data_dir",
                "postgresql.log_directory", "etcd.log_directory", "elasticsearch.log_directory", "leaderl.log_directory",
                "ssl.data_dir")) {
            doomed.add(paths.resolve(settings.string(key)));
        }
        for (Path p : doomed) {
            if (Files.exists(p)) {
                FileTrees.deleteTree(p);
                options.detail(out, "deleted " + p);
            }
        }
        options.step(out, "Deleted this node's data, configuration and logs");
        return 0;
    }
}
