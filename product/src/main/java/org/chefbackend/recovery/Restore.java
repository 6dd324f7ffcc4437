package org.chefbackend.recovery;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceUsers;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.config.Settings;
import org.chefbackend.etcd.EtcdRecipe;
import org.chefbackend.postgres.BaseBackup;
import org.chefbackend.postgres.PostgresLayout;
import org.chefbackend.postgres.StandbyConfig;
import org.chefbackend.search.OpenSearchRecipe;
import org.chefbackend.system.FileTrees;

/**
 * {@code restore}'s work, step by step (the command reports each with ✓/✗): unpack into a staging directory and
 * prove the archive whole against its manifest before anything is deleted; remove this node's data; restore
 * chef-backend.rb (with this node's address and name) and the secrets; place the PostgreSQL base backup as this
 * node's data directory. The command then creates a new cluster with this node as its first member.
 */
public final class Restore {
    private static final Pattern NODE_LINE = Pattern.compile("^\\s*(publish_address|fqdn)\\b.*$");

    private Restore() {
    }

    /**
     * Unpacks {@code archive} into the (new or empty) {@code staging} directory and verifies it: gzip's and tar's
     * own checks catch truncation and damage to the stream, the manifest's checksums damage to any file. On any
     * problem the staging directory is removed and an IOException says what is wrong.
     */
    public static JsonNode unpackAndVerify(Path archive, Path staging) throws IOException {
        if (!Files.isRegularFile(archive)) {
            throw new IOException("no backup file at " + archive);
        }
        boolean fresh = !Files.exists(staging);
        if (!fresh) {
            try (Stream<Path> s = Files.list(staging)) {
                if (s.findAny().isPresent()) {
                    throw new IOException("the staging directory " + staging + " is not empty");
                }
            }
        }
        Files.createDirectories(staging);
        Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwx------"));
        try {
            try {
                Processes.run(List.of("tar", "-C", staging.toString(), "-xzf", archive.toString()), staging, Map.of(),
                        null, System.nanoTime() + TimeUnit.HOURS.toNanos(6), l -> { });
            } catch (IOException e) {
                throw new IOException(archive + " is truncated or corrupt (" + e.getMessage() + ")");
            }
            JsonNode manifest = Manifest.read(staging);
            List<String> problems = Manifest.verify(staging, manifest);
            if (!problems.isEmpty()) {
                throw new IOException(archive + " is corrupt: " + problems.get(0)
                        + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more problems)" : ""));
            }
            return manifest;
        } catch (IOException | RuntimeException e) {
            if (fresh) {
                FileTrees.deleteTree(staging);
            } else {
                FileTrees.emptyDirectory(staging);
            }
            throw e;
        }
    }

    /**
     * The chef-backend.rb to restore: the backup's, with this node's own publish_address and fqdn (an explicit
     * --publish-address first, then this node's current chef-backend.rb, then the backup's address).
     *
     * @param local this node's chef-backend.rb text, null when it has none
     */
    public static String restoredConfig(String fromBackup, String local, String publishAddress) {
        List<String> out = new ArrayList<>();
        String backupAddress = null;
        for (String line : fromBackup.split("\n", -1)) {
            if (NODE_LINE.matcher(line).matches()) {
                if (line.strip().startsWith("publish_address")) {
                    backupAddress = line.strip();
                }
                continue;
            }
            out.add(line);
        }
        while (!out.isEmpty() && out.get(out.size() - 1).isBlank()) {
            out.remove(out.size() - 1);
        }
        String address = null;
        String fqdn = null;
        if (local != null) {
            for (String line : local.split("\n")) {
                if (NODE_LINE.matcher(line).matches()) {
                    if (line.strip().startsWith("publish_address")) {
                        address = line.strip();
                    } else {
                        fqdn = line.strip();
                    }
                }
            }
        }
        if (publishAddress != null) {
            address = "publish_address '" + publishAddress + "'";
        }
        if (address == null) {
            address = backupAddress;
        }
        out.add("# this node (restore kept its own address and name)");
        if (address != null) {
            out.add(address);
        }
        if (fqdn != null) {
            out.add(fqdn);
        }
        return String.join("\n", out) + "\n";
    }

    /** Where this node keeps data a restore replaces, under the settings given (old and new may differ). */
    public static Set<Path> dataPaths(NodePaths paths, Settings settings) {
        Set<Path> out = new LinkedHashSet<>();
        for (String key : List.of("postgresql.data_dir", "etcd.data_dir", "elasticsearch.data_dir")) {
            out.add(paths.resolve(settings.string(key)));
        }
        out.add(paths.resolve(EtcdRecipe.INITIAL_CLUSTER_FILE));
        return out;
    }

    /** Removes the data and the cluster state of this node (its GUID stays: it is the node's identity). */
    public static void removeData(NodePaths paths, Set<Path> data) throws IOException {
        for (Path p : data) {
            FileTrees.deleteTree(p);
        }
        Path leaderl = paths.leaderlDataDir();
        if (Files.isDirectory(leaderl)) {
            try (Stream<Path> files = Files.list(leaderl)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    if (!f.getFileName().toString().equals("guid")) {
                        FileTrees.deleteTree(f);
                    }
                }
            }
        }
    }

    /** Writes the restored chef-backend.rb and secrets. */
    public static void restoreConfig(NodePaths paths, Path staging, String publishAddress) throws IOException {
        Path rb = staging.resolve("config/chef-backend.rb");
        String fromBackup = Files.exists(rb) ? Files.readString(rb) : "";
        String local = Files.exists(paths.configFile()) ? Files.readString(paths.configFile()) : null;
        Files.createDirectories(paths.etcDir());
        Files.writeString(paths.configFile(), restoredConfig(fromBackup, local, publishAddress));
        SecretsFile.write(paths.secretsFile(),
                SecretsFile.load(staging.resolve("config/chef-backend-secrets.json")));
    }

    /**
     * Makes the staged base backup this node's PostgreSQL data directory: no standby settings (it starts as a
     * primary, replaying the WAL the backup carries up to its end position), owned by the service user.
     */
    public static void placePostgres(NodeContext ctx, Path staging) throws IOException {
        PostgresLayout layout = PostgresLayout.of(ctx);
        Path data = layout.dataDir();
        FileTrees.deleteTree(data);
        Trees.move(staging.resolve("pgsql"), data);
        for (String f : List.of(StandbyConfig.STANDBY_SIGNAL, StandbyConfig.STANDBY_CONF, "recovery.signal",
                "postmaster.pid", "postmaster.opts")) {
            Files.deleteIfExists(data.resolve(f));
        }
        ServiceUsers.ensureUser(layout.user());
        ServiceUsers.chownTree(data, layout.user());
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
        Files.deleteIfExists(OpenSearchRecipe.seedHostsFile(ctx));
    }
}
