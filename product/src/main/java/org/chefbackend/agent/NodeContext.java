package org.chefbackend.agent;

import java.nio.file.Path;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.Settings;

/**
 * Everything a service recipe needs to know about the node it runs on.
 *
 * @param settings the node's effective chef-backend.rb settings (publish_address is set)
 * @param paths the node's root and derived paths
 * @param nodeName this node's unique name (fqdn, see {@code NodeIdentity})
 * @param nodeGuid this node's 32-hex id; also its etcd member name
 * @param secrets the cluster's shared secrets
 */
public record NodeContext(Settings settings, NodePaths paths, String nodeName, String nodeGuid, Secrets secrets) {
    public String publishAddress() {
        return settings.string("publish_address");
    }

    /** A path option of chef-backend.rb ("postgresql.data_dir"), resolved under the node root. */
    public Path path(String settingKey) {
        return paths.resolve(settings.string(settingKey));
    }

    /** The directory of the service's log; its live file is {@code current}. */
    public Path logDirectory(String service) {
        return path(service + ".log_directory");
    }
}
