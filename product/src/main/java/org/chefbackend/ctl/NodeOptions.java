package org.chefbackend.ctl;

import java.nio.file.Path;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.Settings;
import picocli.CommandLine.Option;

/** A node root plus, for commands that only read configuration, another chef-backend.rb to read. */
public final class NodeOptions extends RootOptions {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "chef-backend.rb to read (default: <root>/etc/chef-backend/chef-backend.rb).")
    Path config;

    @Override
    public Path configFile() {
        return config != null ? config : super.configFile();
    }

    /** A file named with --config must exist. */
    @Override
    public Settings settings() {
        return config != null ? Settings.load(config, MachineFacts.detect()) : super.settings();
    }
}
