package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.chefbackend.config.Settings;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.tls.CertificateExpiry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show the node's services: local state, pid, time in state, and the cluster-wide view. "
                + "Exits 0 when every enabled service runs and is healthy; 3 when one that should run is down; 1 when "
                + "all run but one is unhealthy (PostgreSQL not accepting connections, etcd member unhealthy, search "
                + "not a counted member of a search cluster with an elected cluster manager), naming it. A process still "
                + "running a program, library or jar replaced on disk since it started (a Debian or package upgrade) "
                + "gets one line naming the file and the restart that uses the new one; the exit code does not change "
                + "for it (docs/UPGRADES.md).")
final class StatusCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "SERVICE",
            description = "elasticsearch, etcd, leaderl or postgresql")
    String service;

    @Option(names = "--simple", description = "Print one raw supervisor line per service.")
    boolean simple;

    @Mixin
    RootOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        List<String> targets = ServiceCommands.targets(service);
        Settings settings = node.settings();
        AgentClient client = ServiceCommands.client(node, settings);
        // asked at once, beside /status, rather than after it: the table needs both, and each is a round trip
        CompletableFuture<Optional<AgentClient.Response>> clusterView = simple
                ? CompletableFuture.completedFuture(Optional.empty())
                : CompletableFuture.supplyAsync(() -> client.get("/cluster"), r -> {
                    Thread t = new Thread(r, "cluster-view");
                    t.setDaemon(true);
                    t.start();
                });
        Optional<JsonNode> status = client.status();
        PrintWriter out = spec.commandLine().getOut();
        long now = System.currentTimeMillis();
        if (status.isEmpty()) {
            for (String name : targets) {
                out.println(simple ? "down: " + name + ": agent not running" : name + ": down (the node agent is not running)");
            }
            out.flush();
            spec.commandLine().getErr().println(NodeHints.agentNotRunning(node.paths()).getMessage());
            spec.commandLine().getErr().flush();
            return 3;
        }
        List<JsonNode> services = ServiceCommands.select(status.get(), targets);
        boolean allUp = services.stream().allMatch(ServiceCommands::isUpOrNotWanted);
        List<String> unhealthy = StatusTable.unhealthy(status.get(), services);
        if (simple) {
            services.forEach(s -> out.println(ServiceLines.runitLine(s, now)));
        } else {
            JsonNode cluster = status.get().path("in_cluster").asBoolean()
                    ? clusterView.join().filter(r -> r.status() == 200).map(AgentClient.Response::body).orElse(null)
                    : null;
            StatusTable.print(out, status.get(), cluster, services, service == null, now);
        }
        // informs, never fails: the services still work, on the old files, until restarted (docs/UPGRADES.md)
        for (String line : ReplacedFileLines.lines(status.get(), service, node.paths().root(), CtlCommand.ctl())) {
            (simple ? spec.commandLine().getErr() : out).println(line);
        }
        for (String warning : warnings(status.get(), now, node.paths().root())) {
            spec.commandLine().getErr().println("warning: " + warning); // never among --simple's lines
        }
        if (allUp && !unhealthy.isEmpty()) {
            (simple ? out : spec.commandLine().getErr()).println("unhealthy: " + String.join("; ", unhealthy));
        }
        out.flush();
        spec.commandLine().getErr().flush();
        return !allUp ? 3 : unhealthy.isEmpty() ? 0 : 1;
    }

    /**
     * Certificates close to expiry, and an open cluster: what needs the operator before it breaks, with the commands
     * to run on this node (the one at {@code root}) as they can be pasted.
     */
    static List<String> warnings(JsonNode status, long now, Path root) {
        List<CertificateExpiry.Entry> entries = new ArrayList<>();
        for (JsonNode c : status.path("certificates")) {
            entries.add(new CertificateExpiry.Entry(c.path("name").asText(), c.path("file").asText(),
                    c.hasNonNull("not_after") ? Instant.parse(c.path("not_after").asText()) : null, null));
        }
        List<String> out = new ArrayList<>(CertificateExpiry.warnings(entries, Instant.ofEpochMilli(now),
                CtlCommand.forRoot(root, "reconfigure")));
        ArchiveLine.failure(status.path("backup"), now).ifPresent(f -> out.add("WAL archiving fails: " + f
                + "; the leader keeps taking writes and PostgreSQL keeps the WAL until it is archived (up to"
                + " backup.archive_queue_max_mb, then given up: a gap until the next full backup)"));
        if (status.path("security").asText().equals("open")) {
            out.add("this cluster is open: etcd and PostgreSQL replication accept anyone who reaches their ports"
                    + " (its secrets file has no cluster CA); close it with " + CtlCommand.forRoot(root, "secure-cluster")
                    + " (docs/SECURITY.md)");
        }
        return out;
    }
}
