package org.chefbackend.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.dcs.ClusterStore;
import org.chefbackend.etcd.EtcdAccess;
import org.chefbackend.faults.LoopbackNet;

/**
 * A real cluster for integration tests, built as an operator does (create-cluster on the first node, join-cluster on
 * the others), with a poller that sweeps {@code /leader} on every node every 100 ms and remembers the most nodes that
 * answered 200 in one sweep and every node that ever did. {@link #close} ends every process by pid.
 */
public final class TestCluster implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    public final List<TestNode> nodes = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(300)).build();
    private final AtomicBoolean polling = new AtomicBoolean(true);
    private final AtomicInteger maxLeaders = new AtomicInteger();
    private final AtomicInteger sweeps = new AtomicInteger();
    private final Set<String> everLeader = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> last200 = new ConcurrentHashMap<>();
    private Thread poller;
    private Secrets secrets;
    /** The loopback network the nodes run in, when built by {@link #partitionable}; closed with the cluster. */
    public LoopbackNet net;

    /**
     * A cluster whose hosts can be cut apart: a {@link LoopbackNet} named {@code tag} (set up before any process
     * starts) and every node in its host's cgroup. {@link #close} removes the network after the processes end.
     */
    public static TestCluster partitionable(String tag, List<String> addresses, Path rootBase, String... config)
            throws Exception {
        LoopbackNet net = LoopbackNet.create(tag, addresses);
        try {
            TestCluster c = create(addresses, rootBase, net::cgroup, config);
            c.net = net;
            return c;
        } catch (Exception | AssertionError e) {
            net.close();
            throw e;
        }
    }

    /**
     * Node i gets {@code addresses[i]}, root {@code rootBase/h<i+1>}, the given chef-backend.rb lines, and the cgroup
     * {@code cgroupOf} names for its address (null: none).
     */
    public static TestCluster create(List<String> addresses, Path rootBase, Function<String, Path> cgroupOf,
            String... config) throws Exception {
        return create(addresses, rootBase, cgroupOf, n -> n, config);
    }

    /** As {@link #create(List, Path, Function, String...)}, each node passed through {@code setup} before it starts. */
    public static TestCluster create(List<String> addresses, Path rootBase, Function<String, Path> cgroupOf,
            UnaryOperator<TestNode> setup, String... config) throws Exception {
        TestCluster c = new TestCluster();
        try {
            for (int i = 0; i < addresses.size(); i++) {
                TestNode n = TestNode.create(addresses.get(i), rootBase.resolve("h" + (i + 1)), TestNode.secrets(), config);
                c.nodes.add(setup.apply(n.inCgroup(cgroupOf == null ? null : cgroupOf.apply(n.address))));
            }
            TestNode first = c.nodes.get(0);
            TestNode.Run create = first.ctl("create-cluster", "-y");
            require(create.code() == 0, "create-cluster: " + create.out() + create.err());
            Path file = first.root.resolve("etc/chef-backend/chef-backend-secrets.json");
            c.secrets = SecretsFile.load(file);
            for (TestNode n : c.nodes.subList(1, c.nodes.size())) {
                TestNode.Run join = n.ctl("join-cluster", first.address, "-s", file.toString(), "-y");
                require(join.code() == 0, "join-cluster: " + join.out() + join.err());
            }
            require(TestNode.waitUntil(Duration.ofSeconds(120), () -> c.synced(first) == c.nodes.size() - 1),
                    "not every follower is synced");
            require(TestNode.waitUntil(Duration.ofSeconds(120), () -> first.status()
                    .map(s -> s.path("elasticsearch").path("nodes").asInt()).orElse(0) == c.nodes.size()),
                    "not every search node joined");
            c.poller = new Thread(c::poll, "leader-poller");
            c.poller.setDaemon(true);
            c.poller.start();
            return c;
        } catch (Exception | AssertionError e) {
            c.close();
            throw e;
        }
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    @Override
    public void close() {
        polling.set(false);
        if (poller != null) {
            try {
                poller.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        nodes.forEach(TestNode::destroy);
        if (net != null) {
            net.close();
        }
    }

    private void poll() {
        while (polling.get()) {
            int leaders = 0;
            for (TestNode n : nodes) {
                if (leaderAnswer(n) == 200) {
                    leaders++;
                    everLeader.add(n.name);
                    last200.put(n.name, System.nanoTime());
                }
            }
            maxLeaders.accumulateAndGet(leaders, Math::max);
            sweeps.incrementAndGet();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The most nodes that answered 200 on /leader in one sweep so far. */
    public int maxLeaders() {
        return maxLeaders.get();
    }

    public int sweeps() {
        return sweeps.get();
    }

    /** Names of every node that answered 200 on /leader at least once. */
    public Set<String> everLeader() {
        return Collections.unmodifiableSet(new HashSet<>(everLeader));
    }

    /** {@link System#nanoTime()} of the last sweep in which {@code n} answered 200 on /leader, 0 when never. */
    public long last200(TestNode n) {
        return last200.getOrDefault(n.name, 0L);
    }

    public Secrets secrets() {
        return secrets;
    }

    public int leaderAnswer(TestNode n) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://" + n.address + ":7331/leader"))
                    .timeout(Duration.ofMillis(500)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    public Optional<TestNode> leader() {
        return nodes.stream().filter(n -> leaderAnswer(n) == 200).findFirst();
    }

    /** Followers whose PostgreSQL role is "synced", as {@code n}'s cluster-status --json shows them. */
    public int synced(TestNode n) {
        try {
            JsonNode view = JSON.readTree(n.ctl("cluster-status", "--json").out());
            int synced = 0;
            for (JsonNode node : view.path("nodes")) {
                synced += node.path("pgsql").path("role").asText().equals("synced") ? 1 : 0;
            }
            return synced;
        } catch (Exception e) {
            return -1;
        }
    }

    /**
     * The cluster's keys (under /chef-backend/) through the etcd members of {@code via} (every node when none is
     * named), reached as the agents reach them: in a closed cluster https trusting its CA with the first node's
     * certificate, as etcd user chef-backend. The caller closes it.
     */
    public ClusterStore store(TestNode... via) {
        List<TestNode> members = via.length == 0 ? nodes : List.of(via);
        EtcdAccess access = etcdAccess();
        return access.keys(members.stream().map(this::etcdUrl).toList(), "/chef-backend/", Duration.ofSeconds(2));
    }

    /** How the agents reach etcd: in a closed cluster, presenting the first node's certificate. */
    public EtcdAccess etcdAccess() {
        return EtcdAccess.of(secrets, nodes.get(0).certificateFiles());
    }

    /**
     * The body of {@code n}'s etcd member's 200 answer to GET {@code path} ("/health"), reached as its agent reaches
     * it; empty otherwise.
     */
    public String etcdGet(TestNode n, String path) {
        return n.etcdGet(path);
    }

    /** {@code n}'s etcd client URL, as its agent reaches it. */
    public String etcdUrl(TestNode n) {
        return secrets.ca() == null ? "http://" + n.address + ":2379" : "https://" + n.address + ":2378";
    }

    /**
     * The value of a cluster key (e.g. "history") as JSON, read through {@code n}'s etcd member; empty when absent
     * or unreadable.
     */
    public Optional<JsonNode> etcdValue(TestNode n, String key) {
        try (ClusterStore s = store(n)) {
            Optional<ClusterStore.Versioned> v = s.get(key);
            return v.isEmpty() ? Optional.empty() : Optional.of(JSON.readTree(v.get().value()));
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    /** The superuser's connection to {@code n}'s PostgreSQL, directly (not through HAProxy). */
    public Connection pg(TestNode n) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "chef_pgsql");
        p.setProperty("password", secrets.dbSuperuserPassword());
        p.setProperty("connectTimeout", "2");
        p.setProperty("socketTimeout", "5");
        return DriverManager.getConnection("jdbc:postgresql://" + n.address + ":5432/postgres", p);
    }

    /** True when {@code n}'s PostgreSQL took a write right now. */
    public boolean writes(TestNode n) {
        try (Connection c = pg(n); Statement st = c.createStatement()) {
            st.execute("create table if not exists failover_probe (id serial primary key, at timestamptz default now())");
            st.execute("insert into failover_probe default values");
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** The ids in {@code table} on {@code n}. */
    public Set<Long> ids(TestNode n, String table) throws SQLException {
        Set<Long> present = new HashSet<>();
        try (Connection c = pg(n); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select id from " + table)) {
            while (rs.next()) {
                present.add(rs.getLong(1));
            }
        }
        return present;
    }

    /** A host crash: kill -9 of every process of the node, its etcd member included; returns once nothing answers. */
    public void crash(TestNode n) {
        List<Long> pids = n.processes();
        require(!pids.isEmpty(), n.name + " runs nothing");
        pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        require(TestNode.waitUntil(Duration.ofSeconds(5), () -> !open(n.address, 5432) && !open(n.address, 7331)),
                n.name + " still answers after kill -9");
    }

    public static boolean open(String address, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, port), 300);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** Sends {@code signal} (e.g. STOP, CONT) to a process. */
    public static void signal(long pid, String signal) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + signal, String.valueOf(pid)).start();
        require(p.waitFor() == 0, "kill -" + signal + " " + pid + " failed");
    }

    /** The pid of {@code n}'s PostgreSQL WAL receiver, 0 when none runs. */
    public static long walReceiver(TestNode n) {
        for (long pid : n.processes()) {
            try {
                String cmdline = new String(Files.readAllBytes(Path.of("/proc", String.valueOf(pid), "cmdline")))
                        .replace('\0', ' ');
                if (cmdline.startsWith("postgres: " + n.name + ": walreceiver")) {
                    return pid;
                }
            } catch (IOException e) {
                // exited meanwhile
            }
        }
        return 0;
    }
}
