package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeIdentity;
import org.chefbackend.agent.NodeState;
import org.chefbackend.cluster.ClusterFile;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.config.Settings;
import org.chefbackend.etcd.EtcdRecipe;
import org.chefbackend.recovery.QuorumLossRecovery;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.OperatorException;
import org.chefbackend.tls.Authority;
import org.chefbackend.tls.Subject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "create-cluster", aliases = "bootstrap", mixinStandardHelpOptions = true,
        description = "Create a new cluster with this node as its first member and leader: generates "
                + "chef-backend-secrets.json (or uses a pre-placed one), forms a one-member etcd cluster, initializes "
                + "PostgreSQL as the leader and starts the search engine as a cluster of one.")
final class CreateClusterCommand implements Callable<Integer> {
    static final Duration READY_WAIT = Duration.ofMinutes(5);

    @Option(names = "--elasticsearch-wait-time", paramLabel = "SECS", defaultValue = "30",
            description = "Accepted for compatibility; the command waits until every service is ready.")
    int elasticsearchWaitTime;

    @Option(names = "--etcd-wait-time", paramLabel = "SECS", defaultValue = "30",
            description = "Accepted for compatibility; the command waits until every service is ready.")
    int etcdWaitTime;

    @Option(names = "--quorum-loss-recovery", description = "On the sole survivor of a two-node loss: form a new "
            + "cluster of this node alone, keeping its data (etcd anew, search by unsafe-bootstrap, PostgreSQL promoted "
            + "if it was a follower); new nodes then join it.")
    boolean quorumLossRecovery;

    @Mixin
    ClusterOptions options;

    @Mixin
    RootOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        NodePaths paths = node.paths();
        Settings settings = node.settings();
        String address = settings.optionalString("publish_address").orElseThrow(() -> NodeHints.noPublishAddress(
                node.configFile(), "; add: publish_address 'IP_OF_THIS_NODE'"));
        LocalAddress.require(address);
        if (quorumLossRecovery) {
            return recoverFromQuorumLoss(out, paths, settings, address);
        }
        if (ClusterFile.read(paths).isPresent()) {
            throw OperatorException.usage("this node is already part of a cluster ("
                    + NodeState.clusterFile(paths) + "); to start over, run cleanse first");
        }
        if (!options.confirm(out, "Create a new cluster with this node (" + address + ") as its leader?")) {
            throw OperatorException.usage("not confirmed; nothing was changed (use -y to confirm)");
        }
        AgentClient client = ServiceCommands.client(node, settings);
        if (ServiceCommands.stopAgent(paths, client)) {
            options.step(out, "Stopped this node's services to create the cluster");
        }
        boolean preplaced = Files.exists(paths.secretsFile());
        Secrets secrets = SecretsFile.loadOrGenerate(paths.secretsFile());
        options.step(out, (preplaced ? "Using the secrets in " : "Generated the cluster's secrets in ") + paths.secretsFile());
        if (secrets.ca() == null) {
            // a new cluster is closed to strangers: its nodes trust only certificates from this CA
            secrets = secrets.withCa(Authority.generate(Subject.of(settings), settings.intValue("ssl.key_length"),
                    settings.intValue("ssl.duration")));
            SecretsFile.write(paths.secretsFile(), secrets);
            options.step(out, "Made the cluster's certificate authority (in " + paths.secretsFile() + ")");
        }
        NodeIdentity id = NodeIdentity.load(paths, settings);
        NodeContext ctx = new NodeContext(settings, paths, id.name(), id.guid(), secrets);
        EtcdRecipe.writeInitialCluster(ctx, "new", Map.of(id.guid(), EtcdRecipe.peerUrl(ctx)));
        ClusterFile.creating().write(paths);
        ServiceCommands.ensureAgent(paths, client);
        options.step(out, "Started the node agent");
        JsonNode status = waitForLeader(client, AgentWatch.of(paths, settings, "create-cluster"), out, options);
        options.step(out, "etcd: a one-member cluster on " + address);
        options.step(out, "PostgreSQL: initialized as the leader");
        options.step(out, "Elasticsearch: " + status.path("elasticsearch").path("status").asText("starting")
                + ", " + status.path("elasticsearch").path("nodes").asInt() + " node");
        options.step(out, "Cluster created; " + id.name() + " is its leader");
        return 0;
    }

    private int recoverFromQuorumLoss(PrintWriter out, NodePaths paths, Settings settings, String address)
            throws IOException {
        if (ClusterFile.read(paths).isEmpty()) {
            throw OperatorException.usage("this node is not part of a cluster; --quorum-loss-recovery re-forms the "
                    + "cluster of a surviving member (for a new cluster, run create-cluster without it)");
        }
        Secrets secrets = SecretsFile.load(paths.secretsFile());
        NodeIdentity id = NodeIdentity.load(paths, settings);
        NodeContext ctx = new NodeContext(settings, paths, id.name(), id.guid(), secrets);
        QuorumLossRecovery.refusal(ctx).ifPresent(why -> {
            throw OperatorException.usage(why);
        });
        if (!options.confirm(out, "Form a new cluster of this node (" + address + ") alone, with its data? The lost "
                + "members must be cleansed before they join again.")) {
            throw OperatorException.usage("not confirmed; nothing was changed (use -y to confirm)");
        }
        Checklist list = new Checklist(out, options.quiet);
        AgentClient client = ServiceCommands.client(node, settings);
        list.step("Stopped this node's services", () -> ServiceCommands.stopAgent(paths, client));
        list.step("etcd: a new one-member cluster (the lost cluster's keys are not carried over)",
                () -> QuorumLossRecovery.newEtcdCluster(ctx));
        String search = list.step("Elasticsearch: a new one-node cluster with this node's data",
                () -> QuorumLossRecovery.newSearchCluster(ctx));
        list.detail(search);
        boolean lifted = list.step("PostgreSQL: keeps this node's data", () -> QuorumLossRecovery.liftFence(ctx));
        if (lifted) {
            list.detail("removed no-start-pgsql: this node's data is taken as the most up to date");
        }
        list.step("Started the node agent; leaderl elects this node (promoting PostgreSQL if it was a follower)", () -> {
            ClusterFile.creating().write(paths);
            ServiceCommands.ensureAgent(paths, client);
            waitForLeader(client, AgentWatch.of(paths, settings, "create-cluster"), out, options);
        });
        List<String> slots = list.step("Dropped the lost members' replication slots",
                () -> QuorumLossRecovery.dropStaleSlots(ctx));
        list.detail(slots.isEmpty() ? "none" : String.join(", ", slots));
        out.println("Cluster re-formed; " + id.name() + " is its leader. Join new nodes (cleanse lost ones first) with: "
                + CtlCommand.ctl() + " join-cluster " + address + " -s " + paths.secretsFile());
        out.flush();
        return 0;
    }

    /** Waits until the local agent leads a cluster it is a member of, with search reachable; watches the agent. */
    static JsonNode waitForLeader(AgentClient client, AgentWatch agent, PrintWriter out, ClusterOptions options) {
        AtomicReference<String> lastPhase = new AtomicReference<>("");
        return agent.poll(READY_WAIT, Duration.ofMillis(500), () -> {
            Optional<JsonNode> status = client.status();
            if (status.isEmpty()) {
                return Optional.<JsonNode>empty();
            }
            JsonNode c = status.get().path("cluster");
            String phase = c.path("phase").asText();
            if (!phase.equals(lastPhase.getAndSet(phase))) {
                options.detail(out, phase);
            }
            if (!c.path("error").isNull() && !c.path("error").asText().isEmpty()) {
                throw OperatorException.failure("creating the cluster failed: " + c.path("error").asText());
            }
            boolean ready = c.path("leader").asBoolean() && c.path("state").asText().equals(ClusterFile.MEMBER)
                    && status.get().path("elasticsearch").path("healthy").asBoolean();
            return ready ? status : Optional.<JsonNode>empty();
        }).orElseThrow(() -> OperatorException.failure("the cluster was not ready within " + READY_WAIT.toMinutes()
                + " minutes; see " + CtlCommand.forRoot(client.paths().root(), "tail leaderl")));
    }
}
