package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.chefbackend.agent.NodeState;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.OperatorException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * promote, demote and force-leader: operator requests recorded in etcd for leaderl, which carries them out (a
 * switchover that loses no acknowledged write while a leader runs). The command waits for the outcome.
 */
final class IntentCommands {
    private IntentCommands() {
    }

    /** The cluster view from the local agent; an error on a node that is not a member. */
    static JsonNode view(AgentClient client) {
        return answeredView(client).orElseThrow(() -> NodeHints.agentNotRunning(client.paths()));
    }

    /** The cluster view, empty when the agent does not answer; an error when it answers that it is no member. */
    static Optional<JsonNode> answeredView(AgentClient client) {
        return client.get("/cluster").map(r -> {
            if (r.status() != 200) {
                throw OperatorException.failure(r.body().path("error").asText("this node is not part of a cluster"));
            }
            return r.body();
        });
    }

    static JsonNode member(JsonNode view, String nameOrIp) {
        for (JsonNode n : view.path("nodes")) {
            if (n.path("name").asText().equals(nameOrIp) || n.path("ip").asText().equals(nameOrIp)) {
                return n;
            }
        }
        throw OperatorException.usage("no member named " + nameOrIp + " (see cluster-status)");
    }

    /**
     * A node with no-start-pgsql (a deposed leader's safety lock) or unsynced cannot be promoted; say why and what
     * the runbook does about it, instead of letting leaderl refuse it quietly.
     */
    static void refuseFenced(RootOptions node, JsonNode member) {
        String ip = member.path("ip").asText();
        String name = member.path("name").asText();
        AgentClient target = new AgentClient(ip, node.settings().intValue("leaderl.http_port"), node.paths());
        target.get("/status").filter(r -> r.status() == 200).ifPresent(r -> {
            JsonNode sentinels = r.body().path("sentinels");
            String root = r.body().path("node").path("root").asText("/");
            String dir = root.replaceFirst("/$", "") + "/var/opt/chef-backend/leaderl/data/";
            if (sentinels.path("no-start-pgsql").asBoolean()) {
                throw OperatorException.usage(reinstateHint(name, Path.of(root), CtlCommand.ctl()));
            }
            if (sentinels.path("unsynced").asBoolean()) {
                throw OperatorException.usage("cannot promote " + name + ": it is partially synced (" + dir
                        + "unsynced); resync it first (pgsql-follow)");
            }
        });
    }

    /** The failure-recovery guide's "Promoting a Previous Leader", as commands to paste on that node. */
    static String reinstateHint(String name, Path root, String ctl) {
        Path sentinel = new NodePaths(root).leaderlDataDir().resolve(NodeState.NO_START_PGSQL);
        return "cannot promote " + name + ": it is a deposed leader and its safety lock no-start-pgsql is in place; "
                + "to reinstate it, on " + name + " run: rm " + CtlCommand.quote(sentinel.toString()) + "; "
                + CtlCommand.forRoot(ctl, root, "restart postgresql") + "; then promote it again";
    }

    static String leader(JsonNode view) {
        JsonNode l = view.at("/cluster/leader");
        return l.isNull() || l.isMissingNode() ? null : l.asText();
    }

    static int request(RootOptions node, CommandSpec spec, String kind, String target, JsonNode view) {
        PrintWriter out = spec.commandLine().getOut();
        Settings settings = node.settings();
        AgentClient client = ServiceCommands.client(node, settings);
        if (!view.at("/cluster/failover_enabled").asBoolean(true)) {
            throw OperatorException.usage("failover is disabled for the cluster (set-cluster-failover on first)");
        }
        if (!member(view, target).path("failover_enabled").asBoolean(true)) {
            throw OperatorException.usage("failover is disabled for " + target + " (set-node-failover on, on that node)");
        }
        AgentClient.Response r = client.post("/admin/cluster/intent", new ObjectMapper().createObjectNode()
                .put("kind", kind).put("target", target), client.adminKey(), Duration.ofSeconds(30));
        if (r.status() != 200) {
            throw OperatorException.failure(r.body().path("error").asText("HTTP " + r.status()));
        }
        String id = r.body().path("intent").path("id").asText("");
        String request = kind.replace('_', '-') + " of " + target;
        AgentWatch agent = AgentWatch.of(node.paths(), settings, kind.replace('_', '-'));
        out.println("ok: asked leaderl to " + kind.replace('_', '-') + " " + target + "; waiting for the outcome");
        out.flush();
        long leaderlTimeout = settings.integer("leaderl.control_worker_timeout_seconds");
        long timeout = leaderlTimeout + 30;
        Optional<String> leader = agent.poll(Duration.ofSeconds(timeout), Duration.ofMillis(500), () -> {
            Optional<JsonNode> answer = answeredView(client);
            if (answer.isEmpty()) {
                return Optional.empty(); // busy, or gone: the watch tells which
            }
            JsonNode now = answer.get();
            String current = leader(now);
            boolean done = kind.equals("demote") ? current != null && !current.equals(target) : target.equals(current);
            if (done) {
                return Optional.of(current);
            }
            // leaderl records a refusal the moment it decides it: report it then, with its reason
            Optional<IntentOutcome> outcome = IntentOutcome.of(now, id);
            if (outcome.isPresent() && !outcome.get().done()) {
                throw OperatorException.failure(outcome.get().failure(request, leaderlTimeout));
            }
            return outcome.map(o -> current != null ? current : target);
        });
        if (leader.isPresent()) {
            out.println("ok: " + leader.get() + " is the leader");
            out.flush();
            return 0;
        }
        throw OperatorException.failure(request + " did not complete within " + timeout
                + " s (see " + CtlCommand.elsewhere("tail leaderl") + " on the leader)");
    }

    @Command(name = "promote", mixinStandardHelpOptions = true,
            description = "Make NODE the leader. With a leader running this is a switchover that loses no "
                    + "acknowledged write: the leader stops writes, NODE replays to its final position, then takes "
                    + "over. With no leader (all waiting_for_leader) NODE is elected as it is.")
    static final class Promote implements Callable<Integer> {
        @Parameters(paramLabel = "NODE", description = "The member's name or IP address.")
        String target;

        @Mixin
        RootOptions node;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            JsonNode view = view(ServiceCommands.client(node, node.settings()));
            String name = member(view, target).path("name").asText();
            if (name.equals(leader(view))) {
                throw OperatorException.usage(name + " is already the leader");
            }
            refuseFenced(node, member(view, target));
            return request(node, spec, "promote", name, view);
        }
    }

    @Command(name = "demote", mixinStandardHelpOptions = true,
            description = "Hand the leadership over to the best eligible follower, losing no acknowledged write.")
    static final class Demote implements Callable<Integer> {
        @Mixin
        RootOptions node;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            JsonNode view = view(ServiceCommands.client(node, node.settings()));
            String leader = leader(view);
            if (leader == null) {
                throw OperatorException.usage("there is no leader to demote");
            }
            return request(node, spec, "demote", leader, view);
        }
    }

    @Command(name = "force-leader", mixinStandardHelpOptions = true,
            description = "Make this node the leader, only when the cluster has none (verify first that every node "
                    + "is healthy and waiting_for_leader).")
    static final class ForceLeader implements Callable<Integer> {
        @Mixin
        RootOptions node;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            AgentClient client = ServiceCommands.client(node, node.settings());
            JsonNode view = view(client);
            String leader = leader(view);
            if (leader != null) {
                throw OperatorException.usage("the cluster has a leader (" + leader + "); force-leader only acts when "
                        + "there is none");
            }
            String self = client.status().orElseThrow().path("node").path("name").asText();
            return request(node, spec, "force_leader", self, view);
        }
    }
}
