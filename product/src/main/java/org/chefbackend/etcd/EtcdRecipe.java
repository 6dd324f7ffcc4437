package org.chefbackend.etcd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.chefbackend.agent.Change;
import org.chefbackend.agent.Launch;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceRecipe;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.agent.ServiceUsers;
import org.chefbackend.config.Settings;
import org.chefbackend.system.Binaries;
import org.chefbackend.system.Http;
import org.chefbackend.tls.NodeCertificates;
import org.chefbackend.tls.SecurityMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd, one member per backend node, named by the node's GUID: Chef Server frontends read that name (and the
 * peer URL's host) from {@code GET :2379/v2/members} to build their HAProxy backends. Every URL is on
 * publish_address, never 0.0.0.0 or 127.0.0.1. An open cluster's etcd serves plain http on etcd.client_port. A closed
 * one ({@link EtcdAccess}) serves https on etcd.secure_client_port to clients with a certificate from the cluster CA
 * alone, and its peers talk mutual TLS ({@link EtcdTls}); the frontends' discovery on etcd.client_port is then the
 * agent's ({@link MemberDiscovery}). While {@code secure-cluster} runs, etcd serves both client ports. No secret goes
 * on the command line, which {@code ps} shows everyone.
 */
public final class EtcdRecipe implements ServiceRecipe {
    public static final String NAME = "etcd";
    /** Where cluster commands put the cluster a node joins; absent, the node forms a cluster of its own. */
    public static final String INITIAL_CLUSTER_FILE = "/var/opt/chef-backend/etcd/initial-cluster.json";
    /** The rendered launch, compared on each prepare to tell whether a running etcd must restart. */
    static final String LAUNCH_FILE = "/var/opt/chef-backend/etcd/etcd.launch.json";
    /** The initial cluster token, from the secrets: in the environment, never on the command line. */
    static final String TOKEN_VARIABLE = "ETCD_INITIAL_CLUSTER_TOKEN";
    /** etcd refuses to start above this (embed.Config.Validate). */
    static final long MAX_ELECTION_TIMEOUT_MS = 50_000;

    private static final Logger log = LoggerFactory.getLogger(EtcdRecipe.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Change prepare(NodeContext node) throws IOException {
        checkTiming(node.settings()).ifPresent(log::warn);
        if (node.settings().integer("etcd.ionice.class") == 1) {
            log.warn("etcd.ionice.class 1 (real-time) needs CAP_SYS_NICE, which etcd's user {} lacks;"
                    + " etcd runs in the default I/O class", ServiceUsers.CHEF_BACKEND);
        }
        ServiceUsers.ensureUser(ServiceUsers.CHEF_BACKEND);
        Path data = node.path("etcd.data_dir");
        ServiceUsers.requireOwnedBy(data, ServiceUsers.CHEF_BACKEND, "etcd data directory");
        ServiceUsers.ownedDirectory(data, ServiceUsers.CHEF_BACKEND, "rwx------"); // etcd warns on anything wider
        Optional<NodeCertificates.CertificateFiles> certificates = NodeCertificates.ensure(node);
        boolean newCa = false;
        if (certificates.isPresent() && SecurityMode.of(node).etcdTls()) {
            newCa = EtcdTls.of(node).install(certificates.get());
        }
        Change launchChange = writeIfChanged(node.paths().resolve(LAUNCH_FILE), describe(launch(node)));
        return newCa ? Change.RESTART : launchChange;
    }

    /** The command line is rendered as for a start (binaries aside): the flags etcd would refuse show up here. */
    @Override
    public void check(NodeContext node) {
        render(node, initialCluster(node), Path.of("ionice"), Path.of("etcd"));
    }

    @Override
    public Launch launch(NodeContext node) {
        return render(node, initialCluster(node),
                Binaries.require("ionice", "util-linux"), Binaries.require("etcd", "etcd-server"));
    }

    @Override
    public List<InetSocketAddress> listenAddresses(NodeContext node) {
        String address = publishAddress(node);
        Settings s = node.settings();
        SecurityMode mode = SecurityMode.of(node);
        List<InetSocketAddress> out = new ArrayList<>();
        if (mode.etcdTls()) {
            out.add(new InetSocketAddress(address, s.intValue("etcd.secure_client_port")));
        }
        if (!mode.discoveryByAgent()) {
            out.add(new InetSocketAddress(address, s.intValue("etcd.client_port")));
        }
        out.add(new InetSocketAddress(address, s.intValue("etcd.peer_port")));
        return out;
    }

    /**
     * Its own, and etcd.client_port in every mode: etcd's while it serves plain http, the agent's member discovery's
     * on its behalf afterwards, so the hand-over between the two is no conflict.
     */
    @Override
    public List<InetSocketAddress> claimedAddresses(NodeContext node) {
        List<InetSocketAddress> out = new ArrayList<>(listenAddresses(node));
        InetSocketAddress discovery = discoveryAddress(node);
        if (!out.contains(discovery)) {
            out.add(discovery);
        }
        return out;
    }

    /** etcd.client_port on publish_address: where Chef Server frontends read {@code GET /v2/members}. */
    public static InetSocketAddress discoveryAddress(NodeContext node) {
        return new InetSocketAddress(publishAddress(node), node.settings().intValue("etcd.client_port"));
    }

    /**
     * The URL the agents reach this node's etcd on, and etcd advertises: https on etcd.secure_client_port from
     * secure-cluster's etcd-tls step on (every cluster with a CA otherwise), plain http on etcd.client_port before.
     */
    public static String clientUrl(NodeContext node) {
        Settings s = node.settings();
        return SecurityMode.of(node).etcdTls()
                ? Http.base("https", publishAddress(node), s.intValue("etcd.secure_client_port"))
                : plainClientUrl(node);
    }

    /** The URL other members reach this node's etcd on; what {@code member add} needs. */
    public static String peerUrl(NodeContext node) {
        return EtcdAccess.peerUrl(node, publishAddress(node), node.settings().intValue("etcd.peer_port"));
    }

    /**
     * Plain http on etcd.client_port: what Chef Server frontends read {@code /v2/members} from, in every cluster
     * (etcd's in an open one, the agent's in a closed one).
     */
    public static String plainClientUrl(NodeContext node) {
        return Http.base(publishAddress(node), node.settings().intValue("etcd.client_port"));
    }

    /**
     * The command line and environment for a given initial cluster; pure, so tests need neither etcd nor root.
     *
     * @throws ServiceSetupException for settings etcd would refuse to start with
     */
    static Launch render(NodeContext node, InitialCluster written, Path ionice, Path etcd) {
        Settings s = node.settings();
        InitialCluster cluster = written.withPeerScheme(EtcdAccess.peerScheme(node));
        long heartbeat = s.integer("etcd.heartbeat_interval");
        long election = s.integer("etcd.election_timeout");
        if (election < 5 * heartbeat) {
            throw new ServiceSetupException("etcd.election_timeout (" + election + ") must be at least 5 times"
                    + " etcd.heartbeat_interval (" + heartbeat + "); etcd refuses to start otherwise");
        }
        if (election > MAX_ELECTION_TIMEOUT_MS) {
            throw new ServiceSetupException("etcd.election_timeout (" + election + ") must be at most "
                    + MAX_ELECTION_TIMEOUT_MS + "; etcd refuses to start otherwise");
        }
        String peer = peerUrl(node);
        String self = cluster.members().get(node.nodeGuid());
        if (self == null) {
            throw new ServiceSetupException(node.paths().resolve(INITIAL_CLUSTER_FILE) + " does not list this node ("
                    + node.nodeGuid() + ") among the members " + cluster.members().keySet());
        }
        if (!self.equals(peer)) {
            throw new ServiceSetupException(node.paths().resolve(INITIAL_CLUSTER_FILE) + " gives this node the peer URL "
                    + self + ", but its publish_address and etcd.peer_port make it " + peer);
        }

        List<String> command = new ArrayList<>();
        // ionice execs etcd, so the supervised pid stays etcd's. Classes 0 (none) and 3 (idle) take no level.
        int ioClass = s.intValue("etcd.ionice.class");
        command.add(ionice.toString());
        if (ioClass == 1) {
            command.add("-t"); // real-time is refused to an unprivileged user: start etcd anyway
        }
        command.addAll(List.of("-c", String.valueOf(ioClass)));
        if (ioClass == 1 || ioClass == 2) {
            command.addAll(List.of("-n", String.valueOf(s.integer("etcd.ionice.level"))));
        }
        command.add(etcd.toString());
        String client = clientUrl(node);
        SecurityMode mode = SecurityMode.of(node);
        List<String> listen = new ArrayList<>();
        if (!mode.discoveryByAgent()) { // plain http until secure-cluster's last step: frontends and agents use it
            listen.add(plainClientUrl(node));
        }
        if (mode.etcdTls()) {
            listen.add(client);
        }
        Map<String, String> flags = new LinkedHashMap<>();
        flags.put("name", node.nodeGuid());
        flags.put("data-dir", node.path("etcd.data_dir").toString());
        flags.put("listen-client-urls", String.join(",", listen));
        flags.put("advertise-client-urls", client);
        flags.put("listen-peer-urls", peer);
        flags.put("initial-advertise-peer-urls", peer);
        flags.put("initial-cluster", cluster.flagValue());
        flags.put("initial-cluster-state", cluster.state());
        if (mode.etcdTls()) {
            flags.putAll(EtcdTls.of(node).flags());
        }
        flags.put("heartbeat-interval", String.valueOf(heartbeat));
        flags.put("election-timeout", String.valueOf(election));
        flags.put("snapshot-count", String.valueOf(s.integer("etcd.snapshot_count")));
        // an isolated member must not bump its term and depose a healthy leader when it comes back
        flags.put("pre-vote", "true");
        // frontends discover members through the v2 API (GET /v2/members), off by default since 3.4
        flags.put("enable-v2", "true");
        // status keys are rewritten every few seconds; without compaction the history fills the 2 GB quota
        flags.put("auto-compaction-mode", "periodic");
        flags.put("auto-compaction-retention", "1h");
        flags.put("logger", "zap");
        flags.put("log-outputs", "stderr");
        flags.forEach((flag, value) -> command.add("--" + flag + "=" + value));

        Map<String, String> environment = new LinkedHashMap<>(s.map("etcd.environment"));
        for (String flag : flags.keySet()) {
            String variable = "ETCD_" + flag.toUpperCase(Locale.ROOT).replace('-', '_');
            if (environment.containsKey(variable)) {
                throw new ServiceSetupException("etcd.environment sets " + variable + ", which chef-backend sets as --"
                        + flag + "; etcd refuses to start with both");
            }
        }
        if (environment.containsKey(TOKEN_VARIABLE)) {
            throw new ServiceSetupException("etcd.environment sets " + TOKEN_VARIABLE + ", which chef-backend sets"
                    + " from chef-backend-secrets.json");
        }
        // in the environment, which only etcd's user and root can read, unlike the command line
        environment.put(TOKEN_VARIABLE, node.secrets().etcdInitialClusterToken());
        return new Launch(command, environment, ServiceUsers.CHEF_BACKEND, node.path("etcd.data_dir"));
    }

    /**
     * A warning when the leader lease could expire during an etcd leader election: keep leaderl.leader_ttl_seconds
     * at least 3 × etcd.election_timeout (30 s with the default 5000 ms; etcd 3.4 with 500/5000 was measured to stall
     * lease renewals for 10–11 s after losing its leader).
     */
    public static Optional<String> checkTiming(Settings settings) {
        long ttlMs = settings.integer("leaderl.leader_ttl_seconds") * 1000;
        long election = settings.integer("etcd.election_timeout");
        if (ttlMs >= 3 * election) {
            return Optional.empty();
        }
        long minimum = (3 * election + 999) / 1000;
        return Optional.of("leaderl.leader_ttl_seconds (" + ttlMs / 1000 + ") is less than 3 x etcd.election_timeout ("
                + election + " ms): the leader lease can expire while etcd elects a new leader, causing needless"
                + " failovers; set leaderl.leader_ttl_seconds to at least " + minimum);
    }

    /** The cluster this node starts into: the file cluster commands wrote, else a cluster of its own. */
    public static InitialCluster initialCluster(NodeContext node) {
        Path file = node.paths().resolve(INITIAL_CLUSTER_FILE);
        try {
            JsonNode root = JSON.readTree(Files.readString(file));
            Map<String, String> members = new TreeMap<>();
            root.path("members").fields().forEachRemaining(e -> members.put(e.getKey(), e.getValue().asText()));
            return new InitialCluster(root.path("state").asText(), members);
        } catch (NoSuchFileException e) {
            return InitialCluster.single(node.nodeGuid(), peerUrl(node));
        } catch (IOException | IllegalArgumentException e) {
            throw new ServiceSetupException("cannot read " + file + ": " + e.getMessage().replace('\n', ' '));
        }
    }

    /**
     * Records the cluster a node must start into, before its first start: "existing" with every member's peer URL
     * (this node included) after {@code member add}, or "new" for the members forming a cluster together.
     */
    public static void writeInitialCluster(NodeContext node, String state, Map<String, String> members)
            throws IOException {
        InitialCluster cluster = new InitialCluster(state, members); // validates
        ObjectNode root = JSON.createObjectNode().put("state", cluster.state());
        ObjectNode m = root.putObject("members");
        cluster.members().forEach(m::put);
        writeAtomically(node.paths().resolve(INITIAL_CLUSTER_FILE), JSON.writeValueAsString(root) + "\n");
    }

    /** Writes {@code content} unless the file already holds it: RESTART when it changed (or is new), else NONE. */
    static Change writeIfChanged(Path file, String content) throws IOException {
        if (Files.exists(file) && Files.readString(file).equals(content)) {
            return Change.NONE;
        }
        writeAtomically(file, content);
        return Change.RESTART;
    }

    /** The launch as the launch file keeps it: the token only by its SHA-256, so the file holds no secret. */
    static String describe(Launch launch) throws IOException {
        Map<String, String> environment = new TreeMap<>(launch.environment());
        environment.computeIfPresent(TOKEN_VARIABLE, (k, token) -> "sha256:" + sha256(token));
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("user", launch.user());
        tree.put("workingDirectory", launch.workingDirectory().toString());
        tree.put("command", launch.command());
        tree.put("environment", environment);
        return JSON.writeValueAsString(tree) + "\n";
    }

    private static void writeAtomically(Path file, String content) throws IOException {
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static String publishAddress(NodeContext node) {
        String address = node.publishAddress();
        if (address == null) {
            throw new ServiceSetupException("publish_address is not set in chef-backend.rb; etcd listens only on it");
        }
        return address;
    }

    private static String sha256(String value) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(value.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // SHA-256 is in every JRE
        }
    }
}
