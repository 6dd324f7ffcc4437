package org.chefbackend.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import org.chefbackend.bench.ChefBackendCluster;
import org.chefbackend.bench.Procs;
import org.chefbackend.bench.RejoinWatch;
import org.chefbackend.bench.Writer;
import org.chefbackend.cluster.Records;
import org.chefbackend.faults.LoopbackNet;
import org.chefbackend.search.OpenSearchRecipe;

/**
 * The fault-injection harness ({@code bin/chaos}): a 3-node chef-backend cluster behind a real HAProxy, a writer
 * through HAProxy (one unique-id insert per transaction, every acknowledgement logged with its time) and a leader
 * watch (every node's {@code /leader} every 100 ms) while a nemesis acts; then the checker. Each nemesis first proves
 * it took effect with a probe that must now fail. Results go to {@code docs/results/chaos.json}, the chaos section of
 * {@code docs/RESULTS.md} and one plot per fault ({@link ChaosReport}).
 */
public final class Chaos implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    /** In priority order; "control" is the asynchronous/synchronous negative control of the loss checker. */
    public static final List<String> FAULTS = List.of("host-crash", "leader-crash-rejoin", "agent-freeze", "partition",
            "pg-crash", "search-crash", "etcd-crash", "first-node-crash", "first-node-stop", "search-restart-on-leader",
            "search-freeze", "search-isolate", "control", "pg-agent-freeze", "bridge-partition", "isolate",
            "asymmetric-partition", "graceful-stop", "disk-full", "wal-removed", "two-nodes-lost");
    /** Faults held until another node leads (then released), not released as soon as writes flow. */
    static final Set<String> HELD = Set.of("agent-freeze", "pg-agent-freeze", "partition", "bridge-partition", "isolate",
            "asymmetric-partition", "disk-full");
    /**
     * Faults for which Chef's failure-recovery guide ("Chef Backend Failure Recovery") gives an operator's procedure
     * (quorum-loss recovery; pgsql-follow --force-basebackup): the harness runs it when the cluster does not get by
     * without it. Every other fault must heal with no operator.
     */
    static final Set<String> OPERATOR_DOCUMENTED = Set.of("two-nodes-lost", "wal-removed");
    /** The short run CI does (ChaosIT, bin/chaos ci), one run each. */
    public static final List<String> CI_FAULTS = List.of("host-crash", "agent-freeze", "partition", "first-node-crash",
            "search-restart-on-leader", "disk-full", "control");
    /** The node that ran create-cluster (the harness builds the cluster from node 0): first-node-* act on it. */
    static final int FIRST_NODE = 0;
    /** Size of each node's PostgreSQL filesystem (a tmpfs), the disk that disk-full fills. */
    static final int DATA_DISK_MB = 1024;
    static final String DEPOSED_TABLE = "chaos_deposed";
    private static final AtomicLong PROBE_IDS = new AtomicLong(System.currentTimeMillis() * 1000 + 500_000_000L);

    /** The harness's options (bin/chaos --help). */
    public record Options(int runs, int ttl, boolean synchronous, Path root, List<String> addresses, String proxy,
            Path report, Path json, Path plots) {
    }

    final Path repo;
    final Options opt;
    LoopbackNet net;
    ChefBackendCluster cb;
    Healed healCheck;
    /** The current run's notes (see {@link Notes}). */
    Notes notes = new Notes();
    boolean syncOn;
    final List<Outcome> outcomes = new ArrayList<>();
    /** The chef-backend-ctl that drives the nodes; null: the checkout's bin/chef-backend-ctl. */
    private final Path ctl;
    /** Names the harness's cgroups and iptables chains (one name per harness that may run beside another). */
    private final String netTag;
    /** chef-backend.rb lines a scenario adds to every node's (bin/chaos pitr: backup.repository). */
    private List<String> extraSettings = List.of();

    public Chaos(Path repo, Options opt) {
        this(repo, opt, null, "chaos");
    }

    Chaos(Path repo, Options opt, Path ctl, String netTag) {
        this.repo = repo;
        this.opt = opt;
        this.ctl = ctl;
        this.netTag = netTag;
    }

    /** From now on every node's chef-backend.rb also has these lines (read when the cluster is built). */
    Chaos withSettings(List<String> lines) {
        extraSettings = List.copyOf(lines);
        return this;
    }

    /** chef-backend.rb lines: the TTL and fast etcd/health timings (FailoverIT's), asynchronous to start with. */
    List<String> settings() {
        List<String> l = new ArrayList<>(settings(opt.ttl()));
        l.addAll(extraSettings);
        return l;
    }

    static List<String> settings(int ttl) {
        List<String> l = new ArrayList<>(ChefBackendCluster.settings(ttl, 100, 1000, false));
        l.addAll(List.of("leaderl.health_check.interval_seconds = 1", "leaderl.status_post_update_interval_seconds = 2",
                "leaderl.health_check.max_elasticsearch_failures = 5", // the product's default, written out for the report
                // PostgreSQL's own filesystem is watched, and a full one makes the node unfit to lead
                "leaderl.health_check.fatal_system_checks = true",
                "leaderl.health_check.disk_paths = ['/var/log/chef-backend', '/var/opt/chef-backend', "
                        + "'/var/opt/chef-backend/postgresql']"));
        return l;
    }

    /** The integer value a line of {@code lines} gives {@code key} ("key = 5"); {@code otherwise} when none does. */
    static int setting(List<String> lines, String key, int otherwise) {
        for (String line : lines) {
            String[] kv = line.split("=", 2);
            if (kv.length == 2 && kv[0].strip().equals(key) && kv[1].strip().matches("\\d+")) {
                return Integer.parseInt(kv[1].strip());
            }
        }
        return otherwise;
    }

    /**
     * How long a follower whose search engine stops answering may still show as eligible: max_elasticsearch_failures ×
     * health_check.interval_seconds + 5 s, from this harness's chef-backend.rb lines (the product's defaults otherwise).
     */
    static int unfitBound(List<String> lines) {
        return setting(lines, "leaderl.health_check.max_elasticsearch_failures", 5)
                * setting(lines, "leaderl.health_check.interval_seconds", 5) + 5;
    }

    int searchPort() {
        return setting(settings(), "elasticsearch.port", 9200);
    }

    public void setUp() throws Exception {
        net = LoopbackNet.create(netTag, opt.addresses());
        cb = new ChefBackendCluster(repo, opt.root(), opt.addresses(), opt.proxy(), settings()).inCgroups(net::cgroup)
                .withDataDisks(DATA_DISK_MB);
        if (ctl != null) {
            cb.withCtl(ctl);
        }
        syncOn = false; // a cluster built again starts as settings() say: asynchronous
        healCheck = new Healed(cb, searchPort());
        String problem = cb.configProblem();
        if (problem != null) {
            throw new IllegalStateException("configuration rejected: " + problem);
        }
        build();
    }

    /** Builds the cluster from nothing (again: every earlier process ended, data removed, cuts healed). */
    void build() throws Exception {
        log("building a 3-node cluster on %s (HAProxy %s:5432), TTL %d s", opt.addresses(), opt.proxy(), opt.ttl());
        double t = Procs.now();
        net.heal();
        cb.coldStart();
        // HAProxy starts with every server up until its first check: the standbys must be out before the first write
        if (!Procs.waitUntil(Duration.ofSeconds(30), () -> proxyReachesOnlyAPrimary(6))) {
            throw new IllegalStateException("HAProxy still sends connections to a standby 30 s after the cluster was built");
        }
        Writer.createTable(cb);
        try (Connection c = cb.connect(cb.proxy(), 5, 30); Statement st = c.createStatement()) {
            st.execute("create table if not exists " + DEPOSED_TABLE + " (id bigint primary key, at timestamptz default now())");
        }
        log("cluster healthy after %.0f s", Procs.now() - t);
    }

    /**
     * True when {@code times} fresh connections in a row through HAProxy reach a PostgreSQL that is not in recovery
     * (HAProxy takes its servers in turn, so a standby still marked up would get one of them).
     */
    boolean proxyReachesOnlyAPrimary(int times) {
        for (int i = 0; i < times; i++) {
            try (Connection c = cb.connect(cb.proxy(), 2, 5); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("select pg_is_in_recovery()")) {
                if (!rs.next() || rs.getBoolean(1)) {
                    return false;
                }
            } catch (SQLException e) {
                return false;
            }
        }
        return true;
    }

    /** Runs the faults asked for (in {@link #FAULTS} order), {@code runs} times each; returns the outcomes. */
    public List<Outcome> run(Set<String> faults) throws Exception {
        if (faults.contains("control")) {
            outcomes.add(control(false, 1));
            setSynchronous(true);
            for (int r = 1; r <= opt.runs(); r++) {
                outcomes.add(control(true, r));
            }
        }
        setSynchronous(opt.synchronous());
        for (String f : FAULTS) {
            if (!faults.contains(f) || f.equals("control")) {
                continue;
            }
            for (int r = 1; r <= opt.runs(); r++) {
                outcomes.add(scenario(f, r));
            }
        }
        return outcomes;
    }

    static void log(String fmt, Object... args) {
        System.out.println(String.format(Locale.ROOT, "[chaos %tT] ", System.currentTimeMillis())
                + String.format(Locale.ROOT, fmt, args));
    }

    String addr(int i) {
        return opt.addresses().get(i);
    }

    // ---- synchronous mode ------------------------------------------------------------------------------------

    /** Switches leaderl.synchronous_mode on every node (chef-backend.rb + reconfigure), as an operator would. */
    void setSynchronous(boolean on) throws Exception {
        if (on == syncOn) {
            return;
        }
        cb.setting("leaderl.synchronous_mode", "leaderl.synchronous_mode " + on);
        for (int i = 0; i < opt.addresses().size(); i++) {
            cb.writeConfig(i);
            Procs.Result r = cb.ctl(i, Duration.ofSeconds(180), "reconfigure");
            if (r.code() != 0) {
                throw new IllegalStateException("reconfigure " + cb.nodeName(i) + ": " + r.all());
            }
        }
        syncOn = on;
        if (on && !Procs.waitUntil(Duration.ofSeconds(180), () -> syncStandby() != null)) {
            throw new IllegalStateException("synchronous mode on, but no synchronous standby within 180 s");
        }
        log("synchronous mode %s", on ? "on (standby " + syncStandby() + ")" : "off");
    }

    /** The application_name of the leader's synchronous standby, null when none. */
    String syncStandby() {
        int l = cb.leader();
        if (l < 0) {
            return null;
        }
        try (Connection c = cb.connect(addr(l), 2, 5); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select application_name from pg_stat_replication where sync_state = 'sync'")) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            return null;
        }
    }

    // ---- nemeses -----------------------------------------------------------------------------------------------

    /**
     * A fault in effect; {@code release} ends it (thaw, heal, restart, new hardware: what the world does). An operator
     * procedure (the failure-recovery guide's), when the fault has one, runs only if the cluster did not get by
     * without it: {@code recover} when writes do not come back by themselves within {@code selfRecovery}, {@code heal}
     * when the cluster is not healthy after the release.
     */
    record Fault(String describe, Action release, Duration selfRecovery, Operator recover, Operator heal) {
        Fault(String describe, Action release) {
            this(describe, release, Duration.ofSeconds(180), null, null);
        }
    }

    /** An operator's procedure: what it is (for the report) and the commands. */
    record Operator(String what, Action run) {
    }

    static final class NotEffective extends Exception {
        NotEffective(String m) {
            super(m);
        }
    }

    /** Pid of one of node i's services as its agent reports it (0 when unknown). */
    long servicePid(int i, String service) {
        String body = Procs.httpGet("http://" + addr(i) + ":7331/status");
        if (body == null) {
            return 0;
        }
        try {
            for (JsonNode s : JSON.readTree(body).path("services")) {
                if (s.path("name").asText().equals(service)) {
                    return s.path("pid").asLong();
                }
            }
        } catch (Exception e) {
            return 0;
        }
        return 0;
    }

    List<Long> postgresProcesses(int i) {
        String backend = "postgres: " + cb.nodeName(i) + ":";
        return cb.hostProcesses(i).stream().filter(p -> {
            String c = Procs.cmdline(p);
            return c.startsWith(backend) || c.matches("^\\S*/postgres( .*)?$");
        }).toList();
    }

    static void signal(List<Long> pids, String sig) {
        List<String> cmd = new ArrayList<>(List.of("kill", "-" + sig));
        pids.forEach(p -> cmd.add(String.valueOf(p)));
        Procs.run(Duration.ofSeconds(10), Map.of(), cmd);
    }

    /** True when a fresh connection to PostgreSQL on {@code host} answers {@code select 1} within ~2 s. */
    boolean pgAnswers(String host) {
        try (Connection c = cb.connect(host, 1, 2); Statement st = c.createStatement()) {
            st.execute("select 1");
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    Fault inject(String fault, int l) throws Exception {
        String a = addr(l);
        switch (fault) {
            case "host-crash", "first-node-crash" -> {
                int h = fault.equals("host-crash") ? l : FIRST_NODE;
                int killed = crashHost(h);
                return fault("kill -9 of " + killed + " processes of " + cb.nodeName(h) + firstNode(h, l),
                        startAgain(h, h == l, () -> cb.restartHost(h)));
            }
            case "leader-crash-rejoin" -> {
                int killed = crashHost(l);
                watchStart(l, true);
                // started at once, not after the failover; in the background, so that the writes are timed meanwhile
                CompletableFuture<Void> start = CompletableFuture.runAsync(() -> cb.restartHost(l));
                return fault("kill -9 of " + killed + " processes of the leader " + cb.nodeName(l)
                        + ", started again at once", () -> start.get(300, TimeUnit.SECONDS));
            }
            case "agent-freeze", "pg-agent-freeze" -> {
                List<Long> pids = new ArrayList<>(cb.agentProcesses(l).subList(0, 1)); // the agent JVM, not its watchdog
                if (fault.equals("pg-agent-freeze")) {
                    pids.addAll(postgresProcesses(l));
                }
                signal(pids, "STOP");
                boolean frozen = Procs.waitUntil(Duration.ofSeconds(5), () -> Procs.httpStatus("http://" + a + ":7331/status") == -1
                        && (fault.equals("agent-freeze") || !pgAnswers(a)));
                if (!frozen) {
                    signal(pids, "CONT");
                    throw new NotEffective("the agent (or PostgreSQL) of " + a + " still answers after SIGSTOP");
                }
                return fault("SIGSTOP of " + pids.size() + " processes of " + cb.nodeName(l), () -> signal(pids, "CONT"));
            }
            case "partition", "bridge-partition" -> {
                List<String> others = new ArrayList<>(opt.addresses());
                others.remove(a);
                String standby = null;
                if (fault.equals("partition")) {
                    net.isolate(a);
                } else {
                    // the leader loses one follower, the synchronous standby when there is one (commits wait for
                    // it); the other still sees both
                    int cut = syncStandbyOrFollower(l);
                    standby = syncOn && cb.nodeName(cut).equals(syncStandby()) ? cb.nodeName(cut) : null;
                    others = List.of(addr(cut));
                    net.cut(a, others.get(0));
                }
                for (String o : others) {
                    if (net.reaches(a, o, 2379) || net.reaches(o, a, 5432)) {
                        net.heal();
                        throw new NotEffective(a + " still reaches " + o + " (or is reached) after the cut");
                    }
                }
                return fault((fault.equals("partition") ? "leader cut from both other hosts (the etcd majority; HAProxy still reaches it)"
                        : "leader cut from " + others.get(0) + (standby != null ? " (the synchronous standby " + standby + ")" : "")),
                        net::heal);
            }
            case "isolate" -> {
                net.isolateFromAll(a);
                for (String o : opt.addresses()) {
                    if (!o.equals(a) && (net.reaches(a, o, 2379) || net.reaches(o, a, 5432))) {
                        net.heal();
                        throw new NotEffective(a + " still reaches " + o + " (or is reached) after the cut");
                    }
                }
                if (Procs.open(a, 7331) || Procs.open(a, 5432)) {
                    net.heal();
                    throw new NotEffective("the harness (HAProxy's side) still reaches " + a);
                }
                return fault("leader cut from everyone (hosts, HAProxy, clients)", net::heal);
            }
            case "asymmetric-partition" -> {
                List<String> others = opt.addresses().stream().filter(o -> !o.equals(a)).toList();
                for (String o : others) {
                    net.cutOneWay(a, o);
                }
                for (String o : others) {
                    // no TCP either way: the leader's SYNs and its SYN-ACKs are dropped, the others' packets arrive
                    if (net.reaches(a, o, 2379) || net.reaches(o, a, 5432)) {
                        net.heal();
                        throw new NotEffective(a + " still exchanges packets with " + o + " after the one-way cut");
                    }
                }
                return fault("every packet from the leader to both other hosts dropped (theirs to it still arrive)",
                        net::heal);
            }
            case "disk-full" -> {
                Path disk = cb.dataDisk(l);
                if (Procs.run(Duration.ofSeconds(10), "mountpoint", "-q", disk.toString()).code() != 0) {
                    throw new NotEffective(disk + " is not a filesystem of its own");
                }
                Path filler = disk.resolve("chaos-filler");
                Path rest = disk.resolve("chaos-filler-rest");
                long usable = Files.getFileStore(disk).getUsableSpace();
                Procs.run(Duration.ofSeconds(60), "fallocate", "-l", String.valueOf(usable), filler.toString());
                Procs.run(Duration.ofSeconds(60), "dd", "if=/dev/zero", "of=" + rest, "bs=64k"); // ends at ENOSPC
                Action free = () -> {
                    Files.deleteIfExists(filler);
                    Files.deleteIfExists(rest);
                };
                // the probe: 1 MiB more does not fit
                Path probe = disk.resolve("chaos-probe");
                try {
                    Files.write(probe, new byte[1 << 20]);
                    Files.deleteIfExists(probe);
                    free.run();
                    throw new NotEffective(disk + " still took 1 MiB after filling it");
                } catch (IOException expected) {
                    Files.deleteIfExists(probe);
                }
                return fault("the leader's PostgreSQL filesystem filled (" + (usable >> 20) + " MiB)", free);
            }
            case "wal-removed" -> {
                int f = otherFollower(l); // not the synchronous standby: the leader need not wait for a broken node
                String fa = addr(f);
                Path wal = dataDir(f).resolve("pg_wal");
                List<Long> agent = new ArrayList<>(cb.agentProcesses(f).subList(0, 1));
                signal(agent, "STOP"); // so it cannot restart PostgreSQL before the WAL is gone
                try {
                    List<Long> pg = postgresProcesses(f);
                    Procs.kill9(pg);
                    if (!Procs.waitUntil(Duration.ofSeconds(5), () -> pg.stream().noneMatch(Procs::alive))) {
                        throw new NotEffective("PostgreSQL of " + fa + " survives kill -9");
                    }
                    try (var files = Files.list(wal)) {
                        for (Path w : files.filter(Files::isRegularFile).toList()) {
                            Files.delete(w);
                        }
                    }
                    try (var files = Files.list(wal)) {
                        if (files.anyMatch(Files::isRegularFile) || pgAnswers(fa)) {
                            throw new NotEffective("WAL left in " + wal + " or PostgreSQL of " + fa + " still answers");
                        }
                    }
                } finally {
                    signal(agent, "CONT");
                }
                int leader = l;
                Operator follow = new Operator("pgsql-follow " + addr(leader) + " --force-basebackup on " + cb.nodeName(f),
                        () -> {
                            Procs.Result r = cb.ctl(f, Duration.ofSeconds(600), Map.of("PSQL_INTERNAL_OK", "true"),
                                    "pgsql-follow", addr(leader), "--force-basebackup");
                            if (r.code() != 0) {
                                throw new IllegalStateException("pgsql-follow: " + r.all());
                            }
                        });
                return new Fault("follower " + cb.nodeName(f) + "'s PostgreSQL killed and its pg_wal emptied", () -> { },
                        Duration.ofSeconds(180), null, follow);
            }
            case "two-nodes-lost" -> {
                int survivor = syncStandbyOrFollower(l); // the synchronous standby when there is one
                List<Integer> lost = new ArrayList<>();
                for (int i = 0; i < opt.addresses().size(); i++) {
                    if (i != survivor) {
                        lost.add(i);
                    }
                }
                List<Long> pids = new ArrayList<>();
                lost.forEach(i -> pids.addAll(cb.hostProcesses(i)));
                Procs.kill9(pids);
                String sa = addr(survivor);
                if (!Procs.waitUntil(Duration.ofSeconds(10), () -> pids.stream().noneMatch(Procs::alive)
                        && lost.stream().noneMatch(i -> Procs.open(addr(i), 2379) || Procs.open(addr(i), 5432)))) {
                    throw new NotEffective("the lost hosts still have live processes or open ports");
                }
                // the probe: the survivor's etcd has no quorum
                if (!Procs.waitUntil(Duration.ofSeconds(30), () -> {
                    String h = cb.etcdGet(survivor, "/health");
                    return h == null || !h.contains("\"health\":\"true\"");
                })) {
                    throw new NotEffective("etcd on the survivor " + sa + " still reports health with two members dead");
                }
                Operator recovery = new Operator("create-cluster --quorum-loss-recovery on " + cb.nodeName(survivor), () -> {
                    Procs.Result r = cb.ctl(survivor, Duration.ofSeconds(600), "create-cluster", "--quorum-loss-recovery", "-y");
                    if (r.code() != 0) {
                        throw new IllegalStateException("create-cluster --quorum-loss-recovery: " + r.all());
                    }
                });
                Action newHosts = () -> {
                    for (int i : lost) {
                        cb.rebuildHost(i, survivor);
                    }
                };
                return new Fault("kill -9 of every process of " + lost.stream().map(cb::nodeName).toList()
                        + "; new machines join after the recovery", newHosts, Duration.ofSeconds(3L * opt.ttl() + 10),
                        recovery, null);
            }
            case "pg-crash" -> {
                // a session opened before the crash must fail after it
                Connection before = cb.connect(a, 2, 5);
                try {
                    List<Long> pids = postgresProcesses(l);
                    Procs.kill9(pids);
                    boolean dead = Procs.waitUntil(Duration.ofSeconds(5), () -> pids.stream().noneMatch(Procs::alive));
                    try (Statement st = before.createStatement()) {
                        st.execute("select 1");
                        throw new NotEffective("a session on " + a + " still answers after kill -9 of PostgreSQL");
                    } catch (SQLException expected) {
                        // the probe fails: PostgreSQL is gone
                    }
                    if (!dead) {
                        throw new NotEffective("PostgreSQL processes of " + a + " survive kill -9");
                    }
                    return fault("kill -9 of PostgreSQL (" + pids.size() + " processes) on " + cb.nodeName(l), () -> { });
                } finally {
                    try {
                        before.close();
                    } catch (SQLException ignored) {
                        // broken by the crash
                    }
                }
            }
            case "search-crash", "etcd-crash" -> {
                String service = fault.equals("search-crash") ? "elasticsearch" : "etcd";
                int port = fault.equals("search-crash") ? searchPort() : 2379;
                long pid = servicePid(l, service);
                if (pid <= 0) {
                    throw new NotEffective("the agent of " + a + " reports no pid for " + service);
                }
                List<Long> pids = withDescendants(pid);
                if (fault.equals("search-crash")) {
                    notes.rejoin = rejoinWatch(l); // the agent starts it again: timed from the kill
                }
                Procs.kill9(pids);
                if (!Procs.waitUntil(Duration.ofSeconds(5), () -> pids.stream().noneMatch(Procs::alive))) {
                    throw new NotEffective(service + " of " + a + " survives kill -9");
                }
                // the probe: the killed process is gone (the agent may restart the service within a second, so an open
                // port alone proves nothing); a listener on the port must be a new process
                if (Procs.open(a, port) && servicePid(l, service) == pid && Procs.alive(pid)) {
                    throw new NotEffective(service + " of " + a + " still listens on " + port + " as pid " + pid);
                }
                return fault("kill -9 of " + service + " on " + cb.nodeName(l), () -> { });
            }
            case "graceful-stop", "first-node-stop" -> {
                int h = fault.equals("graceful-stop") ? l : FIRST_NODE;
                String ha = addr(h);
                long search = servicePid(h, "elasticsearch");
                Procs.Result r = cb.ctl(h, Duration.ofSeconds(180), "stop");
                if (r.code() != 0 || !Procs.waitUntil(Duration.ofSeconds(30), () -> !Procs.open(ha, 5432)
                        && !Procs.open(ha, searchPort()) && (search <= 0 || !Procs.alive(search)))) {
                    throw new NotEffective("chef-backend-ctl stop on " + ha + " (exit " + r.code() + ") left PostgreSQL or "
                            + "OpenSearch running: " + r.all());
                }
                return fault("chef-backend-ctl stop on " + cb.nodeName(h) + firstNode(h, l), startAgain(h, h == l, () -> {
                    Procs.Result s = cb.ctl(h, Duration.ofSeconds(300), "start");
                    if (s.code() != 0) {
                        throw new IllegalStateException("start " + cb.nodeName(h) + ": " + s.all());
                    }
                }));
            }
            case "search-restart-on-leader" -> {
                long before = servicePid(l, "elasticsearch");
                if (before <= 0) {
                    throw new NotEffective("the agent of " + a + " reports no pid for elasticsearch");
                }
                notes.logFrom = Files.exists(leaderlLog(l)) ? Files.size(leaderlLog(l)) : 0;
                notes.rejoin = rejoinWatch(l); // from the command's start: its hand-over included
                Procs.Result r = cb.ctl(l, Duration.ofSeconds(300), "restart", "elasticsearch");
                notes.command = r.all();
                if (r.code() != 0) {
                    throw new IllegalStateException("chef-backend-ctl restart elasticsearch on " + a + ": exit " + r.code()
                            + ": " + r.all());
                }
                // the probe: a new OpenSearch process, the old one gone
                if (!Procs.waitUntil(Duration.ofSeconds(60), () -> {
                    long now = servicePid(l, "elasticsearch");
                    return now > 0 && now != before && !Procs.alive(before);
                })) {
                    throw new NotEffective("OpenSearch of " + a + " is still pid " + before + " (or none) after restart elasticsearch");
                }
                return fault("chef-backend-ctl restart elasticsearch on the leader " + cb.nodeName(l), () -> { });
            }
            case "search-freeze", "search-isolate" -> {
                int f = searchFollower(l);
                String fa = addr(f);
                boolean manager = searchManager(f);
                Action release;
                String what;
                if (fault.equals("search-freeze")) {
                    long pid = servicePid(f, "elasticsearch");
                    if (pid <= 0) {
                        throw new NotEffective("the agent of " + fa + " reports no pid for elasticsearch");
                    }
                    List<Long> pids = withDescendants(pid);
                    signal(pids, "STOP");
                    notes.unfit(f);
                    release = () -> signal(pids, "CONT");
                    if (!Procs.waitUntil(Duration.ofSeconds(5), () -> Procs.httpStatus("http://" + fa + ":" + searchPort() + "/") == -1)) {
                        release.run();
                        throw new NotEffective("OpenSearch of " + fa + " still answers after SIGSTOP");
                    }
                    what = "SIGSTOP of the OpenSearch JVM of the follower " + cb.nodeName(f);
                } else {
                    List<String> others = opt.addresses().stream().filter(o -> !o.equals(fa)).toList();
                    for (String o : others) {
                        net.cutPort(fa, o, OpenSearchRecipe.TRANSPORT_PORT);
                    }
                    notes.unfit(f);
                    release = net::heal;
                    for (String o : others) {
                        if (net.reaches(fa, o, OpenSearchRecipe.TRANSPORT_PORT) || net.reaches(o, fa, OpenSearchRecipe.TRANSPORT_PORT)
                                || !net.reaches(fa, o, 2379)) {
                            release.run();
                            throw new NotEffective(fa + " and " + o + ": the search transport port still connects, or more than "
                                    + "it was cut");
                        }
                    }
                    what = "the search transport port " + OpenSearchRecipe.TRANSPORT_PORT + " of the follower " + cb.nodeName(f)
                            + " cut from both other hosts (everything else still connects)";
                }
                return fault(what + (manager ? ", the search cluster manager" : ""), release);
            }
            default -> throw new IllegalArgumentException("unknown fault " + fault);
        }
    }

    interface Action {
        void run() throws Exception;
    }

    /** " (the node that ran create-cluster, the leader)" or "... a follower" for that node; "" for the others. */
    String firstNode(int h, int leader) {
        return h != FIRST_NODE ? "" : " (the node that ran create-cluster, " + (h == leader ? "the leader)" : "a follower)");
    }

    /**
     * Kills every process of host h (kill -9) and proves it took effect: none lives, none of its ports answers. Returns
     * how many were killed.
     */
    int crashHost(int h) throws NotEffective {
        String ha = addr(h);
        List<Long> pids = cb.hostProcesses(h);
        Procs.kill9(pids);
        if (!Procs.waitUntil(Duration.ofSeconds(10), () -> pids.stream().noneMatch(Procs::alive) && !Procs.open(ha, 5432)
                && !Procs.open(ha, 2379) && !Procs.open(ha, 7331) && !Procs.open(ha, searchPort()))) {
            throw new NotEffective("host " + ha + " still has live processes or open ports after kill -9");
        }
        return pids.size();
    }

    /** A release that starts node {@code h} again, timed from that moment ({@link #watchStart}). */
    Action startAgain(int h, boolean led, Action start) {
        return () -> {
            watchStart(h, led);
            start.run();
        };
    }

    /**
     * Node h is about to start again: its OpenSearch is timed back into the search cluster, and when it was the leader
     * its PostgreSQL back into replication (until the new leader shows it streaming, or it leads again).
     */
    void watchStart(int h, boolean led) {
        notes.rejoin = rejoinWatch(h);
        if (led) {
            notes.pgRejoin = RejoinWatch.start(cb, h, 600);
        }
    }

    SearchRejoin rejoinWatch(int h) {
        return SearchRejoin.watch(addr(h), searchPort(), opt.addresses().size(), 600);
    }

    static List<Long> withDescendants(long pid) {
        List<Long> pids = new ArrayList<>(List.of(pid));
        ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
        return pids;
    }

    /** Node i's leaderl log (the agent's own log, where leaderl says why it gives up leadership). */
    Path leaderlLog(int i) {
        return cb.nodeRoot(i).resolve("var/log/chef-backend/leaderl/current");
    }

    /** True when cluster-status shows node i's OpenSearch as the search cluster's elected manager. */
    boolean searchManager(int i) {
        JsonNode n = viewNode(healCheck.clusterView(), cb.nodeName(i));
        return n != null && n.path("elasticsearch").path("role").asText().equals("master");
    }

    static JsonNode viewNode(JsonNode view, String name) {
        if (view != null) {
            for (JsonNode n : view.path("nodes")) {
                if (n.path("name").asText().equals(name)) {
                    return n;
                }
            }
        }
        return null;
    }

    /**
     * The follower whose search engine search-freeze and search-isolate make unfit: one whose OpenSearch is not the
     * search cluster's manager (so the leader's search keeps its manager, and what is measured is the follower's own
     * eligibility), the asynchronous one when both qualify.
     */
    int searchFollower(int leader) {
        String sync = syncOn ? syncStandby() : null;
        int best = -1;
        int bestScore = -1;
        for (int i = 0; i < opt.addresses().size(); i++) {
            if (i == leader) {
                continue;
            }
            int score = (searchManager(i) ? 0 : 2) + (cb.nodeName(i).equals(sync) ? 0 : 1);
            if (score > bestScore) {
                best = i;
                bestScore = score;
            }
        }
        return best;
    }

    /** The follower that is not the synchronous standby (any follower in asynchronous mode): the one a fault may hit. */
    int otherFollower(int leader) {
        String sync = syncOn ? syncStandby() : null;
        for (int i = 0; i < opt.addresses().size(); i++) {
            if (i != leader && !cb.nodeName(i).equals(sync)) {
                return i;
            }
        }
        throw new IllegalStateException("no follower besides the synchronous standby " + sync);
    }

    /** The synchronous standby when there is one, else the first follower. */
    int syncStandbyOrFollower(int leader) {
        String sync = syncOn ? syncStandby() : null;
        for (int i = 0; i < opt.addresses().size(); i++) {
            if (i != leader && (sync == null || cb.nodeName(i).equals(sync))) {
                return i;
            }
        }
        throw new IllegalStateException("no follower");
    }

    /** Node i's PostgreSQL data directory (where PG_VERSION is, under its data disk). */
    Path dataDir(int i) throws IOException {
        try (var walk = Files.walk(cb.dataDisk(i), 3)) {
            return walk.filter(p -> p.getFileName().toString().equals("PG_VERSION") && Files.isDirectory(p.resolveSibling("pg_wal")))
                    .map(Path::getParent).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no PostgreSQL data directory under " + cb.dataDisk(i)));
        }
    }

    static Fault fault(String what, Action release) {
        return new Fault(what, release);
    }

    /** What a run's nemesis leaves for the checker besides the fault itself; a new one for every run. */
    static final class Notes {
        /** The node whose OpenSearch the fault restarts, timed back into the search cluster. */
        SearchRejoin rejoin;
        /** The leader the fault started again, timed back into replication. */
        RejoinWatch pgRejoin;
        /** search-freeze, search-isolate: the follower whose search engine was made unfit, and since when. */
        int unfit = -1;
        double unfitSince = Double.NaN;
        /** search-restart-on-leader: what the command printed, and the old leader's leaderl log size before it. */
        String command;
        long logFrom = -1;

        void unfit(int node) {
            unfit = node;
            unfitSince = Procs.now();
        }
    }

    // ---- the deposed-leader probe --------------------------------------------------------------------------------

    /**
     * Once another node answers 200 on /leader, inserts directly (not through HAProxy) on the old leader every
     * 200 ms until it is a standby again (pg_is_in_recovery), leads again, or the probe is stopped; every insert it
     * acknowledges is a write accepted by a deposed leader.
     */
    final class DeposedProbe implements AutoCloseable {
        final int old;
        final LeaderWatch watch;
        final AtomicBoolean running = new AtomicBoolean(true);
        final List<Double> accepted = new ArrayList<>();
        final AtomicLong attempts = new AtomicLong();
        volatile String end = "probe stopped before the old leader rejoined";
        final Thread thread;

        DeposedProbe(int old, LeaderWatch watch) {
            this.old = old;
            this.watch = watch;
            this.thread = new Thread(this::loop, "chaos-deposed-probe");
            thread.setDaemon(true);
            thread.start();
        }

        void loop() {
            double deadline = Procs.now() + 600;
            boolean deposed = false;
            while (running.get() && Procs.now() < deadline) {
                int now = watch.current();
                if (!deposed && now >= 0 && now != old) {
                    deposed = true;
                }
                if (deposed) {
                    if (now == old) {
                        end = "the old leader was elected again";
                        return;
                    }
                    attempts.incrementAndGet();
                    try (Connection c = cb.connect(addr(old), 1, 2); Statement st = c.createStatement()) {
                        try (ResultSet rs = st.executeQuery("select pg_is_in_recovery()")) {
                            if (rs.next() && rs.getBoolean(1)) {
                                end = "the old leader is a standby again";
                                return;
                            }
                        }
                        try (PreparedStatement ps = c.prepareStatement("insert into " + DEPOSED_TABLE + " (id) values (?)")) {
                            ps.setLong(1, PROBE_IDS.incrementAndGet());
                            ps.executeUpdate();
                            synchronized (accepted) {
                                accepted.add(Procs.now());
                            }
                        }
                    } catch (SQLException e) {
                        // refused, down, read-only or blocked past the timeout: not accepted
                    }
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        List<Double> accepted() {
            synchronized (accepted) {
                return List.copyOf(accepted);
            }
        }

        /** Waits (bounded) for the probe to see the old leader rejoin or lead again. */
        void awaitEnd(Duration limit) throws InterruptedException {
            thread.join(limit.toMillis());
        }

        @Override
        public void close() {
            LeaderWatch.stop(running, thread);
        }
    }

    // ---- one run -----------------------------------------------------------------------------------------------

    /**
     * The checker's verdict on one run. Times in seconds; NaN when not reached. {@code healed} is issue 16's definition
     * ({@link Healed}); {@code unhealed} says which of its conditions still failed at the deadline (null when healed).
     */
    public record Outcome(String fault, int run, boolean synchronous, String oldLeader, String newLeader, String what,
            int acked, int lost, int deposedWrites, String deposedEnd, int doubleLeaderSweeps, int sweeps,
            double recovery, double newLeaderAfter, boolean healed, double healSeconds, String operator, String error,
            List<Double> ackTimes, double t0, double released, double healedAt, List<Double> leaderChanges,
            String unhealed, SearchSeen search, RejoinSeen rejoin) {
        boolean failedOver() {
            return newLeader != null && !newLeader.equals(oldLeader);
        }
    }

    /**
     * What a run showed of the search engine, where its fault measures it (NaN / null elsewhere): how long after its
     * start the node whose OpenSearch restarted ({@code backNode}) was back in the search cluster (a cluster manager and
     * every node, seen from that node); for search-restart-on-leader, whether leadership moved other than by the one
     * hand-over the command announced ({@code unplanned}, with the leader changes seen); for search-freeze and
     * search-isolate, how long the follower whose search engine stopped still showed as eligible in cluster-status, the
     * reason it then gave, and how long after the release it was eligible again.
     */
    public record SearchSeen(String backNode, double backAfter, Boolean unplanned, String leaderChanges,
            double unfitAfter, String unfitReason, double fitAgainAfter) {
        public static final SearchSeen NONE = new SearchSeen(null, Double.NaN, null, null, Double.NaN, null, Double.NaN);
    }

    /**
     * How a leader the fault started again came back (leader-crash-rejoin: at once; host-crash, first-node-*,
     * graceful-stop: at the release, when it led), where its fault measures it (null / NaN elsewhere): {@code path}
     * "rewind", "none" or "basebackup" as its own last-rejoin.json written since its start says, "led again" (it led
     * instead: not a rejoin), "unknown" (it streams, but wrote no record), "not rejoined" (neither within 600 s);
     * {@code streamingAfter}: seconds from its start until the new leader's pg_stat_replication showed it streaming
     * (polled every 200 ms); {@code recordedAfter}: the same from its record's {@code at} (when it first saw itself
     * streaming); {@code rejoinSeconds}: its record's own figure (the rejoin's start until streaming).
     */
    public record RejoinSeen(String node, String path, double streamingAfter, double recordedAfter, double rejoinSeconds) {
        public static final RejoinSeen NONE = new RejoinSeen(null, null, Double.NaN, Double.NaN, Double.NaN);
    }

    Outcome scenario(String fault, int run) {
        log("--- %s run %d (%s)", fault, run, syncOn ? "synchronous" : "asynchronous");
        String notReady = ready();
        if (notReady == null) {
            notReady = arrange(fault, run);
        }
        if (notReady != null) {
            return failed(fault, run, notReady);
        }
        notes = new Notes();
        int l = cb.leader();
        LeaderWatch watch = LeaderWatch.start(opt.addresses(), 900);
        Writer w = Writer.start(cb, 50, 900);
        DeposedProbe probe = null;
        Fault f = null;
        double t0 = Double.NaN;
        double released = Double.NaN;
        try {
            if (!Procs.waitUntil(Duration.ofSeconds(30), () -> w.acks().size() >= 20)) {
                return failed(fault, run, "the writer got fewer than 20 acknowledgements through HAProxy in 30 s");
            }
            Procs.sleep(1000);
            t0 = Procs.now();
            probe = new DeposedProbe(l, watch);
            try {
                f = inject(fault, l);
            } catch (NotEffective e) {
                return failed(fault, run, "the fault did not take effect: " + e.getMessage());
            }
            double effective = Procs.now();
            log("%s in effect after %.2f s (probe failed as it must)", f.describe(), effective - t0);
            double from = effective;
            if (HELD.contains(fault)) {
                // a freeze or a cut is held until another node leads (bounded), as a long pause would be: a short
                // one is absorbed by the TTL and proves nothing
                if (Procs.waitUntil(Duration.ofSeconds(4L * opt.ttl() + 20), () -> watch.current() >= 0 && watch.current() != l)) {
                    from = Procs.now();
                } else {
                    log("%s: no other node led within %d s; releasing", fault, 4 * opt.ttl() + 20);
                }
            }
            double recoverFrom = from;
            List<String> operator = new ArrayList<>();
            boolean recovered = Procs.waitUntil(f.selfRecovery(), () -> w.firstAckAfter(recoverFrom) != null);
            if (!recovered && f.recover() != null) {
                log("no writes %d s after the fault: the operator runs %s", f.selfRecovery().toSeconds(), f.recover().what());
                operator.add(f.recover().what());
                f.recover().run().run();
                recovered = Procs.waitUntil(Duration.ofSeconds(180), () -> w.firstAckAfter(recoverFrom) != null);
            }
            // a follower made unfit is held until cluster-status shows it (bounded), then released
            Unfit unfit = notes.unfit < 0 ? null : awaitUnfit(notes.unfit, notes.unfitSince, Math.max(60, 3 * unfitBound(settings())));
            Procs.sleep(2000);
            released = Procs.now();
            Fault toRelease = f;
            f = null;
            toRelease.release().run();
            double relDone = Procs.now();
            double fitAgain = unfit == null || !unfit.ineligible() ? Double.NaN : awaitFit(notes.unfit, relDone, 180);
            String unhealed = healCheck.await(Duration.ofSeconds(240));
            if (unhealed != null && toRelease.heal() != null) {
                log("not healed 240 s after the release (%s): the operator runs %s", unhealed, toRelease.heal().what());
                operator.add(toRelease.heal().what());
                toRelease.heal().run().run();
                unhealed = healCheck.await(Duration.ofSeconds(300));
            }
            boolean healed = unhealed == null;
            double healedAt = healed ? Procs.now() : Double.NaN;
            if (!healed) {
                log("%s run %d NOT HEALED: %s", fault, run, unhealed);
            }
            probe.awaitEnd(Duration.ofSeconds(30));
            Procs.sleep(2000);
            w.close();
            watch.close();
            probe.close();
            List<Writer.Ack> acks = w.acks();
            double recovery = recovered ? Writer.maxGap(acks, t0, w.firstAckAfter(recoverFrom).at()) : Double.NaN;
            List<LeaderWatch.Sweep> sweeps = watch.sweeps();
            LeaderWatch.Sweep other = LeaderWatch.firstOtherLeader(sweeps, t0, l);
            int finalLeader = cb.leader();
            List<Long> lost = lostOn(finalLeader, acks);
            Outcome o = new Outcome(fault, run, syncOn, cb.nodeName(l), finalLeader < 0 ? null : cb.nodeName(finalLeader),
                    toRelease.describe(), acks.size(), lost == null ? -1 : lost.size(),
                    probe.accepted().size(), probe.end, LeaderWatch.doubleLeaders(sweeps).size(), sweeps.size(), recovery,
                    other == null ? Double.NaN : other.at() - t0, healed, healed ? healedAt - relDone : Double.NaN,
                    operator.isEmpty() ? null : String.join("; ", operator), lost == null ? "no leader to read the acknowledged writes back from" : null,
                    acks.stream().map(Writer.Ack::at).toList(), t0, released, healedAt,
                    LeaderWatch.changes(sweeps).stream().map(LeaderWatch.Sweep::at).toList(), unhealed,
                    searchSeen(l, t0, sweeps, acks, unfit, fitAgain), rejoinSeen());
            report(o);
            return o;
        } catch (Exception e) {
            return failed(fault, run, e.getClass().getSimpleName() + ": " + e.getMessage());
        } finally {
            if (f != null) {
                try {
                    f.release().run();
                } catch (Exception e) {
                    log("releasing %s failed: %s", fault, e.getMessage());
                }
            }
            if (probe != null) {
                probe.close();
            }
            if (notes.rejoin != null) {
                notes.rejoin.close();
            }
            if (notes.pgRejoin != null) {
                notes.pgRejoin.close();
            }
            w.close();
            watch.close();
        }
    }

    /**
     * Waits (bounded) until the cluster is healed before a run. When it is not, the run before has been reported as not
     * healed, with why; the cluster is then built again from nothing so that the remaining faults still run on a
     * healthy one (logged). Null when ready, else why not.
     */
    String ready() {
        String why = healCheck.await(Duration.ofSeconds(120));
        if (why == null) {
            return null;
        }
        log("not healed before the run (%s): building the cluster again", why);
        try {
            build();
            if (syncOn && !Procs.waitUntil(Duration.ofSeconds(180), () -> syncStandby() != null)) {
                return "rebuilt after the cluster did not heal (" + why + "), but no synchronous standby within 180 s";
            }
        } catch (Exception e) {
            return "not healed before the run (" + why + ") and the rebuild failed: " + e.getMessage();
        }
        String still = healCheck.await(Duration.ofSeconds(300));
        return still == null ? null : "not healed before the run, even on a rebuilt cluster: " + still;
    }

    /**
     * first-node-*: the node that ran create-cluster is hit as the leader in odd runs and as a follower in even ones
     * (a switchover before the run when the earlier faults left it otherwise), so that its runs cover both roles. Null
     * when arranged, else why not.
     */
    String arrange(String fault, int run) {
        if (!fault.startsWith("first-node-")) {
            return null;
        }
        boolean lead = run % 2 == 1;
        int l = cb.leader();
        if ((l == FIRST_NODE) == lead) {
            return null;
        }
        int to = FIRST_NODE;
        if (!lead) { // any other node; the synchronous standby when it is one
            to = syncStandbyOrFollower(l);
            for (int i = 0; to == FIRST_NODE && i < opt.addresses().size(); i++) {
                to = i != l && i != FIRST_NODE ? i : to;
            }
        }
        log("switchover to %s first, so that %s is %s", cb.nodeName(to), cb.nodeName(FIRST_NODE), lead ? "the leader" : "a follower");
        Procs.Result r = cb.switchover(to);
        if (r.code() != 0) {
            return "switchover to " + cb.nodeName(to) + " before the run: " + r.all();
        }
        String why = healCheck.await(Duration.ofSeconds(120));
        return why == null ? null : "not healed 120 s after the switchover to " + cb.nodeName(to) + " before the run: " + why;
    }

    /**
     * Node i's state in cluster-status once it shows it unfit for a search reason: seconds after the fault, and why;
     * {@code ineligible}: whether it was shown ineligible at all (for any reason, or none given).
     */
    record Unfit(double after, String reason, boolean ineligible) {
    }

    /**
     * Polls cluster-status's view (the agents' /cluster) until node i shows eligible_for_leader false with a reason
     * that names search, at most {@code limit} seconds after {@code since}. Not seen: NaN, with the last state seen.
     */
    Unfit awaitUnfit(int i, double since, double limit) {
        String name = cb.nodeName(i);
        String seen = "eligible throughout";
        double ineligible = Double.NaN;
        double deadline = since + limit;
        while (Procs.now() < deadline) {
            JsonNode n = viewNode(healCheck.clusterView(), name);
            if (n != null && !n.path("eligible_for_leader").asBoolean()) {
                String reason = n.hasNonNull("reason") ? n.get("reason").asText() : null;
                if (reason != null && reason.toLowerCase(Locale.ROOT).contains("search")) {
                    return new Unfit(Procs.now() - since, reason, true);
                }
                ineligible = Double.isNaN(ineligible) ? Procs.now() - since : ineligible;
                seen = String.format(Locale.ROOT, "ineligible after %.1f s, but %s", ineligible,
                        reason == null ? "no reason given" : "for: " + reason);
            }
            Procs.sleep(200);
        }
        return new Unfit(Double.NaN, seen, !Double.isNaN(ineligible));
    }

    /** Seconds after {@code since} until cluster-status shows node i eligible again (NaN: not within {@code limit}). */
    double awaitFit(int i, double since, int limit) {
        String name = cb.nodeName(i);
        boolean fit = Procs.waitUntil(Duration.ofSeconds(limit), () -> {
            JsonNode n = viewNode(healCheck.clusterView(), name);
            return n != null && n.path("eligible_for_leader").asBoolean();
        });
        return fit ? Procs.now() - since : Double.NaN;
    }

    /**
     * The run's search figures from the notes its nemesis left. A command's leader changes come with the longest
     * write gap over the whole run: an unplanned failover may come long after the command returned.
     */
    SearchSeen searchSeen(int oldLeader, double t0, List<LeaderWatch.Sweep> sweeps, List<Writer.Ack> acks, Unfit unfit,
            double fitAgain) throws IOException {
        SearchRejoin r = notes.rejoin;
        Boolean unplanned = null;
        String changes = null;
        if (notes.command != null) {
            List<String> to = LeaderWatch.changes(sweeps).stream().filter(c -> c.at() >= t0)
                    .map(c -> cb.nodeName(c.leaders().get(0))).toList();
            String why = unplanned(to, notes.command, stepDowns(oldLeader, notes.logFrom));
            unplanned = why != null;
            changes = to.size() + " leader change(s) " + to + (why == null ? ", the announced hand-over" : ": " + why)
                    + String.format(Locale.ROOT, "; longest write gap over the run %.2f s", Writer.maxGap(acks, t0, Procs.now()));
        }
        return new SearchSeen(r == null ? null : cb.nodeName(opt.addresses().indexOf(r.address())),
                r == null ? Double.NaN : r.after(), unplanned, changes, unfit == null ? Double.NaN : unfit.after(),
                unfit == null ? null : unfit.reason(), fitAgain);
    }

    /**
     * The run's rejoin figures from the watch its nemesis started (after the heal: the node's own record follows its
     * next look at itself streaming, so it is waited for, bounded, when the poll saw it streaming).
     */
    RejoinSeen rejoinSeen() {
        RejoinWatch w = notes.pgRejoin;
        if (w == null) {
            return RejoinSeen.NONE;
        }
        w.close();
        int h = w.node();
        if (w.streamed()) {
            Procs.waitUntil(Duration.ofSeconds(15), () -> cb.lastRejoin(h, w.fromMillis()) != null);
        }
        return rejoinSeen(cb.nodeName(h), w.ledAgain(), w.streamingAfter(), w.fromMillis(),
                cb.lastRejoin(h, w.fromMillis()));
    }

    /**
     * What the watch (led again; seconds until seen streaming, NaN: not seen) and the node's own record (null: none
     * written since its start at {@code startMillis}) say of one restart.
     */
    static RejoinSeen rejoinSeen(String node, boolean ledAgain, double streamingAfter, long startMillis,
            Records.Rejoin record) {
        return new RejoinSeen(node, RejoinWatch.path(ledAgain, !Double.isNaN(streamingAfter), record == null ? null
                : record.path()), streamingAfter, record == null ? Double.NaN : (record.at() - startMillis) / 1000.0,
                record == null ? Double.NaN : record.seconds());
    }

    /** Lines of node i's leaderl log from byte {@code from} on in which it gave up leadership for a health check. */
    List<String> stepDowns(int i, long from) throws IOException {
        Path log = leaderlLog(i);
        if (!Files.exists(log)) {
            return List.of();
        }
        byte[] all = Files.readAllBytes(log);
        int start = from >= 0 && from <= all.length ? (int) from : 0; // rotated meanwhile: all of the new file
        return new String(all, start, all.length - start, StandardCharsets.UTF_8).lines()
                .filter(x -> x.contains("giving up leadership")).toList();
    }

    /**
     * search-restart-on-leader's verdict: planned is exactly one leader change, to the node the command said it handed
     * leadership over to (its line "ok: handed leadership over to NODE"), and no health-check step-down in the old
     * leader's leaderl log. Null when planned, else what was not.
     */
    static String unplanned(List<String> changesTo, String command, List<String> stepDowns) {
        String handover = command.lines().map(String::strip).filter(x -> x.startsWith("ok: handed leadership over to"))
                .findFirst().orElse(null);
        List<String> why = new ArrayList<>();
        if (handover == null) {
            why.add("the command announced no hand-over");
        }
        if (changesTo.size() != 1) {
            why.add(changesTo.size() + " leader changes");
        } else if (handover != null && !handover.matches(".*\\b" + Pattern.quote(changesTo.get(0)) + "\\b.*")) {
            why.add("leadership went to " + changesTo.get(0) + ", not where the command handed it (" + handover + ")");
        }
        if (!stepDowns.isEmpty()) {
            why.add("the old leader's leaderl log: " + stepDowns.get(0).strip());
        }
        return why.isEmpty() ? null : String.join("; ", why);
    }

    /** Acknowledged ids missing on the PostgreSQL of node {@code leader}, read directly; null when no leader. */
    List<Long> lostOn(int leader, List<Writer.Ack> acks) throws SQLException {
        if (leader < 0) {
            return null;
        }
        List<Long> ids = new ArrayList<>(acks.stream().map(Writer.Ack::id).toList());
        long never = -PROBE_IDS.incrementAndGet();
        ids.add(never);
        List<Long> gone = new ArrayList<>(Writer.missing(cb, addr(leader), ids));
        if (!gone.remove(Long.valueOf(never))) {
            throw new IllegalStateException("loss checker broken: a never-written id was reported present");
        }
        return gone;
    }

    Outcome failed(String fault, int run, String why) {
        log("%s run %d FAILED: %s", fault, run, why);
        return new Outcome(fault, run, syncOn, null, null, "", 0, -1, -1, "", -1, 0, Double.NaN, Double.NaN, false,
                Double.NaN, null, why, List.of(), Double.NaN, Double.NaN, Double.NaN, List.of(), null, SearchSeen.NONE,
                RejoinSeen.NONE);
    }

    static void report(Outcome o) {
        log("%s run %d: %s; %s → %s; %d acked, %d lost, %d written on the deposed leader (%s), %d double-leader sweeps "
                + "of %d, write outage %.2f s, new leader after %.2f s, healed %s%s%s", o.fault(), o.run(), o.what(),
                o.oldLeader(), o.newLeader(), o.acked(), o.lost(), o.deposedWrites(), o.deposedEnd(),
                o.doubleLeaderSweeps(), o.sweeps(), o.recovery(), o.newLeaderAfter(), o.healed(),
                o.healed() ? String.format(Locale.ROOT, " (%.0f s after release)", o.healSeconds()) : "",
                o.operator() == null ? "" : "; operator: " + o.operator());
        if (o.unhealed() != null) {
            log("  not healed: %s", o.unhealed());
        }
        SearchSeen s = o.search();
        if (s.backNode() != null) {
            log("  %s's OpenSearch back in the search cluster %.1f s after its start", s.backNode(), s.backAfter());
        }
        if (s.unplanned() != null) {
            log("  %s failover: %s", s.unplanned() ? "UNPLANNED" : "no unplanned", s.leaderChanges());
        }
        if (!Double.isNaN(s.unfitAfter()) || s.unfitReason() != null) {
            log("  the follower shown ineligible %.1f s after the fault (%s), eligible again %.1f s after the release",
                    s.unfitAfter(), s.unfitReason(), s.fitAgainAfter());
        }
        RejoinSeen r = o.rejoin();
        if (r.node() != null) {
            log("  %s started again: %s; streaming from the new leader %.1f s after its start (its own record: %.1f s; "
                    + "rejoin_seconds %.1f)", r.node(), r.path(), r.streamingAfter(), r.recordedAfter(), r.rejoinSeconds());
        }
    }

    // ---- the negative control ------------------------------------------------------------------------------------

    long walReceiver(int i) {
        String name = "postgres: " + cb.nodeName(i) + ": walreceiver";
        return cb.hostProcesses(i).stream().filter(p -> Procs.cmdline(p).startsWith(name)).findFirst().orElse(0L);
    }

    /**
     * The loss checker's negative control (SynchronousModeIT's technique): the third node's failover is off, so the
     * follower {@code F} is the only candidate; F's WAL receiver is frozen; writes go on; the leader host is killed and
     * the frozen receiver SIGKILLed (a thaw would read WAL already in its socket). Asynchronous: nobody is elected
     * (F is behind the recorded history), the operator promotes F and acknowledged writes are lost. Synchronous:
     * commits block during the freeze, F (the synchronous standby) is elected and nothing is lost.
     */
    Outcome control(boolean sync, int run) {
        String name = "control-" + (sync ? "sync" : "async");
        log("--- %s run %d", name, run);
        String notReady = ready();
        if (notReady != null) {
            return failed(name, run, notReady);
        }
        int l = cb.leader();
        int follower = -1;
        int never = -1;
        String standby = sync ? syncStandby() : null;
        for (int i = 0; i < 3; i++) {
            if (i != l) {
                if (follower < 0 && (standby == null || standby.equals(cb.nodeName(i)))) {
                    follower = i;
                } else {
                    never = i;
                }
            }
        }
        if (follower < 0 || never < 0) {
            return failed(name, run, "no follower/third node (synchronous standby " + standby + ")");
        }
        int f = follower;
        LeaderWatch watch = LeaderWatch.start(opt.addresses(), 900);
        Writer w = Writer.start(cb, 50, 900);
        long receiver = 0;
        boolean crashed = false;
        try {
            Procs.Result off = cb.ctl(never, Duration.ofSeconds(60), "set-node-failover", "off");
            if (off.code() != 0) {
                return failed(name, run, "set-node-failover off: " + off.all());
            }
            if (sync && !Procs.waitUntil(Duration.ofSeconds(60), () -> cb.nodeName(f).equals(syncStandby()))) {
                return failed(name, run, "the synchronous standby is not " + cb.nodeName(f));
            }
            if (!Procs.waitUntil(Duration.ofSeconds(30), () -> w.acks().size() >= 20)) {
                return failed(name, run, "the writer got fewer than 20 acknowledgements in 30 s");
            }
            receiver = walReceiver(f);
            if (receiver <= 0) {
                return failed(name, run, "no WAL receiver on " + cb.nodeName(f));
            }
            double t0 = Procs.now();
            signal(List.of(receiver), "STOP");
            int before = w.acks().size();
            // synchronous: the leader gives up a standby silent for half the TTL (issue 17), after which commits go
            // on without it and it may no longer be elected; the leader must crash before that, so the probe is short
            long probeMs = sync ? Math.min(4000, opt.ttl() * 1000L / 4) : 4000;
            Procs.sleep(probeMs);
            int during = w.acks().size() - before;
            // the probe: asynchronous commits go on without the frozen follower; synchronous ones must block
            if (sync ? during > 2 : during < 20) {
                return failed(name, run, "the freeze did not take effect: " + during + " commits acknowledged in "
                        + probeMs + " ms");
            }
            List<Long> host = cb.hostProcesses(l);
            Procs.kill9(host);
            crashed = true;
            signal(List.of(receiver), "KILL");
            receiver = 0;
            if (!Procs.waitUntil(Duration.ofSeconds(10), () -> host.stream().noneMatch(Procs::alive))) {
                return failed(name, run, "the leader host survives kill -9");
            }
            String what;
            String operatorDid = null;
            if (sync) {
                what = "sync standby frozen, leader host killed";
                if (!Procs.waitUntil(Duration.ofSeconds(90), () -> cb.leader() == f)) {
                    return failed(name, run, "the synchronous standby was not elected within 90 s");
                }
            } else {
                boolean elected = Procs.waitUntil(Duration.ofSeconds(3L * opt.ttl()), () -> cb.leader() >= 0);
                what = "follower frozen, leader host killed, " + (elected ? "a leader was elected by itself (!)"
                        : "no automatic election; operator: promote " + cb.nodeName(f));
                if (!elected) {
                    operatorDid = "promote " + cb.nodeName(f);
                    Procs.Result p = cb.ctl(f, Duration.ofSeconds(180), "promote", cb.nodeName(f));
                    if (p.code() != 0 || !Procs.waitUntil(Duration.ofSeconds(90), () -> cb.leader() == f)) {
                        return failed(name, run, "promote " + cb.nodeName(f) + ": " + p.all());
                    }
                }
            }
            double firstAfter = Procs.now();
            Procs.waitUntil(Duration.ofSeconds(30), () -> w.firstAckAfter(firstAfter) != null);
            Procs.sleep(1000);
            w.close();
            watch.close();
            List<Writer.Ack> acks = w.acks();
            int leaderNow = cb.leader();
            List<Long> lost = lostOn(leaderNow, acks);
            List<LeaderWatch.Sweep> sweeps = watch.sweeps();
            LeaderWatch.Sweep other = LeaderWatch.firstOtherLeader(sweeps, t0, l);
            double released = Procs.now();
            cb.restartHost(l);
            cb.ctl(never, Duration.ofSeconds(60), "set-node-failover", "on");
            String unhealed = healCheck.await(Duration.ofSeconds(300));
            boolean healed = unhealed == null;
            Outcome o = new Outcome(name, run, sync, cb.nodeName(l), leaderNow < 0 ? null : cb.nodeName(leaderNow), what,
                    acks.size(), lost == null ? -1 : lost.size(), 0, "the old host was dead until restarted",
                    LeaderWatch.doubleLeaders(sweeps).size(), sweeps.size(),
                    Writer.maxGap(acks, t0, Procs.now()), other == null ? Double.NaN : other.at() - t0, healed,
                    healed ? Procs.now() - released : Double.NaN, operatorDid, null, acks.stream().map(Writer.Ack::at).toList(), t0,
                    released, healed ? Procs.now() : Double.NaN,
                    LeaderWatch.changes(sweeps).stream().map(LeaderWatch.Sweep::at).toList(), unhealed, SearchSeen.NONE,
                    RejoinSeen.NONE);
            report(o);
            crashed = false;
            return o;
        } catch (Exception e) {
            return failed(name, run, e.getClass().getSimpleName() + ": " + e.getMessage());
        } finally {
            if (receiver > 0) {
                signal(List.of(receiver), "KILL");
            }
            w.close();
            watch.close();
            if (crashed) {
                try {
                    cb.restartHost(l);
                } catch (Exception e) {
                    log("restarting %s failed: %s", cb.nodeName(l), e.getMessage());
                }
            }
            cb.ctl(never, Duration.ofSeconds(60), "set-node-failover", "on");
        }
    }

    @Override
    public void close() {
        if (cb != null) {
            cb.close();
        }
        if (net != null) {
            net.close();
        }
    }

    // ---- command line ----------------------------------------------------------------------------------------------

    static final String USAGE = """
            usage: bin/chaos FAULT[,FAULT...]|all|ci|report [--runs N] [--ttl S] [--mode sync|async]
              Builds a 3-node chef-backend cluster (127.0.0.101-103, HAProxy on 127.0.0.100:5432, roots under
              /tmp/cbit-chaos), runs a writer through HAProxy while each fault acts, checks, and writes the chaos
              section of docs/RESULTS.md, docs/results/chaos.json and docs/results/chaos-FAULT.png.
              faults, in priority order: %s
                host-crash        kill -9 of every process of the leader's host (etcd member included); restarted after
                leader-crash-rejoin  the same, but started again at once (no waiting for the failover); timed until it
                                  streams from the new leader, with how it rejoined (rewind, none or basebackup; or led
                                  again instead)
                agent-freeze      SIGSTOP of the leader's agent JVM; SIGCONT after the writes recovered
                partition         the leader cut from both other hosts, the etcd majority (iptables on loopback, per-host
                                  cgroups); HAProxy and clients still reach it
                pg-crash          kill -9 of the leader's PostgreSQL (the agent lives)
                search-crash      kill -9 of the leader's OpenSearch
                etcd-crash        kill -9 of the leader's etcd
                first-node-crash  kill -9 of every process of the node that ran create-cluster (cb1); started again
                                  after. Odd runs hit it as the leader, even ones as a follower (a switchover first)
                first-node-stop   chef-backend-ctl stop on cb1 (leader/follower as above); chef-backend-ctl start after
                search-restart-on-leader  chef-backend-ctl restart elasticsearch on the leader (a hand-over first; any
                                  other leader change is an unplanned failover)
                search-freeze     SIGSTOP of a follower's OpenSearch JVM (not the search cluster manager); timed until
                                  cluster-status shows it ineligible for a search reason, then SIGCONT
                search-isolate    that follower's search transport port (9300) cut from both other hosts; timed the same
                control           negative control of the loss checker: a frozen WAL receiver, then a host crash,
                                  once asynchronous (loses writes) and N times synchronous (loses none)
                pg-agent-freeze   SIGSTOP of the leader's PostgreSQL and agent
                bridge-partition  the leader cut from one follower only (in sync mode: the synchronous standby)
                isolate           the leader cut from everyone: both hosts, HAProxy and the clients
                asymmetric-partition  the leader's packets to both other hosts dropped, theirs to it still arrive
                graceful-stop     chef-backend-ctl stop on the leader (hand-over)
                disk-full         the leader's PostgreSQL filesystem (a %d MiB tmpfs per node) filled; freed after
                wal-removed       a follower's PostgreSQL killed and its pg_wal emptied (operator's pgsql-follow
                                  --force-basebackup only if it does not heal by itself)
                two-nodes-lost    kill -9 of two hosts (the synchronous standby survives); the operator's
                                  create-cluster --quorum-loss-recovery, then two new machines join
              all: every fault; ci: host-crash,agent-freeze,partition,first-node-crash,search-restart-on-leader,disk-full,
                control with --runs 1
              healed: every node in cluster-status, 1 leader, the others synced and eligible, every node's OpenSearch
                green with every node, chef-backend-ctl status exiting 0 on every node
              rejoin: a former leader started again (leader-crash-rejoin; host-crash, first-node-*, graceful-stop at the
                release) is timed from its start until the new leader's pg_stat_replication shows it streaming, with
                the path its last-rejoin.json gives
              --runs N (1)  --ttl S (5; etcd heartbeat 100 ms, election 1000 ms)  --mode sync|async (sync: the faults
              other than control run with leaderl.synchronous_mode true)
              report: only regenerate the report from docs/results/chaos.json

            usage: bin/chaos rolling-upgrade [--runs N] [--ttl S] [--mode sync|async]
              The documented rolling upgrade (docs/UPGRADES.md) under the writer through HAProxy; part of the
              full tier beside `all`, not in it. Installs the Debian package mvn package built (version A; refuses a
              machine where chef-backend is installed), builds a 3-node cluster from /usr/bin/chef-backend-ctl
              (127.0.0.191-193, HAProxy on 127.0.0.190:5432, node roots under /tmp/cbit-upgrade/rolling), installs
              A+1 under it, restarts the followers one at a time (stop, start, healed), promotes a follower, restarts
              the old leader; checks lost writes, write gaps, that every node runs the new files, dpkg-query; then the
              asynchronous negative control on the upgraded cluster; purges the package. Writes the section "Rolling
              upgrade under load (issue 21)" of docs/RESULTS.md and docs/results/rolling-upgrade.json.

            usage: bin/chaos pitr [--runs N] [--ttl S] [--mode sync|async]
              Continuous archiving and point-in-time restore (issue 22; full tier, not in `all`). A 3-node cluster
              (127.0.0.195-197, HAProxy on 127.0.0.194:5432, roots under /tmp/cbit-pitr) archives into the pgBackRest
              repository /tmp/cbit-pitr/repo; under the writer: backup --repository on a follower, two host crashes
              (T1 recorded between them) and a switchover; backup-check must exit 0; restores on 127.0.0.198 to T1
              (acknowledged before present, sent after absent; the same check claiming T1 + 20 s must fail), to the
              latest WAL (every acknowledged write present), and after every node is killed and its data deleted, to
              the latest again: the recovery point against backup.archive_timeout (60 s). Writes the section
              "Point-in-time restore (issue 22)" of docs/RESULTS.md and docs/results/pitr.json.
            """.formatted(String.join(", ", FAULTS), DATA_DISK_MB);

    public static void main(String[] args) {
        Logger.getLogger("org.postgresql").setLevel(Level.OFF);
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            System.out.print(USAGE);
            System.exit(args.length == 0 ? 2 : 0);
        }
        Path repo = Path.of(System.getProperty("chefbackend.repo", ".")).toAbsolutePath().normalize();
        Map<String, String> o = new LinkedHashMap<>(Map.of("runs", "1", "ttl", "5", "mode", "sync"));
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || !o.containsKey(a.substring(2)) || i + 1 >= args.length) {
                System.err.println("chaos: unknown or incomplete option '" + a + "' (see bin/chaos --help)");
                System.exit(2);
            }
            o.put(a.substring(2), args[++i]);
        }
        for (String k : List.of("runs", "ttl")) {
            if (!o.get(k).matches("[1-9][0-9]{0,3}")) {
                System.err.println("chaos: --" + k + " must be a positive integer, not '" + o.get(k) + "'");
                System.exit(2);
            }
        }
        if (!o.get("mode").matches("sync|async")) {
            System.err.println("chaos: --mode must be sync or async, not '" + o.get("mode") + "'");
            System.exit(2);
        }
        Set<String> faults = new LinkedHashSet<>();
        String cmd = args[0];
        if (cmd.equals(RollingUpgrade.SCENARIO)) {
            System.exit(RollingUpgrade.main(repo, RollingUpgrade.options(repo, Integer.parseInt(o.get("runs")),
                    Integer.parseInt(o.get("ttl")), o.get("mode").equals("sync"))));
        }
        if (cmd.equals(Pitr.SCENARIO)) {
            System.exit(Pitr.main(repo, Pitr.options(repo, Integer.parseInt(o.get("runs")), Integer.parseInt(o.get("ttl")),
                    o.get("mode").equals("sync"))));
        }
        if (cmd.equals("all")) {
            faults.addAll(FAULTS);
        } else if (cmd.equals("ci")) {
            faults.addAll(CI_FAULTS);
        } else if (!cmd.equals("report")) {
            for (String f : cmd.split(",")) {
                if (!FAULTS.contains(f)) {
                    System.err.println("chaos: unknown fault '" + f + "' (see bin/chaos --help)");
                    System.exit(2);
                }
                faults.add(f);
            }
        }
        Options opt = defaults(repo, Integer.parseInt(o.get("runs")), Integer.parseInt(o.get("ttl")),
                o.get("mode").equals("sync"));
        int code;
        try {
            if (faults.isEmpty()) {
                ChaosReport.write(opt);
                System.out.println("wrote " + opt.report());
                code = 0;
            } else {
                List<Outcome> out = runAll(repo, opt, faults);
                ChaosReport.save(opt, out);
                ChaosReport.write(opt);
                System.out.println(ChaosReport.table(ChaosReport.load(opt.json())));
                code = out.stream().allMatch(ChaosReport::passed) ? 0 : 1;
            }
        } catch (Exception e) {
            System.err.println("chaos: " + e.getMessage());
            code = 1;
        }
        System.exit(code);
    }

    public static Options defaults(Path repo, int runs, int ttl, boolean sync) {
        return new Options(runs, ttl, sync, Path.of("/tmp/cbit-chaos/cluster"),
                List.of("127.0.0.101", "127.0.0.102", "127.0.0.103"), "127.0.0.100", repo.resolve("docs/RESULTS.md"),
                repo.resolve("docs/results/chaos.json"), repo.resolve("docs/results"));
    }

    /** Builds the cluster, runs the faults and tears everything down (also on failure or Ctrl-C). */
    public static List<Outcome> runAll(Path repo, Options opt, Set<String> faults) throws Exception {
        Chaos c = new Chaos(repo, opt);
        Thread hook = new Thread(c::close, "chaos-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            c.setUp();
            List<Outcome> out = c.run(faults);
            ChaosReport.plots(opt, out);
            return out;
        } finally {
            c.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // shutting down already
            }
        }
    }
}
