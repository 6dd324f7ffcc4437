package org.chefbackend.ctl;

import java.nio.file.Files;
import java.nio.file.Path;
import org.chefbackend.cluster.ClusterFile;
import org.chefbackend.config.NodePaths;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.OperatorException;

/**
 * What an operator is told when a command does not find the node it needs: where it looked, what that node is, and
 * the command (as it can be pasted) that helps.
 */
final class NodeHints {
    private NodeHints() {
    }

    /** No chef-backend.rb where the command looked: name the path and the two ways to point elsewhere. */
    static OperatorException noConfig(Path configFile) {
        return OperatorException.usage("no chef-backend.rb at " + configFile + "; write it there ("
                + CtlCommand.ctl() + " gen-sample-backend-config prints every option), or name the node's root with "
                + "--root DIR or CHEF_BACKEND_ROOT=DIR (its file is DIR/etc/chef-backend/chef-backend.rb)");
    }

    /** publish_address is missing: because the whole file is, or because the file does not set it. */
    static OperatorException noPublishAddress(Path configFile, String remedy) {
        return Files.exists(configFile)
                ? OperatorException.usage("publish_address is not set in " + configFile + remedy)
                : noConfig(configFile);
    }

    /** The local agent does not answer: a member is stopped (and this starts it), a non-member is in no cluster. */
    static OperatorException agentNotRunning(NodePaths paths) {
        Path root = paths.root();
        if (ClusterFile.read(paths).isPresent()) {
            return OperatorException.failure("this node (" + root + ") is stopped: its node agent is not running; "
                    + "start it with: " + CtlCommand.forRoot(root, "start"));
        }
        return OperatorException.failure("the node agent of " + root + " is not running and this node is in no "
                + "cluster: make it the first member with " + CtlCommand.forRoot(root, "create-cluster")
                + ", or join one with " + CtlCommand.forRoot(root, "join-cluster PEER_IP -s SECRETS_FILE"));
    }
}
