package org.chefbackend.ctl;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.chefbackend.config.Settings;
import org.chefbackend.frontend.HaproxyConfig;
import org.chefbackend.system.OperatorException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "gen-haproxy-config", mixinStandardHelpOptions = true,
        description = "Print the HAProxy configuration a Chef Infra Server frontend builds in front of this cluster "
                + "(for clients that are not Chef Server): PostgreSQL and search forwarded to the member that answers "
                + "200 on :7331/leader, checked every 2 s. Members come from the live cluster.")
final class GenHaproxyConfigCommand implements Callable<Integer> {
    @Option(names = "--listen", paramLabel = "ADDR", defaultValue = "0.0.0.0",
            description = "Address HAProxy listens on (haproxy['listen']; default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--postgresql-port", paramLabel = "PORT", defaultValue = "5432",
            description = "Local PostgreSQL port (haproxy['local_postgresql_port']; default: ${DEFAULT-VALUE}).")
    int postgresqlPort;

    @Option(names = "--elasticsearch-port", paramLabel = "PORT", defaultValue = "9200",
            description = "Local search port (haproxy['local_elasticsearch_port']; default: ${DEFAULT-VALUE}).")
    int elasticsearchPort;

    @Option(names = "--stats-socket", paramLabel = "PATH", defaultValue = HaproxyConfig.Options.DEFAULT_STATS_SOCKET,
            description = "HAProxy's admin socket (default: ${DEFAULT-VALUE}).")
    String statsSocket;

    @Option(names = {"-f", "--filename"}, paramLabel = "FILE", description = "Write to FILE instead of stdout.")
    Path file;

    @Mixin
    NodeOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        requirePort("--postgresql-port", postgresqlPort);
        requirePort("--elasticsearch-port", elasticsearchPort);
        if (postgresqlPort == elasticsearchPort) {
            throw OperatorException.usage("--postgresql-port and --elasticsearch-port must differ, both are " + postgresqlPort);
        }
        Settings settings = node.settings();
        String self = settings.optionalString("publish_address").orElseThrow(() -> NodeHints.noPublishAddress(
                node.configFile(), "; the frontend needs the members' addresses"));
        HaproxyConfig.Options options;
        try {
            options = new HaproxyConfig.Options(listen, postgresqlPort, elasticsearchPort,
                    (int) settings.integer("postgresql.port"), (int) settings.integer("elasticsearch.port"),
                    (int) settings.integer("leaderl.http_port"), statsSocket);
        } catch (IllegalArgumentException e) {
            throw OperatorException.usage(e.getMessage());
        }
        List<HaproxyConfig.Member> members = LiveMembers.fetch(node, settings).orElseGet(() -> {
            PrintWriter err = spec.commandLine().getErr();
            err.println("chef-backend-ctl: note: no live cluster answered on this node; the configuration lists only "
                    + "this node's publish_address " + self);
            err.flush();
            return LiveMembers.fallback(self);
        });
        String text = HaproxyConfig.render(members, options);
        if (file == null) {
            spec.commandLine().getOut().print(text);
            spec.commandLine().getOut().flush();
        } else {
            GenServerConfigCommand.writePrivately(file, text);
        }
        return 0;
    }

    static void requirePort(String option, int port) {
        if (port < 1 || port > 65535) {
            throw OperatorException.usage(option + " must be a port from 1 to 65535, got " + port);
        }
    }
}
