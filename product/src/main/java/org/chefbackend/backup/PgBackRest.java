package org.chefbackend.backup;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.recovery.Processes;
import org.chefbackend.repository.PgBackRestFiles;
import org.chefbackend.repository.RepositorySettings;

/** Runs pgBackRest commands for this node: as the PostgreSQL user, with this node's pgbackrest.conf and stanza. */
public final class PgBackRest {
    private PgBackRest() {
    }

    /**
     * Runs {@code pgbackrest --config=… --stanza=chef-backend ARGS}; each output line goes to {@code lines}.
     *
     * @throws IOException naming the last lines pgBackRest printed when it fails or outlives {@code limit}
     */
    public static void run(NodeContext node, Duration limit, List<String> args, Consumer<String> lines)
            throws IOException {
        PgBackRestFiles f = PgBackRestFiles.of(node);
        List<String> command = new ArrayList<>(List.of("/usr/bin/pgbackrest", "--config=" + f.conf(),
                "--stanza=" + RepositorySettings.STANZA));
        command.addAll(args);
        Processes.run(Processes.asUser(node.settings().string("postgresql.username"), command), f.dir(), Map.of(),
                null, System.nanoTime() + limit.toNanos(), lines);
    }

    /** The same, keeping the output: for the commands that answer in JSON (info, repo-ls). */
    public static String output(NodeContext node, Duration limit, List<String> args) throws IOException {
        StringBuilder out = new StringBuilder();
        List<String> quiet = new ArrayList<>(List.of("--log-level-console=off", "--log-level-stderr=error"));
        quiet.addAll(args);
        run(node, limit, quiet, line -> out.append(line).append('\n'));
        return out.toString();
    }
}
