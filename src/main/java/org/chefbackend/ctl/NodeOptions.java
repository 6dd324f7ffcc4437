package org.chefbackend.ctl;

import java.nio.file.Path;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;
import picocli.CommandLine.Option;

/** Which node a command acts on: its root directory and its chef-backend.rb. */
public final class NodeOptions {
    @Option(names = "--root", paramLabel = "DIR",
            description = "Node root directory (default: $CHEF_BACKEND_ROOT, else /). All of the node's paths are under it.")
    Path root;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "chef-backend.rb to read (default: <root>/etc/chef-backend/chef-backend.rb).")
    Path config;

    public NodePaths paths() {
        return root != null ? new NodePaths(root) : NodePaths.fromEnvironment();
    }

    public Path configFile() {
        return config != null ? config : paths().configFile();
    }

    /**
     * The node's settings. A node without chef-backend.rb runs on defaults, as the original does before the first
     * reconfigure; a file named with --config must exist.
     */
    public Settings settings() {
        Path file = configFile();
        if (config == null && !file.toFile().exists()) {
            return Settings.defaults(MachineFacts.detect());
        }
        return Settings.load(file, MachineFacts.detect());
    }
}
