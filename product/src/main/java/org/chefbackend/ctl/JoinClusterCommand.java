package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeIdentity;
import org.chefbackend.agent.NodeState;
import org.chefbackend.cluster.ClusterFile;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.config.Settings;
import org.chefbackend.etcd.EtcdRecipe;
import org.chefbackend.search.OpenSearchRecipe;
import org.chefbackend.search.SearchClient;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.FileTrees;
import org.chefbackend.system.OperatorException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "join-cluster", mixinStandardHelpOptions = true,
        description = "Join the cluster that PEER_NODE_IP belongs to: verifies the secrets against it before touching "
                + "anything, then adds this node's etcd member, joins the search cluster and syncs PostgreSQL from the "
                + "leader through a replication slot. Several joins may run at once; the cluster admits them one by one.")
final class JoinClusterCommand implements Callable<Integer> {
    static final Duration JOIN_WAIT = Duration.ofMinutes(15);
    static final Duration SYNC_WAIT = Duration.ofMinutes(60);
    /** A search engine that streams nothing but cluster state joins in seconds; minutes mean it cannot. */
    static final Duration SEARCH_JOIN_WAIT = Duration.ofMinutes(5);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(index = "0", paramLabel = "PEER_NODE_IP", description = "Any member of the cluster.")
    String peer;

    @Option(names = {"-s", "--secrets-file-path"}, paramLabel = "PATH",
            description = "The cluster's chef-backend-secrets.json (default: this node's).")
    Path secretsFile;

    @Option(names = {"-p", "--publish-address", "--publish_address"}, paramLabel = "IP",
            description = "This node's address, when chef-backend.rb does not set publish_address.")
    String publishAddress;

    @Option(names = "--recovery", description = "Rejoin a node that was removed (remove-node) and cleansed, using its "
            + "restored chef-backend.rb.")
    boolean recovery;

    @Option(names = {"-i", "--vip-interface"}, paramLabel = "IF", hidden = true,
            description = "Legacy VIP interface; accepted and ignored.")
    String vipInterface;

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
        Path secretsPath = secretsFile != null ? secretsFile.toAbsolutePath() : paths.secretsFile();
        Secrets secrets = SecretsFile.load(secretsPath);
        Path config = paths.configFile();
        boolean haveConfig = Files.exists(config);
        Settings settings = haveConfig ? Settings.load(config, MachineFacts.detect()) : Settings.defaults(MachineFacts.detect());
        Optional<String> configured = settings.optionalString("publish_address");
        if (publishAddress != null && configured.isPresent()) {
            throw OperatorException.usage("publish_address is already set in " + config
                    + "; join-cluster never overwrites chef-backend.rb, so do not pass --publish-address");
        }
        String address = configured.orElse(publishAddress);
        if (address == null && !options.yes) {
            address = ClusterOptions.ask(out, "Publish address of this node (an IP address of this machine): ");
        }
        if (address == null || address.isBlank()) {
            throw OperatorException.usage("no publish address: set publish_address in " + config
                    + " or pass --publish-address IP");
        }
        address = address.trim();
        try {
            settings = settings.with("publish_address", address);
        } catch (IllegalArgumentException e) {
            throw OperatorException.usage("--publish-address: " + e.getMessage());
        }
        LocalAddress.require(address);
        if (ClusterFile.read(paths).isPresent() && !recovery) {
            throw OperatorException.usage("this node is already part of a cluster; to rejoin a node that was removed "
                    + "and cleansed, use join-cluster --recovery");
        }
        if (recovery && !haveConfig) {
            throw OperatorException.usage("--recovery needs this node's chef-backend.rb in " + config
                    + " (restore it from " + paths.resolve("/root") + "/chef-backend-cleanse-*)");
        }
        AgentClient peerAgent = new AgentClient(peer, settings.intValue("leaderl.http_port"), paths);
        AgentClient.Response view = peerAgent.get("/cluster").orElseThrow(() -> OperatorException.failure(
                "no chef-backend agent answers at " + peerAgent.base() + "; is " + peer + " a cluster member?"));
        if (view.status() != 200) {
            throw OperatorException.failure(peer + " is not part of a cluster: " + view.body().path("error").asText());
        }
        verifySecrets(peerAgent, secrets); // before anything of this node stops: a refusal leaves it as it was
        if (!options.confirm(out, "Join the cluster of " + peer + "? This node's PostgreSQL, etcd and search data "
                + "are replaced by the cluster's.")) {
            throw OperatorException.usage("not confirmed; nothing was changed (use -y to confirm)");
        }
        stopLocalAgent(paths, settings, out);
        NodeIdentity id = NodeIdentity.load(paths, settings);
        NodeContext ctx = new NodeContext(settings, paths, id.name(), id.guid(), secrets);
        JsonNode grant = admit(peerAgent, ctx, secrets, out);
        options.step(out, "The cluster admitted " + id.name() + " (secrets verified by " + peer + ")");

        prepareLocalNode(ctx, secretsPath, haveConfig, grant);
        options.step(out, "Wrote this node's cluster configuration (etcd members, search seed hosts)");
        AgentClient local = ServiceCommands.client(node, settings);
        ServiceCommands.ensureAgent(paths, local);
        AgentWatch agent = AgentWatch.of(paths, settings, "join-cluster");
        options.step(out, "Started the node agent; syncing PostgreSQL from the leader "
                + grant.path("leaderName").asText() + " through slot " + grant.path("slot").asText());
        waitUntilMember(local, agent, out);
        options.step(out, "PostgreSQL: streaming from the leader");
        waitUntilInSearchCluster(ctx, agent);
        options.step(out, "Elasticsearch: a member of the search cluster (and of its voting configuration)");
        options.step(out, id.name() + " joined the cluster");
        return 0;
    }

    private void stopLocalAgent(NodePaths paths, Settings settings, PrintWriter out) {
        ServiceCommands.stopAgent(paths, ServiceCommands.client(node, settings));
    }

    /** The peer checks that the secrets sign admin calls it accepts; it changes nothing. */
    private void verifySecrets(AgentClient peerAgent, Secrets secrets) {
        AgentClient.Response r = peerAgent.post("/admin/cluster/verify-secrets", JSON.createObjectNode(),
                secrets.adminKey(), Duration.ofSeconds(30));
        if (r.status() == 401) {
            throw OperatorException.usage("the secrets in " + (secretsFile != null ? secretsFile : "this node's secrets"
                    + " file") + " do not match the cluster at " + peer + "; nothing was changed");
        }
        if (r.status() != 200) {
            throw OperatorException.failure(peer + " could not check the secrets: "
                    + r.body().path("error").asText("HTTP " + r.status()) + "; nothing was changed");
        }
    }

    /** Asks the peer to admit this node; waits while another node is joining (joins are serialized). */
    private JsonNode admit(AgentClient peerAgent, NodeContext ctx, Secrets secrets, PrintWriter out) {
        ObjectNode body = JSON.createObjectNode()
                .put("name", ctx.nodeName())
                .put("guid", ctx.nodeGuid())
                .put("address", ctx.publishAddress())
                .put("peer_port", ctx.settings().intValue("etcd.peer_port"))
                .put("recovery", recovery);
        long deadline = System.nanoTime() + JOIN_WAIT.toNanos();
        boolean told = false;
        while (true) {
            AgentClient.Response r = peerAgent.post("/admin/cluster/join", body, secrets.adminKey(), Duration.ofMinutes(2));
            switch (r.status()) {
                case 200:
                    return r.body().path("grant");
                case 401: // checked before, so the cluster's secrets changed meanwhile
                    throw OperatorException.usage("the cluster at " + peer + " no longer accepts the secrets in "
                            + (secretsFile != null ? secretsFile : "this node's secrets file") + "; this node's agent"
                            + " was stopped: start it with " + CtlCommand.forRoot(ctx.paths().root(), "start"));
                case 423:
                    if (System.nanoTime() > deadline) {
                        throw OperatorException.failure(r.body().path("error").asText() + "; gave up after "
                                + JOIN_WAIT.toMinutes() + " minutes");
                    }
                    if (!told) {
                        options.step(out, "Waiting: " + r.body().path("error").asText());
                        told = true;
                    }
                    ServiceCommands.sleep(2000);
                    break;
                default:
                    throw OperatorException.failure("the cluster refused the join: " + r.body().path("error").asText());
            }
        }
    }

    /** Writes what the agent needs to start as a joining member; this node's own data gives way to the cluster's. */
    private void prepareLocalNode(NodeContext ctx, Path secretsPath, boolean haveConfig, JsonNode grant)
            throws IOException {
        NodePaths paths = ctx.paths();
        if (!secretsPath.equals(paths.secretsFile())) {
            SecretsFile.write(paths.secretsFile(), ctx.secrets());
        }
        if (publishAddress != null) {
            Files.createDirectories(paths.configFile().getParent());
            String existing = haveConfig ? Files.readString(paths.configFile()) : "";
            Files.writeString(paths.configFile(), existing + (existing.isEmpty() || existing.endsWith("\n") ? "" : "\n")
                    + "publish_address '" + publishAddress + "'\n");
        }
        for (String key : List.of("etcd.data_dir", "postgresql.data_dir", "elasticsearch.data_dir")) {
            FileTrees.deleteTree(ctx.path(key));
        }
        Map<String, String> members = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = grant.path("etcdMembers").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            members.put(e.getKey(), e.getValue().asText());
        }
        EtcdRecipe.writeInitialCluster(ctx, "existing", members);
        List<String> seeds = new ArrayList<>();
        grant.path("searchSeedHosts").forEach(s -> seeds.add(s.asText()));
        OpenSearchRecipe.refreshSeedHosts(ctx, seeds);
        Files.createDirectories(paths.leaderlDataDir());
        Files.writeString(NodeState.sentinel(paths, NodeState.UNSYNCED), "");
        ClusterFile.joining(peer, grant.path("leaderAddress").asText(), grant.path("leaderPgPort").asInt(),
                grant.path("slot").asText()).write(paths);
    }

    /** Follows the agent's progress (the base backup's percentage) until the node streams as a member. */
    private void waitUntilMember(AgentClient local, AgentWatch agent, PrintWriter out) {
        AtomicReference<String> shown = new AtomicReference<>("");
        Optional<Boolean> member = agent.poll(SYNC_WAIT, Duration.ofMillis(500), () -> {
            Optional<JsonNode> status = local.status();
            if (status.isEmpty()) {
                return Optional.empty();
            }
            JsonNode c = status.get().path("cluster");
            String error = c.path("error").isNull() ? "" : c.path("error").asText("");
            if (!error.isEmpty()) {
                throw OperatorException.failure("joining failed: " + error + " (the node keeps its unsynced "
                        + "sentinel: partially_synced; resync it with pgsql-follow)");
            }
            String line = c.path("phase").asText() + " " + c.path("progress").asText();
            if (!line.equals(shown.getAndSet(line)) && !options.quiet) {
                out.println("  " + line.trim());
                out.flush();
            }
            return c.path("state").asText().equals(ClusterFile.MEMBER) ? Optional.of(true) : Optional.empty();
        });
        if (member.isEmpty()) {
            throw OperatorException.failure("the node did not finish syncing within " + SYNC_WAIT.toMinutes()
                    + " minutes");
        }
    }

    /**
     * A join is done only when search counts the new node too: returning earlier let an operator take the creator
     * down while the search cluster's voting configuration was still the creator alone, and search lost its quorum.
     */
    private void waitUntilInSearchCluster(NodeContext ctx, AgentWatch agent) {
        SearchClient search = new SearchClient();
        if (!agent.until(SEARCH_JOIN_WAIT, Duration.ofMillis(500), () -> search.joined(ctx))) {
            SearchClient.Health h = search.health(ctx);
            throw OperatorException.failure("PostgreSQL streams, but this node's search engine did not join the "
                    + "search cluster within " + SEARCH_JOIN_WAIT.toSeconds() + " s ("
                    + (h.member() ? "not yet in its voting configuration" : h.problem()) + "); see "
                    + ctx.logDirectory("elasticsearch") + " (the node keeps trying by itself)");
        }
    }
}
