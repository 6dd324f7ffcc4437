package org.chefbackend.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.chefbackend.bench.HaCluster;
import org.chefbackend.bench.Procs;
import org.chefbackend.bench.Writer;
import org.chefbackend.system.FileTrees;

/**
 * The machine a repository restore builds the first node of a new cluster on: a node root of its own with its own
 * chef-backend.rb, driven by chef-backend-ctl like the cluster's nodes. Its processes are found by its root and its
 * PostgreSQL's cluster name, and ended by pid.
 */
final class RestoreNode implements AutoCloseable {
    static final String NAME = "pitr-restore";

    private final Path ctl;
    private final Path root;
    private final String address;

    RestoreNode(Path ctl, Path root, String address) {
        this.ctl = ctl;
        this.root = root;
        this.address = address;
    }

    String address() {
        return address;
    }

    /** A fresh machine: nothing of an earlier restore, and a chef-backend.rb of these lines. */
    void prepare(List<String> settings) throws IOException {
        close();
        Path rb = root.resolve("etc/chef-backend/chef-backend.rb");
        Files.createDirectories(rb.getParent());
        StringBuilder text = new StringBuilder().append("publish_address '").append(address).append("'\n")
                .append("fqdn '").append(NAME).append("'\n");
        settings.forEach(l -> text.append(l).append('\n'));
        Files.writeString(rb, text.toString());
    }

    /**
     * chef-backend-ctl restore --repository [DIR] [target...] -s SECRETS -y on this node; {@code repository} null:
     * the chef-backend.rb's backup.repository.
     */
    Procs.Result restore(Path repository, Path secrets, List<String> target) {
        List<String> args = new ArrayList<>(List.of("restore", "--repository"));
        if (repository != null) {
            args.add(repository.toString());
        }
        args.addAll(target);
        args.addAll(List.of("-s", secrets.toString(), "-y"));
        return ctl(Duration.ofSeconds(1800), args);
    }

    Procs.Result ctl(Duration timeout, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(ctl.toString()));
        cmd.addAll(args);
        return Procs.run(timeout, Map.of("CHEF_BACKEND_ROOT", root.toString()), cmd);
    }

    /** Every id of the writer's table in this node's PostgreSQL (read as the cluster's superuser, within 60 s). */
    Set<Long> writtenIds(HaCluster cluster) throws SQLException {
        SQLException last = null;
        double deadline = Procs.now() + 60;
        while (Procs.now() < deadline) {
            try (Connection c = cluster.connect(address, 5, 60); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("select id from " + Writer.TABLE)) {
                Set<Long> ids = new HashSet<>();
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
                return ids;
            } catch (SQLException e) {
                last = e;
                Procs.sleep(1000);
            }
        }
        throw new SQLException("reading " + Writer.TABLE + " on the restored node " + address + ": "
                + (last == null ? "no answer" : last.getMessage()), last);
    }

    /** This node's timeline, from the name of the WAL segment it writes (it leads: not in recovery). */
    long timeline(HaCluster cluster) throws SQLException {
        return Pitr.timeline(cluster, address);
    }

    List<Long> processes() {
        String r = root + "/";
        String backend = "postgres: " + NAME + ":";
        return Procs.matching(c -> c.contains(r) || c.contains("--root " + root) || c.startsWith(backend));
    }

    /** Stops whatever runs from this root (by pid) and removes it. */
    @Override
    public void close() {
        if (Files.isDirectory(root.resolve("etc/chef-backend")) && !processes().isEmpty()) {
            ctl(Duration.ofSeconds(120), List.of("stop"));
        }
        Procs.terminate(processes(), Duration.ofSeconds(30));
        try {
            FileTrees.deleteTree(root);
        } catch (IOException e) {
            Chaos.log("removing %s failed: %s", root, e.getMessage());
        }
    }
}
