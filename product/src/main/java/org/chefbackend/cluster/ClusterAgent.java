package org.chefbackend.cluster;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import java.io.IOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeState;
import org.chefbackend.api.ApiException;
import org.chefbackend.config.Secrets;
import org.chefbackend.dcs.ClusterStore;
import org.chefbackend.dcs.DcsException;
import org.chefbackend.dcs.EtcdAuthSetup;
import org.chefbackend.etcd.EtcdAccess;
import org.chefbackend.etcd.EtcdProbe;
import org.chefbackend.etcd.EtcdRecipe;
import org.chefbackend.postgres.BaseBackup;
import org.chefbackend.postgres.LocalSession;
import org.chefbackend.postgres.PgpassFile;
import org.chefbackend.postgres.PostgresAdmin;
import org.chefbackend.postgres.ReplicationSlots;
import org.chefbackend.search.OpenSearchRecipe;
import org.chefbackend.search.SearchClient;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.tls.NodeCertificates;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's part in its cluster: carries out the intent create-cluster or join-cluster recorded in cluster.json
 * (bootstrap as the first member and leader; or base-backup from the leader and stream), keeps the node's record and
 * published status in etcd, holds the leader key while this node is the cluster's primary, and serves the
 * membership changes other nodes ask for (join, remove).
 */
public final class ClusterAgent {
    private static final Logger log = LoggerFactory.getLogger(ClusterAgent.class);
    /** Reads records, leaving out invalid ones and saying so once per value. */
    private final RecordReader records = new RecordReader(line -> log.warn("{}", line));
    public static final String PREFIX = "/chef-backend/";
    static final String LEADER = "leader";
    static final String JOIN_LOCK = "locks/join";
    /** How the last operator request ended (leaderl writes it as it clears the request): the asking command reads it. */
    public static final String INTENT_OUTCOME = "intent_outcome";
    private static final TypeReference<Map<String, Object>> JSON_OBJECT = new TypeReference<>() {
    };
    /** A join's etcd member must start within this; the lock expires by itself if the joiner dies. */
    static final long JOIN_LOCK_TTL_SECONDS = 600;

    private final Supplier<NodeContext> node;
    private volatile Secrets rotating; // next secrets staged by rotate-secrets, null when none
    private volatile Runnable onRotated;
    private final SearchClient search = new SearchClient();
    /** Read for the published status (shared with /status). */
    private final LocalSession postgres;
    /** The cluster's keys, as etcd user chef-backend in a closed cluster. */
    private volatile ClusterStore store;
    /** etcd's membership API, as etcd's root in a closed cluster: only membership changes go through it. */
    private volatile ClusterStore membership;
    /** leaderl's view: whether this node holds the leader key, its state name and eligibility. */
    private volatile BooleanSupplier leaderProbe = () -> false;
    private volatile Supplier<String> roleProbe = () -> "initializing";
    private volatile Supplier<String> reasonProbe = () -> "leaderl has not run yet";
    private volatile String phase = "not part of a cluster";
    private volatile String progress = "";
    private volatile String error;
    private Thread loop;

    public ClusterAgent(Supplier<NodeContext> node, LocalSession postgres) {
        this.node = node;
        this.postgres = postgres;
    }

    public void start() {
        if (ClusterFile.read(node.get().paths()).isEmpty()) {
            return;
        }
        loop = new Thread(this::run, "cluster");
        loop.setDaemon(true);
        loop.start();
    }

    /** Wires leaderl's view in (the HA loop is built after this agent). */
    public void leaderl(BooleanSupplier holdsLeaderKey, Supplier<String> role,
            Supplier<String> whyIneligible) {
        this.leaderProbe = holdsLeaderKey;
        this.roleProbe = role;
        this.reasonProbe = whyIneligible;
    }

    /** True once this node is a connected member: leaderl may act. */
    public boolean ready() {
        return store != null && ClusterFile.read(node.get().paths()).map(c -> c.state().equals(ClusterFile.MEMBER))
                .orElse(false);
    }

    public ClusterStore store() {
        return requireStore();
    }

    /**
     * Says, before the services stop, that this node is going away: cluster-status then shows it stopped until it
     * starts again (not, for up to three publishing intervals, as the leader or an eligible follower it no longer
     * is, and then as "unreachable", as a crashed node is shown). Waits at most
     * {@code limit}: a stop never waits on an etcd that does not answer.
     */
    public void publishStopping(Duration limit) {
        ClusterStore s = store;
        if (s == null || !ready()) {
            return;
        }
        NodeContext ctx = node.get();
        Thread t = new Thread(() -> {
            try {
                Records.NodeStatus last = statuses().get(ctx.nodeName());
                if (last != null) {
                    s.put("nodes/" + ctx.nodeName(), Records.json(last.stopped(System.currentTimeMillis())));
                }
            } catch (RuntimeException e) {
                log.debug("cluster: could not publish the stop: {}", e.getMessage()); // the status goes stale instead
            }
        }, "publish-stopping");
        t.setDaemon(true);
        t.start();
        try {
            t.join(limit.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public void stop() {
        if (loop != null) {
            loop.interrupt();
        }
        for (ClusterStore s : new ClusterStore[] {store, membership}) {
            if (s != null) {
                s.close();
            }
        }
    }

    /** For /status: where the node stands in carrying out its cluster intent. */
    public Map<String, Object> progress() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("state", ClusterFile.read(node.get().paths()).map(ClusterFile::state).orElse("none"));
        m.put("phase", phase);
        m.put("progress", progress);
        m.put("error", error);
        m.put("leader", leaderProbe.getAsBoolean());
        return m;
    }

    private void run() {
        try {
            ClusterFile cf = ClusterFile.read(node.get().paths()).orElseThrow();
            connect(cf);
            if (cf.state().equals(ClusterFile.CREATING)) {
                bootstrap(cf);
            } else if (cf.state().equals(ClusterFile.JOINING)) {
                join(cf);
            }
            phase = "member";
            error = null;
            maintain();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | IOException e) {
            error = e.getMessage();
            log.error("cluster: {}", e.getMessage(), e);
        }
    }

    /**
     * Waits for the local etcd member (started by the supervisor) and connects to it; a node forming a new etcd
     * cluster (create-cluster, restore, quorum-loss recovery) first closes it to strangers, before anything is
     * written to it.
     */
    private void connect(ClusterFile cf) throws InterruptedException {
        phase = "waiting for etcd";
        NodeContext ctx = node.get();
        while (!EtcdProbe.health(ctx)) {
            Thread.sleep(250);
        }
        Duration timeout = Duration.ofMillis(ctx.settings().integer("leaderl.etcd_pool.http_timeout_ms"));
        EtcdAccess access = EtcdAccess.of(ctx);
        List<String> endpoints = List.of(EtcdRecipe.clientUrl(ctx));
        if (cf.state().equals(ClusterFile.CREATING) && access.closed()) {
            phase = "closing etcd to strangers";
            patiently(() -> EtcdAuthSetup.ensure(endpoints.get(0), access.tls(), access.root(),
                    access.clusterUser(), PREFIX, timeout).forEach(done -> log.info("cluster: {}", done)));
        }
        membership = access.membership(endpoints, PREFIX, timeout);
        store = access.keys(endpoints, PREFIX, timeout);
        Secrets next = rotating;
        if (next != null) {
            fallBackTo(next, onRotated);
        }
    }

    /**
     * While secrets are rotated ({@code next} staged on this node): both etcd clients log in with {@code next}'s
     * passwords from the moment etcd refuses the current ones, and the first that does so runs {@code adopted}. That
     * refusal, and etcd taking the next passwords, is what shows the cluster has moved on. Null clears it.
     */
    public void fallBackTo(Secrets next, Runnable adopted) {
        rotating = next;
        onRotated = adopted;
        EtcdAccess access = next == null ? null
                : EtcdAccess.of(next, NodeCertificates.existing(node.get()).orElseThrow());
        ClusterStore s = store;
        ClusterStore m = membership;
        if (s != null) {
            s.fallBackTo(access == null ? null : access.clusterUser(), adopted);
        }
        if (m != null) {
            m.fallBackTo(access == null ? null : access.root(), adopted);
        }
    }

    /**
     * After a change of how this node reaches its etcd (secure-cluster's etcd-tls step): the running stores go there
     * from now on. Nothing when not yet connected (the connection to come uses the new way).
     */
    public void retarget() {
        NodeContext ctx = node.get();
        EtcdAccess access = EtcdAccess.of(ctx);
        List<String> endpoints = List.of(EtcdRecipe.clientUrl(ctx));
        ClusterStore s = store;
        ClusterStore m = membership;
        if (s != null) {
            s.retarget(endpoints, access.clusterUser(), access.tls());
        }
        if (m != null) {
            m.retarget(endpoints, access.root(), access.tls());
        }
        log.info("cluster: etcd reached at {} from now on", endpoints.get(0));
    }

    private void bootstrap(ClusterFile cf) throws IOException, InterruptedException {
        NodeContext ctx = node.get();
        phase = "bootstrapping the cluster";
        putPatiently("members/" + ctx.nodeName(), Records.json(memberRecord(ctx, null)));
        phase = "waiting for PostgreSQL";
        while (!PostgresAdmin.isAcceptingConnections(ctx)) {
            Thread.sleep(250);
        }
        cf.asMember().write(ctx.paths()); // leaderl now elects this node, the only member
        log.info("cluster: created; leaderl elects the first leader");
    }

    private void join(ClusterFile cf) throws IOException, InterruptedException {
        NodeContext ctx = node.get();
        if (NodeState.hasSentinel(ctx.paths(), NodeState.UNSYNCED)) {
            phase = "syncing PostgreSQL from " + cf.leaderAddress();
            PgpassFile.write(ctx);
            BaseBackup.take(ctx, cf.leaderAddress(), cf.leaderPgPort(), cf.slot(), line -> progress = line);
            Files.deleteIfExists(NodeState.sentinel(ctx.paths(), NodeState.UNSYNCED));
            progress = "base backup complete";
        }
        phase = "waiting for PostgreSQL to stream";
        while (!PostgresAdmin.isAcceptingConnections(ctx)) {
            Thread.sleep(250);
        }
        putPatiently("members/" + ctx.nodeName(), Records.json(memberRecord(ctx, cf.slot())));
        cf.asMember().write(ctx.paths());
        log.info("cluster: joined; following {}", cf.leaderAddress());
    }

    /** A put that outlasts a slow etcd (a loaded machine, a member still settling): retried for up to a minute. */
    private void putPatiently(String key, String value) throws InterruptedException {
        patiently(() -> store.put(key, value));
    }

    /** What outlasts a slow etcd: retried for up to a minute. */
    private static void patiently(Runnable call) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                call.run();
                return;
            } catch (DcsException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                log.warn("cluster: {} (retrying)", e.getMessage());
                Thread.sleep(1000);
            }
        }
    }

    /**
     * The steady state, every status_post_update_interval_seconds: publish this node's status, and keep its search
     * seed hosts equal to the live member list (so any node, the first one included, finds the search cluster again
     * after a restart, and a running one learns of members that joined or left).
     */
    private void maintain() throws InterruptedException {
        while (!Thread.currentThread().isInterrupted()) {
            NodeContext ctx = node.get();
            try {
                store.put("nodes/" + ctx.nodeName(), Records.json(StatusSnapshot.of(ctx, postgres, search, roleProbe.get(),
                        reasonProbe.get())));
                refreshSearchSeeds(ctx);
                error = null;
            } catch (DcsException | Records.Invalid e) {
                error = e.getMessage();
                log.warn("cluster: {}", e.getMessage());
            }
            Thread.sleep(ctx.settings().integer("leaderl.status_post_update_interval_seconds") * 1000L);
        }
    }

    private void refreshSearchSeeds(NodeContext ctx) {
        List<String> seeds = searchSeedHosts(members().values());
        try {
            if (OpenSearchRecipe.refreshSeedHosts(ctx, seeds)) {
                log.info("cluster: search seed hosts are now {}", OpenSearchRecipe.withSelf(ctx, seeds));
            }
        } catch (IOException e) {
            log.warn("cluster: could not write the search seed hosts: {}", e.getMessage());
        }
    }

    /** The members' search transport addresses. */
    static List<String> searchSeedHosts(Collection<Records.Member> members) {
        return members.stream().map(m -> OpenSearchRecipe.transportAddress(m.address())).sorted().toList();
    }

    static Records.Member memberRecord(NodeContext ctx, String slot) {
        return new Records.Member(ctx.nodeName(), ctx.nodeGuid(), ctx.publishAddress(),
                ctx.settings().intValue("postgresql.port"), ctx.settings().intValue("leaderl.http_port"),
                ctx.settings().intValue("elasticsearch.port"),
                slot != null ? slot : ReplicationSlots.nameFor(ctx.nodeName()), System.currentTimeMillis());
    }

    // ---- membership changes asked by other nodes -------------------------------------------------------------

    /** What a joining node needs to start its services as a member. */
    public record JoinGrant(String leaderName, String leaderAddress, int leaderPgPort, String slot,
            Map<String, String> etcdMembers, List<String> searchSeedHosts) {
    }

    /** A request this node cannot grant now, with the HTTP status to answer. */
    public static final class Refusal extends ApiException {
        private static final long serialVersionUID = 1L;

        public Refusal(int status, String message) {
            super(status, message);
        }
    }

    /**
     * Admits a node: one join at a time cluster-wide (a lock in etcd, released when the new etcd member has
     * started, or by its lease if the joiner dies), an etcd member for it, a replication slot on the leader, and
     * its member record.
     */
    public JoinGrant admit(String name, String guid, String address, int peerPort, boolean recovery) throws IOException {
        checkJoinRequest(name, guid, address, peerPort);
        ClusterStore s = requireStore();
        ClusterStore root = membership;
        long lock = s.grantLease(JOIN_LOCK_TTL_SECONDS);
        if (!s.putIfAbsentWithLease(JOIN_LOCK, name, lock)) {
            s.revokeLease(lock);
            String holder = s.get(JOIN_LOCK).map(ClusterStore.Versioned::value).orElse("another node");
            throw new Refusal(423, "another node (" + holder + ") is joining the cluster; joins run one at a time");
        }
        boolean granted = false;
        ClusterStore.EtcdMember added = null;
        try {
            Map<String, Records.Member> members = members();
            if (members.containsKey(name) && !recovery) {
                throw new Refusal(409, "a node named " + name + " is already a member; to rejoin it after "
                        + "remove-node and cleanse, use join-cluster --recovery");
            }
            for (Records.Member m : members.values()) {
                if (m.address().equals(address) && !m.name().equals(name)) {
                    throw new Refusal(409, "address " + address + " already belongs to member " + m.name());
                }
            }
            if (members.containsKey(name)) {
                forget(members.get(name));
            }
            Records.Leader leader = leader().orElseThrow(() -> new Refusal(409, "the cluster has no leader now"));
            String slot = ReplicationSlots.nameFor(name);
            try (Connection c = LeaderConnections.open(node.get(), leader.address(), leader.pgPort())) {
                ReplicationSlots.create(c, slot);
            } catch (SQLException e) {
                throw new Refusal(503, "cannot create the replication slot on the leader " + leader.name() + ": "
                        + e.getMessage());
            }
            Map<String, String> etcd = new LinkedHashMap<>();
            for (ClusterStore.EtcdMember m : s.etcdMembers()) {
                if (!m.name().isEmpty()) {
                    etcd.put(m.name(), m.peerUrls().get(0));
                }
            }
            String peerUrl = EtcdAccess.peerUrl(node.get(), address, peerPort);
            // a learner keeps the cluster's quorum whatever happens to the joiner; promoted once it has caught up
            try {
                added = root.addEtcdLearner(peerUrl);
            } catch (DcsException e) {
                if (String.valueOf(e.getMessage()).contains("unhealthy cluster")) {
                    // etcd refuses membership changes until every member has been connected for 5 s
                    throw new Refusal(423, "the etcd cluster is settling after the last membership change");
                }
                throw e;
            }
            etcd.put(guid, peerUrl);
            search.clearVotingExclusions(node.get());
            Records.Member joiner = new Records.Member(name, guid, address,
                    leader.pgPort(), node.get().settings().intValue("leaderl.http_port"),
                    node.get().settings().intValue("elasticsearch.port"), slot, System.currentTimeMillis());
            s.put("members/" + name, Records.json(joiner));
            members.put(name, joiner);
            List<String> seeds = searchSeedHosts(members.values());
            releaseWhenStarted(s, root, added.id(), lock);
            granted = true;
            log.info("cluster: admitted {} ({}); etcd member {}", name, address, Long.toHexString(added.id()));
            return new JoinGrant(leader.name(), leader.address(), leader.pgPort(), slot, etcd, seeds);
        } finally {
            if (!granted) {
                if (added != null) {
                    try {
                        root.removeEtcdMember(added.id());
                    } catch (DcsException e) {
                        log.warn("cluster: could not remove the refused joiner's etcd learner: {}", e.getMessage());
                    }
                }
                s.revokeLease(lock);
            }
        }
    }

    /** A joiner's name, GUID and addresses become records every node reads: refused before anything changes. */
    static void checkJoinRequest(String name, String guid, String address, int peerPort) {
        try {
            RecordRules.nodeName("name", name);
            RecordRules.guid("guid", guid);
            RecordRules.ipLiteral("address", address);
            RecordRules.port("peer_port", peerPort);
        } catch (Records.Invalid e) {
            throw new Refusal(400, "a join request's " + e.getMessage());
        }
    }

    /**
     * Holds the join lock until the new etcd member has started and caught up, then promotes it to a voting
     * member and releases the lock, so joins never overlap.
     */
    private void releaseWhenStarted(ClusterStore s, ClusterStore root, long memberId, long lock) {
        Thread t = new Thread(() -> {
            long deadline = System.nanoTime() + Duration.ofSeconds(JOIN_LOCK_TTL_SECONDS).toNanos();
            while (System.nanoTime() < deadline) {
                try {
                    boolean started = root.etcdMembers().stream().anyMatch(m -> m.id() == memberId
                            && !m.name().isEmpty());
                    if (started && root.promoteEtcdMember(memberId)) {
                        log.info("cluster: etcd member {} promoted to voter", Long.toHexString(memberId));
                        break;
                    }
                } catch (DcsException e) {
                    log.debug("cluster: waiting for etcd member {}: {}", Long.toHexString(memberId), e.getMessage());
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    return;
                }
            }
            try {
                s.revokeLease(lock);
            } catch (DcsException e) {
                log.warn("cluster: could not release the join lock; it expires by itself: {}", e.getMessage());
            }
        }, "join-lock");
        t.setDaemon(true);
        t.start();
    }

    /** Removes a member that no longer runs: etcd membership, replication slot, search voting, records. */
    public List<String> remove(String name) throws IOException {
        Map<String, Records.Member> members = members();
        Records.Member m = members.get(name);
        if (m == null) {
            throw new Refusal(404, "no member named " + name + "; members are " + String.join(", ", members.keySet()));
        }
        if (m.name().equals(node.get().nodeName())) {
            throw new Refusal(409, "a node cannot remove itself; run remove-node on another member");
        }
        List<String> running = RemoteAgent.runningServices(m.address(), m.httpPort());
        if (!running.isEmpty()) {
            throw new Refusal(409, name + " still runs " + String.join(", ", running)
                    + "; stop it (" + CtlCommand.elsewhere("stop") + ") or power it off first");
        }
        return forget(m);
    }

    private List<String> forget(Records.Member m) throws IOException {
        ClusterStore s = requireStore();
        ClusterStore root = membership;
        List<String> done = new ArrayList<>();
        for (ClusterStore.EtcdMember e : root.etcdMembers()) {
            if (e.name().equals(m.guid()) || e.peerUrls().stream().anyMatch(u -> u.contains("//" + m.address() + ":"))) {
                root.removeEtcdMember(e.id());
                done.add("removed etcd member " + Long.toHexString(e.id()));
            }
        }
        if (search.excludeFromVoting(node.get(), m.name())) {
            done.add("excluded " + m.name() + " from search cluster-manager voting");
        }
        Optional<Records.Leader> leader = leader();
        if (leader.isPresent() && m.slot() != null) {
            try (Connection c = LeaderConnections.open(node.get(), leader.get().address(), leader.get().pgPort())) {
                ReplicationSlots.drop(c, m.slot());
                done.add("dropped replication slot " + m.slot());
            } catch (SQLException e) {
                done.add("could not drop replication slot " + m.slot() + " on the leader: " + e.getMessage());
            }
        }
        s.delete("nodes/" + m.name());
        s.delete("members/" + m.name());
        done.add("removed " + m.name() + "'s member record and status");
        log.info("cluster: removed {}: {}", m.name(), done);
        return done;
    }

    /** set-cluster-failover / set-node-failover: switches in etcd that every node's leaderl reads each iteration. */
    public String setFailover(boolean cluster, boolean enabled) {
        String key = cluster ? "settings/failover" : "failover/" + node.get().nodeName();
        requireStore().put(key, enabled ? "on" : "off");
        return (cluster ? "cluster-wide" : "node " + node.get().nodeName()) + " failover " + (enabled ? "enabled" : "disabled");
    }

    /**
     * Records an operator's request (promote, demote, force-leader) for leaderl, one at a time; it lives in etcd so
     * it survives restarts, and the leader clears it when done, refused or timed out.
     */
    public Map<String, Object> putIntent(String kind, String target) {
        ClusterStore s = requireStore();
        String leaderName = leader().map(Records.Leader::name).orElse(null);
        Map<String, Object> intent = new LinkedHashMap<>();
        intent.put("id", UUID.randomUUID().toString()); // the asking command finds its request's outcome by it
        intent.put("kind", kind);
        intent.put("target", target);
        intent.put("leader_when_asked", leaderName);
        intent.put("drained_at_lsn", -1L);
        intent.put("asked_at", System.currentTimeMillis());
        if (!s.putIfAbsent("intent", Records.json(intent))) {
            throw new Refusal(409, "another operator request is pending: "
                    + s.get("intent").map(ClusterStore.Versioned::value).orElse("?"));
        }
        return intent;
    }

    /** How the last operator request ended, as leaderl recorded it; empty when none was, or it is unreadable. */
    public Optional<Map<String, Object>> lastIntentOutcome() {
        return requireStore().get(INTENT_OUTCOME).flatMap(v -> {
            try {
                return Optional.ofNullable(Records.JSON.readValue(v.value(), JSON_OBJECT));
            } catch (JsonProcessingException e) {
                return Optional.empty(); // anyone with etcd access may write there: an unreadable one says nothing
            }
        });
    }

    /** Failover switches: "settings/failover" for the cluster, "failover/<name>" per node; absent means on. */
    public Map<String, Boolean> failoverSwitches() {
        Map<String, Boolean> out = new LinkedHashMap<>();
        ClusterStore s = requireStore();
        out.put("", !"off".equals(s.get("settings/failover").map(ClusterStore.Versioned::value).orElse("on")));
        s.getPrefix("failover/").forEach((k, v) -> out.put(k.substring("failover/".length()), !"off".equals(v.value())));
        return out;
    }

    // ---- reading the cluster ---------------------------------------------------------------------------------

    public Map<String, Records.Member> members() {
        return records.named("members/", requireStore().getPrefix("members/"), Records.Member.class);
    }

    public Map<String, Records.NodeStatus> statuses() {
        return records.named("nodes/", requireStore().getPrefix("nodes/"), Records.NodeStatus.class);
    }

    public Optional<Records.Leader> leader() {
        return leader(members());
    }

    /** The leader, when its record is valid and names one of {@code members} at its recorded address. */
    public Optional<Records.Leader> leader(Map<String, Records.Member> members) {
        return records.leader(LEADER, requireStore().get(LEADER), members, "taken as no leader");
    }

    public boolean connected() {
        return store != null;
    }

    private ClusterStore requireStore() {
        ClusterStore s = store;
        if (s == null) {
            throw new Refusal(409, "this node is not (yet) a connected member of a cluster");
        }
        return s;
    }
}
