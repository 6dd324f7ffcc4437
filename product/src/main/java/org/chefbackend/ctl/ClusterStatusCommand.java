package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.chefbackend.config.Settings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "cluster-status", mixinStandardHelpOptions = true,
        description = "Show every member: name, address, GUID, leaderl role, PostgreSQL and search roles, its search "
                + "health (a counted member of a search cluster with an elected cluster manager, or not), whom it "
                + "follows, its lag, whether it may become leader, its failover switch, and why it may not (Reason). "
                + "Exits 1 on a node that is not part of a cluster.")
final class ClusterStatusCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print the documented JSON document instead of the table.")
    boolean json;

    @Mixin
    RootOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Settings settings = node.settings();
        JsonNode view = IntentCommands.view(ServiceCommands.client(node, settings));
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(view));
            out.flush();
            return 0;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"Name", "IP", "GUID", "Role", "PG", "ES", "Search", "Following", "Lag", "Eligible",
                "Failover", "Reason"});
        for (JsonNode n : view.path("nodes")) {
            JsonNode pg = n.path("pgsql");
            JsonNode es = n.path("elasticsearch");
            long behind = pg.path("bytes_behind").asLong(-1);
            rows.add(new String[] {n.path("name").asText(), n.path("ip").asText(), n.path("guid").asText(),
                    n.path("role").asText(), pg.path("role").asText(), es.path("role").asText(),
                    es.path("healthy").asBoolean() ? "healthy" : "unhealthy",
                    pg.path("following").isNull() ? "-" : pg.path("following").asText(),
                    behind < 0 ? "-" : behind + "B",
                    n.path("eligible_for_leader").asBoolean() ? "yes" : "no",
                    n.path("failover_enabled").asBoolean() ? "on" : "off",
                    n.path("reason").isTextual() ? n.path("reason").asText() : "-"});
        }
        StatusTable.printColumns(out, rows, new int[0], 2);
        out.flush();
        return 0;
    }
}
