package org.chefbackend.ctl;

import java.io.IOException;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeIdentity;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.config.Settings;
import org.chefbackend.repository.RepositorySettings;
import org.chefbackend.system.OperatorException;

/** What the repository commands share: the node they run for, and pgBackRest's failures as one line. */
final class RepositoryCommands {
    interface Read<T> {
        T get() throws IOException;
    }

    private RepositoryCommands() {
    }

    /** This node, with backup.repository set (the agent has written its pgbackrest.conf). */
    static NodeContext context(RootOptions node) throws IOException {
        Settings settings = node.settings();
        if (RepositorySettings.of(settings).isEmpty()) {
            throw OperatorException.usage("backup.repository is not set in " + node.paths().configFile());
        }
        NodeIdentity id = NodeIdentity.load(node.paths(), settings);
        return new NodeContext(settings, node.paths(), id.name(), id.guid(), SecretsFile.load(node.paths().secretsFile()));
    }

    static <T> T read(Read<T> read) {
        try {
            return read.get();
        } catch (IOException | IllegalArgumentException e) {
            throw OperatorException.failure("cannot read the repository: " + e.getMessage());
        }
    }
}
