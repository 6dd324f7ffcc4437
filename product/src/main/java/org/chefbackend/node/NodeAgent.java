package org.chefbackend.node;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.chefbackend.agent.AgentLogging;
import org.chefbackend.agent.Change;
import org.chefbackend.agent.ConfigChangeCheck;
import org.chefbackend.agent.HealthMonitor;
import org.chefbackend.agent.MachineProbe;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeIdentity;
import org.chefbackend.agent.NodeState;
import org.chefbackend.agent.ProcessIdentity;
import org.chefbackend.agent.ServiceRecipe;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.agent.ServiceStatus;
import org.chefbackend.agent.Supervisor;
import org.chefbackend.agent.Watchdog;
import org.chefbackend.api.AgentHttpServer;
import org.chefbackend.api.ApiException;
import org.chefbackend.api.MemberDiscovery;
import org.chefbackend.backup.BackupKeeper;
import org.chefbackend.backup.PgBackRestServerRecipe;
import org.chefbackend.cluster.ClusterAgent;
import org.chefbackend.cluster.ClusterFile;
import org.chefbackend.cluster.ClusterView;
import org.chefbackend.cluster.Records;
import org.chefbackend.config.ConfigException;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsException;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.config.SecretsRotation;
import org.chefbackend.config.Settings;
import org.chefbackend.etcd.EtcdAccess;
import org.chefbackend.etcd.EtcdRecipe;
import org.chefbackend.leaderl.HaLoop;
import org.chefbackend.leaderl.Intent;
import org.chefbackend.postgres.LocalSession;
import org.chefbackend.postgres.PeerTls;
import org.chefbackend.postgres.PgpassFile;
import org.chefbackend.postgres.PostgresRecipe;
import org.chefbackend.postgres.StandbyConfig;
import org.chefbackend.repository.RepositorySettings;
import org.chefbackend.search.OpenSearchRecipe;
import org.chefbackend.system.Binaries;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.Http;
import org.chefbackend.tls.Authority;
import org.chefbackend.tls.NodeCertificates;
import org.chefbackend.tls.Pem;
import org.chefbackend.tls.SecurityMode;
import org.chefbackend.tls.TlsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent: one long-running JVM per backend node. It supervises the node's services, runs leaderl, and
 * serves the HTTP API the CLI and HAProxy use. {@code chef-backend-ctl start} runs it detached; a systemd unit runs
 * {@code chef-backend-ctl agent} in the foreground.
 */
public final class NodeAgent implements AgentHttpServer.Node {
    private static final Logger log = LoggerFactory.getLogger(NodeAgent.class);

    private final NodePaths paths;
    private final AtomicReference<NodeContext> node = new AtomicReference<>();
    private final HealthMonitor health = new HealthMonitor();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final long startedMillis = System.currentTimeMillis();
    private NodeStatusReport report;
    private ClusterAgent cluster;
    private final AtomicReference<HaLoop> ha = new AtomicReference<>();
    private volatile BackupKeeper backups;
    private Watchdog watchdog;
    private Supervisor supervisor;
    private AgentHttpServer http;
    private MemberDiscovery discovery;
    /** Where the HTTP API listens: set at boot; a changed leaderl.http_address takes effect at the next boot. */
    private InetSocketAddress httpBind;
    private final Object reconfiguring = new Object();
    private byte[] localAdminKey;
    private RotationSteps rotation;
    private CaRotationSteps caRotation;

    NodeAgent(NodePaths paths) {
        this.paths = paths;
    }

    /** Runs the agent until it is told to stop; returns the process exit code. */
    public static int run(NodePaths paths) {
        NodeAgent agent = new NodeAgent(paths);
        try (FileChannel lockChannel = openLock(paths); FileLock lock = lockChannel.tryLock()) {
            if (lock == null) {
                System.err.println("chef-backend agent: an agent is already running for node root " + paths.root());
                return 1;
            }
            agent.boot();
            agent.stopped.await();
            return 0;
        } catch (ConfigException | SecretsException | ServiceSetupException | Binaries.MissingBinaryException e) {
            log.info("cannot start: {}", e.getMessage());
            agent.shutdown();
            // last, so it is the console's last line: the CLI shows it as the reason
            System.err.println("chef-backend agent: " + e.getMessage());
            return 2;
        } catch (IOException | RuntimeException e) {
            log.info("cannot start", e);
            agent.shutdown();
            System.err.println("chef-backend agent: cannot start: " + e);
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    private static FileChannel openLock(NodePaths paths) throws IOException {
        Path lock = NodeState.agentLockFile(paths);
        Files.createDirectories(lock.getParent());
        return FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    }

    private void boot() throws IOException {
        NodeContext ctx = loadContext();
        node.set(ctx);
        AgentLogging.toRotatingLog(ctx.logDirectory("leaderl"), ctx.settings().integer("leaderl.log_rotation.file_maxbytes"),
                ctx.settings().intValue("leaderl.log_rotation.num_to_keep"));
        log.info("agent starting: node {} ({}), root {}, pid {}", ctx.nodeName(), ctx.nodeGuid(), paths.root(),
                ProcessHandle.current().pid());
        localAdminKey = adminKey();
        List<ServiceRecipe> recipes = new ArrayList<>(List.of(new PostgresRecipe(), new EtcdRecipe(),
                new OpenSearchRecipe()));
        if (RepositorySettings.of(ctx.settings()).isPresent() && ctx.secrets().ca() != null) {
            recipes.add(new PgBackRestServerRecipe()); // backup.repository: set before the agent starts
        }
        // one kept session for the status readers (published status, /status); leaderl keeps its own
        var statusSession = new LocalSession(node::get, 1000);
        report = new NodeStatusReport(node::get, statusSession);
        report.registerHealthChecks(health);
        health.start(() -> node.get().settings().integer("leaderl.health_check.interval_seconds") * 1000L);
        supervisor = new Supervisor(node::get, recipes, ha::get);
        cluster = new ClusterAgent(node::get, statusSession);
        rotation = new RotationSteps(node::get, cluster, this::adoptSecrets);
        rotation.stageAtBoot();
        caRotation = new CaRotationSteps(node::get, this::applySecrets);
        HaLoop loop = new HaLoop(node::get, cluster, supervisor, health);
        ha.set(loop);
        backups = new BackupKeeper(node::get, loop::holdsLeaderKey, statusSession, cluster);
        cluster.leaderl(loop::holdsLeaderKey, () -> loop.state().jsonName(), loop::ineligibleReason);
        supervisor.cleanOrphans();
        supervisor.preflight();
        httpBind = httpEndpoint(ctx);
        Supervisor.requireFree("leaderl", httpBind);
        http = new AgentHttpServer(httpBind, ctx.settings().intValue("leaderl.http_acceptors"), this);
        // before the pid file: whoever finds this agent running finds where it listens, whatever chef-backend.rb says
        // an API on every address (0.0.0.0) is called, and its admin calls signed, at the publish_address
        String callAt = httpBind.getAddress() != null && httpBind.getAddress().isAnyLocalAddress()
                ? ctx.publishAddress() : httpBind.getHostString();
        Files.writeString(NodeState.agentEndpointFile(paths), Http.base(callAt, httpBind.getPort()) + "\n");
        Files.writeString(NodeState.agentPidFile(paths),
                ProcessIdentity.of(ProcessHandle.current().pid()).orElseThrow().serialize() + "\n");
        Runtime.getRuntime().addShutdownHook(new Thread(this::shutdown, "agent-shutdown"));
        watchdog = new Watchdog(ctx);
        watchdog.start(ctx);
        loop.watchdog(watchdog);
        fenceFormerPrimary(ctx);
        supervisor.begin();
        backups.start();
        cluster.start();
        http.start();
        discovery = new MemberDiscovery(() -> discoveryEndpoint(node.get()), this::etcdMembers);
        discovery.start();
        log.info("agent ready; HTTP API on {}:{}", httpBind.getHostString(), httpBind.getPort());
    }

    /** Where this agent answers the frontends' GET /v2/members: in a closed cluster, etcd.client_port. */
    private static Optional<InetSocketAddress> discoveryEndpoint(NodeContext ctx) {
        if (!ctx.settings().bool(EtcdRecipe.NAME + ".enable") || !SecurityMode.of(ctx).discoveryByAgent()) {
            return Optional.empty();
        }
        return Optional.of(EtcdRecipe.discoveryAddress(ctx));
    }

    /** This node's etcd's answer to GET /v2/members. */
    private byte[] etcdMembers() throws IOException {
        NodeContext ctx = node.get();
        Http.Response r = Http.get(EtcdRecipe.clientUrl(ctx) + MemberDiscovery.PATH, Duration.ofSeconds(2),
                Duration.ofSeconds(2), EtcdAccess.of(ctx).tls());
        if (r.status() != 200) {
            throw new IOException("HTTP " + r.status());
        }
        return r.body();
    }

    private static InetSocketAddress httpEndpoint(NodeContext ctx) {
        String address = ctx.settings().optionalString("leaderl.http_address").orElse(ctx.publishAddress());
        return new InetSocketAddress(address, ctx.settings().intValue("leaderl.http_port"));
    }

    /**
     * A member whose PostgreSQL was a primary when the agent went down (crash, power loss) must not start as one:
     * someone else may lead by now, and until leaderl has looked, direct connections could write to it. So it
     * starts fenced, exactly like a leader that stepped down, and leaderl decides: rejoin by pg_rewind, or, when
     * nobody has led since, stand for election again as a standby.
     */
    private static void fenceFormerPrimary(NodeContext ctx) throws IOException {
        Path data = ctx.path("postgresql.data_dir");
        boolean member = ClusterFile.read(ctx.paths())
                .filter(cf -> ClusterFile.MEMBER.equals(cf.state())).isPresent();
        // (a node still creating or joining its cluster is not fenced: its setup decides what PostgreSQL is)
        if (member && Files.exists(data.resolve("PG_VERSION"))
                && !Files.exists(data.resolve(StandbyConfig.STANDBY_SIGNAL))
                && !NodeState.hasSentinel(ctx.paths(), NodeState.NO_START_PGSQL)) {
            Files.createDirectories(ctx.paths().leaderlDataDir());
            Files.writeString(NodeState.sentinel(ctx.paths(), NodeState.NO_START_PGSQL),
                    NodeState.BOOT_FENCE_NOTE + "\n");
            log.warn("PostgreSQL was a primary when the agent went down: held down (no-start-pgsql) until leaderl"
                    + " decides");
        }
    }

    /** Reads chef-backend.rb and the secrets; a node needs its publish_address and the cluster's secrets to run. */
    private NodeContext loadContext() throws IOException {
        Path config = paths.configFile();
        Settings settings = Files.exists(config) ? Settings.load(config, MachineFacts.detect())
                : Settings.defaults(MachineFacts.detect());
        if (settings.optionalString("publish_address").isEmpty()) {
            throw new ServiceSetupException("publish_address is not set in " + config
                    + "; every service listens on it");
        }
        SecretsFile.restrict(paths.secretsFile()); // earlier versions left it readable by group chef_pgsql
        Secrets secrets = SecretsFile.load(paths.secretsFile());
        NodeIdentity id = NodeIdentity.load(paths, settings);
        return new NodeContext(settings, paths, id.name(), id.guid(), secrets);
    }

    private byte[] adminKey() throws IOException {
        Path file = NodeState.adminKeyFile(paths);
        if (!Files.exists(file)) {
            byte[] key = new byte[32];
            new SecureRandom().nextBytes(key);
            Path tmp = Files.createTempFile(file.getParent(), "admin", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(tmp, key);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        }
        return Files.readAllBytes(file);
    }

    /**
     * Stops everything, in an order that lets a leader hand over: the services first (leaderl releases the key
     * through the cluster's etcd client), then the cluster connection, the watchdog and logging. Every step runs
     * even when one before it failed, and the agent always ends: a half-stopped agent is worse than a stopped one.
     */
    private synchronized void shutdown() {
        if (stopped.getCount() == 0) {
            return;
        }
        try {
            log.info("agent stopping");
            quietly("published status", () -> {
                if (cluster != null) {
                    cluster.publishStopping(Duration.ofMillis(300));
                }
            });
            // services first, leaderl's hand-over leading: the HTTP API's stop waits up to 2 s for replies in
            // flight (the shutdown call's own among them), which must not delay the new leader
            quietly("services", () -> {
                if (supervisor != null) {
                    supervisor.shutdown();
                }
            });
            quietly("health checks", health::stop);
            quietly("backup keeper", () -> {
                if (backups != null) {
                    backups.close();
                }
            });
            quietly("HTTP API", () -> {
                if (discovery != null) {
                    discovery.stop();
                }
                if (http != null) {
                    http.stop();
                }
            });
            quietly("cluster connection", () -> {
                if (cluster != null) {
                    cluster.stop();
                }
            });
            quietly("watchdog", () -> {
                if (watchdog != null) {
                    watchdog.stop();
                }
            });
            quietly("pid file", () -> {
                try {
                    Files.deleteIfExists(NodeState.agentPidFile(paths));
                    Files.deleteIfExists(NodeState.agentEndpointFile(paths));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            log.info("agent stopped");
            ((LoggerContext) LoggerFactory.getILoggerFactory()).stop();
        } finally {
            stopped.countDown();
        }
    }

    private static void quietly(String what, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            log.error("stopping the {} failed: {}", what, e.toString());
        }
    }

    // ---- HTTP API --------------------------------------------------------------------------------------------

    @Override
    public Map<String, Object> status() {
        NodeContext ctx = node.get();
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("node", Map.of("name", ctx.nodeName(), "guid", ctx.nodeGuid(), "publish_address", ctx.publishAddress(),
                "root", paths.root().toString()));
        doc.put("agent", Map.of("pid", ProcessHandle.current().pid(), "since", startedMillis));
        List<ServiceStatus> services = supervisor.statuses();
        doc.put("services", services);
        doc.put("health", health.checks());
        doc.put("cluster", cluster.progress());
        doc.put("leaderl", ha.get().describe());
        doc.putAll(report.snapshot());
        if (RepositorySettings.of(ctx.settings()).isPresent()) {
            doc.put("backup", backups.snapshot());
        }
        doc.put("replaced_files", report.replacedFiles(services));
        return doc;
    }

    @Override
    public boolean leader() {
        HaLoop loop = ha.get();
        return loop != null && loop.leaderEndpoint();
    }

    @Override
    public Map<String, Object> position() {
        return ha.get().position();
    }

    @Override
    public Map<String, Object> cluster() {
        if (!cluster.connected()) {
            throw new ApiException(409, "this node is not part of a cluster");
        }
        NodeContext ctx = node.get();
        long stale = 3 * ctx.settings().integer("leaderl.status_post_update_interval_seconds") * 1000L + 5000;
        Map<String, Records.Member> members = cluster.members();
        Map<String, Object> view = ClusterView.of(members, cluster.statuses(), cluster.leader(members),
                cluster.failoverSwitches(), System.currentTimeMillis(), stale, ctx.settings().integer("leaderl.health_check.max_bytes_behind_leader"));
        view.put("intent_outcome", cluster.lastIntentOutcome().orElse(null));
        return view;
    }

    @Override
    public Map<String, Object> admin(String action, String service, JsonNode body)
            throws IOException {
        if (action.equals("cluster/join")) {
            var grant = cluster.admit(body.path("name").asText(), body.path("guid").asText(),
                    body.path("address").asText(), body.path("peer_port").asInt(2380), body.path("recovery").asBoolean());
            return Map.of("grant", grant);
        }
        if (action.equals("cluster/verify-secrets")) {
            // the HTTP API checked the signature before this: a joiner learns its secrets fit, and nothing changes
            return Map.of("verified", true);
        }
        if (action.equals("cluster/intent")) {
            Intent.Request r;
            try {
                r = Intent.Request.of(body);
            } catch (IllegalArgumentException e) {
                // refused before anything is written: every node's leaderl reads what lands in etcd
                throw new ApiException(400, e.getMessage());
            }
            return Map.of("intent", cluster.putIntent(r.kind().jsonName(), r.target()));
        }
        if (action.equals("cluster/failover")) {
            return Map.of("done", cluster.setFailover(body.path("scope").asText().equals("cluster"),
                    body.path("enabled").asBoolean()));
        }
        if (action.equals("pgsql-follow")) {
            try {
                return Map.of("done", ha.get().followManually(body.path("leader").asText(),
                        body.path("force_basebackup").asBoolean()));
            } catch (SQLException e) {
                throw new ApiException(500, e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ApiException(503, "interrupted");
            }
        }
        if (action.equals("security-step")) {
            synchronized (reconfiguring) {
                return securityStep(body.path("step").asText(), body.path("ca").asText(), body.path("check").asBoolean());
            }
        }
        if (action.equals("rotate-secrets")) {
            return rotation.step(body.path("step").asText(), body.path("fingerprint").asText());
        }
        if (action.equals("rotate-ca")) {
            return caRotation.step(body.path("phase").asInt(-1), body.path("fingerprint").asText());
        }
        if (action.equals("rotate-certificate")) {
            synchronized (reconfiguring) {
                return rotateCertificate();
            }
        }
        if (action.equals("cluster/remove")) {
            return Map.of("done", cluster.remove(body.path("name").asText()));
        }
        List<String> targets = service == null ? supervisor.names().stream().filter(supervisor::enabled).toList()
                : List.of(service);
        Map<String, Object> result = new LinkedHashMap<>();
        switch (action) {
            case "start" -> {
                for (String s : targets) {
                    supervisor.start(s);
                }
            }
            case "stop" -> {
                for (String s : targets) {
                    supervisor.stop(s);
                }
            }
            case "restart" -> {
                for (String s : targets) {
                    supervisor.restart(s);
                }
            }
            case "reconfigure" -> {
                synchronized (reconfiguring) { // two at once would check against a state the other is changing
                    result.put("reconfigure", reconfigure());
                }
            }
            case "shutdown" -> {
                // answer first, then stop: the caller waits for the agent's process to end
                Thread t = new Thread(this::shutdown, "agent-stop");
                t.start();
                result.put("shutdown", true);
                return result;
            }
            default -> throw new ApiException(404, "no such admin call: " + action);
        }
        List<Object> statuses = new ArrayList<>();
        for (String s : targets) {
            statuses.add(supervisor.status(s));
        }
        result.put("services", statuses);
        return result;
    }

    /**
     * One step of {@code secure-cluster} on this node: the secrets file must hold the cluster CA whose fingerprint
     * the caller names (the operator copied it here); then the step is recorded and applied as a reconfigure is
     * (a refusal puts the previous step back). With {@code check}, only the CA is checked.
     */
    private Map<String, Object> securityStep(String stepName, String caFingerprint, boolean check) throws IOException {
        SecurityMode step;
        try {
            step = SecurityMode.parse(stepName);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, e.getMessage());
        }
        Secrets onDisk;
        try {
            onDisk = SecretsFile.load(paths.secretsFile());
        } catch (SecretsException e) {
            throw new ApiException(409, e.getMessage());
        }
        if (onDisk.ca() == null || !Authority.fingerprint(onDisk.ca()).equals(caFingerprint)) {
            throw new ApiException(409, node.get().nodeName() + ": " + paths.secretsFile() + (onDisk.ca() == null
                    ? " holds no cluster CA" : " holds another cluster CA")
                    + "; copy the secrets file of the node that made the CA here first");
        }
        if (check) {
            return Map.of("security", SecurityMode.of(node.get()).jsonName(), "ca", "matches");
        }
        SecurityMode before = SecurityMode.step(paths);
        SecurityMode.record(paths, step);
        try {
            Map<String, String> done = reconfigure();
            cluster.retarget(); // from the etcd-tls step on, over https to the member that now serves it
            if (StandbyConfig.refresh(node.get()) == Change.RELOAD) { // a standby verifies from the clients step on
                supervisor.reload(PostgresRecipe.NAME);
                done = new LinkedHashMap<>(done);
                done.put("replication", "reconnected with " + PeerTls.of(node.get()).sslmode());
            }
            log.info("security step {} applied: {}", step.jsonName(), done);
            return Map.of("security", step.jsonName(), "reconfigure", done);
        } catch (IOException | RuntimeException e) {
            SecurityMode.record(paths, before);
            throw e;
        }
    }

    /**
     * rotate-secrets' switch on this node: the secrets file replaced by the next one (atomically, it stays 0600 root),
     * then everything that reads the secrets moves on: the context (PostgreSQL's own connections, the admin key),
     * the etcd clients, the pgpass file replication and pg_rewind read. A refusal puts the files back as they were.
     */
    private Map<String, String> adoptSecrets(Secrets next) throws IOException {
        synchronized (reconfiguring) {
            Path file = paths.secretsFile();
            Path nextFile = SecretsRotation.nextFile(file);
            Secrets before = node.get().secrets();
            Files.move(nextFile, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Map<String, String> done;
            try {
                done = new LinkedHashMap<>(reconfigure());
            } catch (IOException | RuntimeException e) {
                SecretsFile.write(file, before);
                SecretsFile.write(nextFile, next);
                throw e;
            }
            cluster.retarget(); // the etcd clients log in with the new passwords
            PgpassFile.write(node.get());
            if (StandbyConfig.refresh(node.get()) == Change.RELOAD) {
                supervisor.reload(PostgresRecipe.NAME);
            }
            done.put("secrets", "switched to " + next.fingerprint().substring(0, 12));
            return done;
        }
    }

    /**
     * rotate-ca's phases on this node: the secrets file rewritten with {@code target} (its CA changed), then applied
     * as a reconfigure (etcd restarts when the CAs it trusts changed; PostgreSQL reloads a new certificate), the etcd
     * clients moved to the new trust, a standby's conninfo rendered again. A refusal puts the file back.
     */
    private Map<String, String> applySecrets(Secrets target) throws IOException {
        synchronized (reconfiguring) {
            Path file = paths.secretsFile();
            Secrets before = node.get().secrets();
            SecretsFile.write(file, target);
            Map<String, String> done;
            try {
                done = new LinkedHashMap<>(reconfigure());
            } catch (IOException | RuntimeException e) {
                SecretsFile.write(file, before);
                throw e;
            }
            cluster.retarget();
            if (StandbyConfig.refresh(node.get()) == Change.RELOAD) {
                supervisor.reload(PostgresRecipe.NAME);
            }
            return done;
        }
    }

    /** rotate-certificates on this node: a new certificate now, served by reload (PostgreSQL) or handshake (etcd). */
    private Map<String, Object> rotateCertificate() throws IOException {
        NodeCertificates.CertificateFiles files;
        try {
            files = NodeCertificates.reissue(node.get());
        } catch (TlsException e) {
            throw new ApiException(409, node.get().nodeName() + ": " + e.getMessage());
        }
        Map<String, String> done = reconfigure();
        X509Certificate issued = Pem.certificates(Files.readString(files.certificate()), files.certificate().toString())
                .get(0);
        log.info("rotate-certificates: certificate serial {} issued and served: {}",
                issued.getSerialNumber().toString(16), done);
        return Map.of("serial", issued.getSerialNumber().toString(16), "not_after",
                issued.getNotAfter().toInstant().toString(), "reconfigure", done);
    }

    /**
     * All or nothing: the new chef-backend.rb is checked against this machine first (addresses, ports, what the
     * services would refuse) and a refusal leaves everything as it was; then every file is rendered (a failure puts
     * the previous ones back), and only then do the settings change and the services reload or restart.
     */
    private Map<String, String> reconfigure() throws IOException {
        NodeContext before = node.get();
        NodeContext after;
        try {
            after = loadContext();
        } catch (ConfigException | SecretsException e) {
            throw new ServiceSetupException(e.getMessage() + "; nothing was changed");
        }
        List<String> problems = new ArrayList<>(ConfigChangeCheck.problems(before, after,
                NodeState.inCluster(paths), held(), endpoints(after), new MachineProbe()));
        if (problems.isEmpty()) { // the services' own checks only once addresses and ports are sound
            problems.addAll(supervisor.refusals(after));
        }
        if (!problems.isEmpty()) {
            log.warn("reconfigure refused: {}", String.join("; ", problems));
            throw new ServiceSetupException(String.join("; ", problems) + "; nothing was changed");
        }
        Map<String, Change> changes;
        try {
            changes = supervisor.render(after);
        } catch (IOException | RuntimeException e) {
            try {
                supervisor.render(before);
            } catch (IOException | RuntimeException again) {
                log.error("reconfigure: could not put the previous configuration files back: {}", again.toString());
            }
            throw e;
        }
        node.set(after);
        Map<String, String> done = new LinkedHashMap<>(supervisor.apply(changes));
        if (!httpEndpoint(after).equals(httpBind)) {
            done.put("leaderl", "the HTTP API stays on " + httpBind.getHostString() + ":" + httpBind.getPort()
                    + " until the agent restarts (" + CtlCommand.forRoot(paths.root(), "stop") + " && "
                    + CtlCommand.forRoot(paths.root(), "start") + ")");
        }
        return done;
    }

    /** Where the running services and the HTTP API listen now. */
    private Map<String, List<InetSocketAddress>> held() {
        Map<String, List<InetSocketAddress>> held = new LinkedHashMap<>(supervisor.heldEndpoints());
        held.put("leaderl", List.of(httpBind));
        if (discovery != null) { // etcd's port, the agent's while etcd is closed: see EtcdRecipe.claimedAddresses
            discovery.endpoint().ifPresent(e -> {
                List<InetSocketAddress> etcd = new ArrayList<>(held.getOrDefault(EtcdRecipe.NAME, List.of()));
                if (!etcd.contains(e)) {
                    etcd.add(e);
                }
                held.put(EtcdRecipe.NAME, etcd);
            });
        }
        return held;
    }

    /** Where the services and the HTTP API would listen with {@code ctx}'s settings. */
    private Map<String, List<InetSocketAddress>> endpoints(NodeContext ctx) {
        Map<String, List<InetSocketAddress>> wanted = new LinkedHashMap<>(supervisor.endpoints(ctx));
        wanted.put("leaderl", List.of(httpEndpoint(ctx)));
        return wanted;
    }

    @Override
    public List<byte[]> adminKeys() {
        List<byte[]> keys = new ArrayList<>(List.of(localAdminKey, node.get().secrets().adminKey()));
        rotation.stagedAdminKey().ifPresent(keys::add); // while the cluster rotates its secrets
        return keys;
    }

    public static void main(String[] args) {
        Path root = Path.of(System.getenv().getOrDefault(NodePaths.ROOT_ENV, "/"));
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--root")) {
                root = Path.of(args[i + 1]);
            }
        }
        AgentLogging.quietConsole(Level.WARN);
        System.exit(run(new NodePaths(root)));
    }
}
