package org.chefbackend.config;

import java.nio.file.Path;

/**
 * Where a node keeps its files. Every path derives from the node root ({@code /} on a production host), so several
 * nodes can share one machine: {@code CHEF_BACKEND_ROOT=/tmp/cb/n1} gives {@code /tmp/cb/n1/etc/chef-backend}…
 * Paths configured in chef-backend.rb are absolute as the documents write them and are resolved under the root.
 */
public record NodePaths(Path root) {
    public static final String ROOT_ENV = "CHEF_BACKEND_ROOT";

    public NodePaths {
        root = root.toAbsolutePath().normalize();
    }

    /** The root from {@code CHEF_BACKEND_ROOT}, else {@code /}. */
    public static NodePaths fromEnvironment() {
        String env = System.getenv(ROOT_ENV);
        return new NodePaths(Path.of(env == null || env.isBlank() ? "/" : env));
    }

    /** A documented absolute path ("/var/opt/chef-backend/…") under this node's root. */
    public Path resolve(String documentedAbsolutePath) {
        String relative = documentedAbsolutePath.replaceFirst("^/+", "");
        return relative.isEmpty() ? root : root.resolve(relative);
    }

    public Path etcDir() {
        return resolve("/etc/chef-backend");
    }

    public Path configFile() {
        return etcDir().resolve("chef-backend.rb");
    }

    public Path secretsFile() {
        return etcDir().resolve("chef-backend-secrets.json");
    }

    public Path varDir() {
        return resolve("/var/opt/chef-backend");
    }

    public Path logDir() {
        return resolve("/var/log/chef-backend");
    }

    /** leaderl's sentinel files (no-start-pgsql, unsynced) live here, where the runbooks look for them. */
    public Path leaderlDataDir() {
        return resolve("/var/opt/chef-backend/leaderl/data");
    }

    public Path backupDir() {
        return resolve("/var/opt/chef-backup");
    }
}
