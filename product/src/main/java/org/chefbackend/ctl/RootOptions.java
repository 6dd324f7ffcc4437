package org.chefbackend.ctl;

import java.nio.file.Path;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;
import picocli.CommandLine.Option;

/** Which node a command acts on: its root directory; its chef-backend.rb is the one the agent reads. */
public class RootOptions {
    @Option(names = "--root", paramLabel = "DIR",
            description = "Node root directory (default: $CHEF_BACKEND_ROOT, else /). All of the node's paths are under it.")
    Path root;

    public NodePaths paths() {
        return root != null ? new NodePaths(root) : NodePaths.fromEnvironment();
    }

    public Path configFile() {
        return paths().configFile();
    }

    /** The node's settings; a node without chef-backend.rb runs on defaults, as before the first reconfigure. */
    public Settings settings() {
        Path file = configFile();
        if (!file.toFile().exists()) {
            return Settings.defaults(MachineFacts.detect());
        }
        return Settings.load(file, MachineFacts.detect());
    }
}
