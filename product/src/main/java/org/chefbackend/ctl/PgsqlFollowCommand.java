package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.chefbackend.config.Settings;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.OperatorException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "pgsql-follow", mixinStandardHelpOptions = true,
        description = "Internal (leaderl does this by itself): make this node's PostgreSQL a streaming standby of "
                + "the leader at LEADER_IP. For manual recovery stop leaderl first and run it as "
                + "PSQL_INTERNAL_OK=true chef-backend-ctl pgsql-follow LEADER_IP [--force-basebackup] [--verbose].")
final class PgsqlFollowCommand implements Callable<Integer> {
    static final String GUARD = "PSQL_INTERNAL_OK";

    @Parameters(index = "0", paramLabel = "LEADER_IP", description = "The leader's address.")
    String leader;

    @Option(names = "--force-basebackup", description = "Discard this node's PostgreSQL data and take a full base "
            + "backup from the leader (when the WAL it needs is gone).")
    boolean forceBaseBackup;

    @Option(names = "--verbose", description = "Print every step, pg_basebackup's output included.")
    boolean verbose;

    @Mixin
    RootOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (!"true".equals(System.getenv(GUARD))) {
            throw OperatorException.usage("pgsql-follow is internal: leaderl runs it. For a manual recovery, "
                    + "stop leaderl first (" + CtlCommand.forRoot(node.paths().root(), "stop leaderl") + "), then run: "
                    + GUARD + "=true " + CtlCommand.forRoot(node.paths().root(), "pgsql-follow " + leader
                    + (forceBaseBackup ? " --force-basebackup" : "") + " --verbose"));
        }
        if (!leader.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9A-Fa-f:]+:[0-9A-Fa-f:.]*")) {
            throw OperatorException.usage("LEADER_IP must be an IP address, not '" + leader + "'");
        }
        Settings settings = node.settings();
        AgentClient client = ServiceCommands.client(node, settings);
        JsonNode status = ServiceCommands.requireAgent(node, client);
        for (JsonNode s : status.path("services")) {
            if (s.path("name").asText().equals("leaderl") && s.path("running").asBoolean()) {
                out.println("note: leaderl runs on this node; it waits while pgsql-follow works, then re-points "
                        + "PostgreSQL to the leader it knows (for a manual recovery, stop leaderl first)");
            }
        }
        out.println("Following " + leader + (forceBaseBackup ? " by a full base backup" : "") + " ...");
        out.flush();
        AgentClient.Response r = client.post("/admin/pgsql-follow", new ObjectMapper().createObjectNode()
                .put("leader", leader).put("force_basebackup", forceBaseBackup), client.adminKey(), Duration.ofHours(6));
        for (JsonNode line : r.body().path("done")) {
            String text = line.asText();
            if (verbose || !text.startsWith("pg_basebackup:") && !text.matches(".*\\d+/\\d+ kB.*")) {
                out.println("  " + text);
            }
        }
        out.flush();
        if (r.status() != 200) {
            throw r.status() == 409 ? OperatorException.usage("pgsql-follow: " + r.body().path("error").asText())
                    : OperatorException.failure("pgsql-follow: " + r.body().path("error").asText());
        }
        out.println("ok: PostgreSQL follows " + leader);
        out.flush();
        return 0;
    }
}
