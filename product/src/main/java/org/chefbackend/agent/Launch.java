package org.chefbackend.agent;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * How to run a service's process in the foreground; the supervisor runs it as {@code user} and owns its output.
 *
 * @param command program and arguments (the program must exec into the long-running process, so its pid is the
 *     service's pid)
 * @param environment variables added to a minimal environment (PATH, LANG), including chef-backend.rb's
 *     {@code <service>.environment}
 * @param user operating-system user the process runs as
 * @param workingDirectory the process's working directory
 */
public record Launch(List<String> command, Map<String, String> environment, String user, Path workingDirectory) {
    public Launch {
        command = List.copyOf(command);
        environment = Map.copyOf(environment);
    }
}
