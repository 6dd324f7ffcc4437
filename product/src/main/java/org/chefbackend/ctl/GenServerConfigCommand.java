package org.chefbackend.ctl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.Callable;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.config.Settings;
import org.chefbackend.frontend.ChefServerRb;
import org.chefbackend.frontend.HaproxyConfig;
import org.chefbackend.system.OperatorException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "gen-server-config", mixinStandardHelpOptions = true,
        description = "Print the chef-server.rb for the Chef Infra Server frontend named FQDN. It holds the "
                + "PostgreSQL superuser password: keep it as secret as chef-backend-secrets.json.")
final class GenServerConfigCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FQDN", description = "The frontend's fully qualified domain name.")
    String fqdn;

    @Option(names = {"-f", "--filename"}, paramLabel = "FILE", description = "Write to FILE (mode 0600) instead of stdout.")
    Path file;

    @Mixin
    NodeOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (fqdn.isBlank() || fqdn.chars().anyMatch(Character::isWhitespace)) {
            throw OperatorException.usage("FQDN must be a host name, got '" + fqdn + "'");
        }
        Settings settings = node.settings();
        String self = settings.optionalString("publish_address").orElseThrow(() -> NodeHints.noPublishAddress(
                node.configFile(), "; the frontend needs the members' addresses"));
        Secrets secrets = SecretsFile.load(node.paths().secretsFile());
        List<String> members = LiveMembers.fetch(node, settings)
                .map(l -> l.stream().map(HaproxyConfig.Member::address).toList())
                .orElseGet(() -> {
                    spec.commandLine().getErr().println("chef-backend-ctl: note: no live cluster answered on this node; "
                            + "chef_backend_members lists only this node's publish_address " + self);
                    spec.commandLine().getErr().flush();
                    return List.of(self);
                });
        String text = ChefServerRb.render(fqdn, members, settings.integer("postgresql.port"),
                settings.integer("elasticsearch.port"), settings.string("postgresql.db_superuser"),
                secrets.dbSuperuserPassword());
        if (file == null) {
            spec.commandLine().getOut().print(text);
            spec.commandLine().getOut().flush();
        } else {
            writePrivately(file, text);
        }
        return 0;
    }

    /** Atomically, and never readable by others even for a moment: the file carries the superuser password. */
    static void writePrivately(Path target, String text) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
