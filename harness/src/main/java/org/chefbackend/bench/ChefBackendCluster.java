package org.chefbackend.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.chefbackend.cluster.Records;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.etcd.EtcdAccess;
import org.chefbackend.faults.LoopbackNet;
import org.chefbackend.system.FileTrees;
import org.chefbackend.system.Http;
import org.chefbackend.tls.NodeCertificates.CertificateFiles;

/**
 * A 3-node chef-backend cluster driven through bin/chef-backend-ctl exactly as an operator would (create-cluster,
 * join-cluster, start, promote, status), with HAProxy checking {@code GET :7331/leader}. Each node has its own root;
 * its processes are found by that root and ended by pid.
 */
public final class ChefBackendCluster implements HaCluster {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path root;
    private final List<String> addresses;
    private final String proxyAddress;
    private final List<String> config;
    private Haproxy haproxy;
    private Secrets secrets;
    private Function<String, Path> cgroupOf = a -> null;
    private int dataDiskMb;
    private Path ctl;

    /**
     * @param extraConfig chef-backend.rb lines every node gets (TTL, etcd timings, synchronous mode, ...)
     */
    public ChefBackendCluster(Path repo, Path root, List<String> addresses, String proxyAddress, List<String> extraConfig) {
        this.root = root;
        this.addresses = List.copyOf(addresses);
        this.proxyAddress = proxyAddress;
        this.config = new ArrayList<>(extraConfig);
        this.ctl = repo.resolve("bin/chef-backend-ctl");
    }

    /**
     * From now on every node is driven by {@code ctl} (an installed package's /usr/bin/chef-backend-ctl) instead of
     * the checkout's bin/chef-backend-ctl.
     */
    public ChefBackendCluster withCtl(Path ctl) {
        this.ctl = ctl;
        return this;
    }

    /**
     * From now on every command of node i runs inside {@code cgroupOf.apply(address i)} (null: none), and so does
     * everything it starts (the agent and its services): what {@link LoopbackNet} partitions need.
     */
    public ChefBackendCluster inCgroups(Function<String, Path> cgroupOf) {
        this.cgroupOf = cgroupOf;
        return this;
    }

    /**
     * From now on every node's PostgreSQL directory ({@code /var/opt/chef-backend/postgresql} under its root) is a
     * filesystem of its own, a tmpfs of {@code mb} MiB mounted before the node is built: a disk that can fill up.
     */
    public ChefBackendCluster withDataDisks(int mb) {
        this.dataDiskMb = mb;
        return this;
    }

    /** Node i's PostgreSQL directory (its own filesystem with {@link #withDataDisks}). */
    public Path dataDisk(int i) {
        return nodeRoot(i).resolve("var/opt/chef-backend/postgresql");
    }

    private void mountDataDisk(int i) throws IOException {
        if (dataDiskMb <= 0) {
            return;
        }
        Files.createDirectories(dataDisk(i));
        Procs.Result r = Procs.run(Duration.ofSeconds(30), "mount", "-t", "tmpfs", "-o", "size=" + dataDiskMb + "m,mode=0755",
                "cbdisk", dataDisk(i).toString());
        if (r.code() != 0) {
            throw new IllegalStateException("mount tmpfs on " + dataDisk(i) + ": " + r.all());
        }
    }

    /** Unmounts node i's data disk if it is mounted (its processes must have ended). */
    private void unmountDataDisk(int i) {
        if (Procs.run(Duration.ofSeconds(10), "mountpoint", "-q", dataDisk(i).toString()).code() == 0) {
            Procs.run(Duration.ofSeconds(30), "umount", dataDisk(i).toString());
        }
    }

    /** Wipes node i's root (its data disk emptied by unmounting it) and mounts a fresh disk. */
    private void wipe(int i) throws IOException {
        unmountDataDisk(i);
        FileTrees.deleteTree(nodeRoot(i));
        mountDataDisk(i);
    }

    /** chef-backend.rb lines for a leader TTL and etcd timings (the same ones Patroni's etcd gets). */
    public static List<String> settings(int ttl, int heartbeatMs, int electionMs, boolean synchronous) {
        List<String> l = new ArrayList<>(List.of("leaderl.leader_ttl_seconds = " + ttl,
                "etcd.heartbeat_interval = " + heartbeatMs, "etcd.election_timeout = " + electionMs,
                "elasticsearch.heap_size = 512", "postgresql.shared_buffers = '128MB'"));
        if (synchronous) {
            l.add("leaderl.synchronous_mode true");
        }
        return l;
    }

    @Override
    public String system() {
        return "chef-backend";
    }

    @Override
    public List<String> addresses() {
        return addresses;
    }

    @Override
    public String proxy() {
        return proxyAddress;
    }

    @Override
    public String superuser() {
        return "chef_pgsql";
    }

    @Override
    public String password() {
        return secrets().dbSuperuserPassword();
    }

    @Override
    public String replicationUser() {
        return "replicator";
    }

    @Override
    public String replicationPassword() {
        return secrets().replicationPassword();
    }

    Secrets secrets() {
        if (secrets == null) {
            try {
                secrets = SecretsFile.load(secretsFile(0));
            } catch (Exception e) {
                throw new IllegalStateException("cannot read " + secretsFile(0) + ": " + e.getMessage(), e);
            }
        }
        return secrets;
    }

    @Override
    public String nodeName(int i) {
        return "cb" + (i + 1);
    }

    public Path nodeRoot(int i) {
        return root.resolve("n" + (i + 1));
    }

    /** A closed cluster's etcd takes only clients presenting a certificate from its CA: host i's own, here. */
    @Override
    public String etcdGet(int i, String path) {
        try {
            EtcdAccess access = EtcdAccess.of(secrets(),
                    new CertificateFiles(nodeRoot(i).resolve("var/opt/chef-backend/ssl/cluster")));
            int port = access.closed() ? 2378 : 2379;
            Http.Response r = Http.get(access.url(addresses.get(i), port) + path, Duration.ofSeconds(3),
                    Duration.ofSeconds(3), access.tls());
            return r.status() == 200 ? new String(r.body(), StandardCharsets.UTF_8) : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    Path secretsFile(int i) {
        return nodeRoot(i).resolve("etc/chef-backend/chef-backend-secrets.json");
    }

    public Procs.Result ctl(int i, Duration timeout, String... args) {
        return ctl(i, timeout, Map.of(), args);
    }

    /** chef-backend-ctl on node i with extra environment (PSQL_INTERNAL_OK for the manual recovery procedures). */
    public Procs.Result ctl(int i, Duration timeout, Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of(ctl.toString()));
        cmd.addAll(List.of(args));
        Map<String, String> all = new LinkedHashMap<>(env);
        all.put("CHEF_BACKEND_ROOT", nodeRoot(i).toString());
        return Procs.run(timeout, all, LoopbackNet.inCgroup(cgroupOf.apply(addresses.get(i)), cmd));
    }

    /**
     * Sets a chef-backend.rb line for every node from now on, replacing any earlier line for {@code key}; written to the
     * nodes by {@link #writeConfig} (then {@code reconfigure}), and what a rebuilt node gets.
     */
    public void setting(String key, String line) {
        config.removeIf(l -> l.startsWith(key + " ") || l.startsWith(key + "="));
        config.add(line);
    }

    public void writeConfig(int i) throws IOException {
        Path n = nodeRoot(i);
        Files.createDirectories(n.resolve("etc/chef-backend"));
        StringBuilder rb = new StringBuilder().append("publish_address '").append(addresses.get(i)).append("'\n")
                .append("fqdn '").append(nodeName(i)).append("'\n");
        config.forEach(l -> rb.append(l).append('\n'));
        Files.writeString(n.resolve("etc/chef-backend/chef-backend.rb"), rb.toString());
    }

    /** Checks the configuration is accepted (show-config), without starting anything; null when it is, else why. */
    public String configProblem() throws IOException {
        Procs.Result r = showConfig();
        return r.code() == 0 ? null : r.all().lines().findFirst().orElse("exit " + r.code());
    }

    /** show-config for node 1's configuration, in a scratch root (never the running node's files). */
    private Procs.Result showConfig() throws IOException {
        Path probe = root.resolveSibling(root.getFileName() + "-probe");
        FileTrees.deleteTree(probe);
        Path rb = probe.resolve("etc/chef-backend/chef-backend.rb");
        Files.createDirectories(rb.getParent());
        StringBuilder text = new StringBuilder().append("publish_address '").append(addresses.get(0)).append("'\n")
                .append("fqdn '").append(nodeName(0)).append("'\n");
        config.forEach(l -> text.append(l).append('\n'));
        Files.writeString(rb, text.toString());
        List<String> cmd = List.of(ctl.toString(), "show-config");
        try {
            return Procs.run(Duration.ofSeconds(60), Map.of("CHEF_BACKEND_ROOT", probe.toString()), cmd);
        } finally {
            FileTrees.deleteTree(probe);
        }
    }

    /** PostgreSQL parameters chef-backend renders for this configuration (what Patroni and the direct server get too). */
    public Map<String, String> renderedPostgresParameters() throws IOException {
        Procs.Result r = showConfig();
        if (r.code() != 0) {
            throw new IllegalStateException("show-config: " + r.all());
        }
        Map<String, String> p = new LinkedHashMap<>();
        JSON.readTree(r.out()).path("rendered").path("postgresql.conf").fields()
                .forEachRemaining(e -> p.put(e.getKey(), e.getValue().asText()));
        return p;
    }

    @Override
    public void coldStart() throws Exception {
        close();
        FileTrees.deleteTree(root);
        for (int i = 0; i < addresses.size(); i++) {
            mountDataDisk(i);
            writeConfig(i);
        }
        Procs.Result create = ctl(0, Duration.ofSeconds(300), "create-cluster", "-y", "--quiet");
        if (create.code() != 0) {
            throw new IllegalStateException("create-cluster: " + create.all());
        }
        secrets = null;
        for (int i = 1; i < addresses.size(); i++) {
            join(i);
        }
        haproxy = Haproxy.start(root.resolve("haproxy"), proxyAddress, addresses, 7331, "/leader");
        if (!waitHealthy(Duration.ofSeconds(300))) {
            throw new IllegalStateException("chef-backend cluster not healthy within 300 s; logs under " + root);
        }
    }

    private void join(int i) {
        join(i, Math.max(0, leader()), secretsFile(0));
    }

    private void join(int i, int via, Path secretsFile) {
        Procs.Result join = ctl(i, Duration.ofSeconds(3600), "join-cluster", addresses.get(via), "-s",
                secretsFile.toString(), "-y", "--quiet");
        if (join.code() != 0) {
            throw new IllegalStateException("join-cluster " + nodeName(i) + ": " + join.all());
        }
    }

    /** cluster-status --json from the first node whose agent answers; null when none does. */
    public JsonNode clusterStatus() {
        for (int i = 0; i < addresses.size(); i++) {
            if (!Procs.open(addresses.get(i), 7331)) {
                continue;
            }
            Procs.Result r = ctl(i, Duration.ofSeconds(30), "cluster-status", "--json");
            if (r.code() == 0) {
                try {
                    return JSON.readTree(r.out());
                } catch (IOException e) {
                    return null;
                }
            }
        }
        return null;
    }

    @Override
    public boolean healthy() {
        int l = leader();
        if (l < 0) {
            return false;
        }
        JsonNode view = clusterStatus();
        if (view == null) {
            return false;
        }
        int leaders = 0;
        int ready = 0;
        for (JsonNode n : view.path("nodes")) {
            if (n.path("role").asText().equals("leader")) {
                leaders++;
            } else if (n.path("pgsql").path("role").asText().equals("synced") && n.path("eligible_for_leader").asBoolean()) {
                ready++;
            }
        }
        return leaders == 1 && ready == addresses.size() - 1 && streaming(addresses.get(l)) == addresses.size() - 1;
    }

    @Override
    public int leader() {
        for (int i = 0; i < addresses.size(); i++) {
            if (Procs.httpStatus("http://" + addresses.get(i) + ":7331/leader") == 200) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public List<Long> hostProcesses(int i) {
        String r = nodeRoot(i).toString();
        String backend = "postgres: " + nodeName(i) + ":";
        return Procs.matching(c -> c.contains(r + "/") || c.contains("--root " + r) || c.startsWith(backend));
    }

    @Override
    public void restartHost(int i) {
        Procs.waitUntil(Duration.ofSeconds(10), () -> hostProcesses(i).isEmpty());
        Procs.Result start = ctl(i, Duration.ofSeconds(300), "start");
        if (start.code() != 0) {
            throw new IllegalStateException("start " + nodeName(i) + ": " + start.all());
        }
    }

    /** The wall clock (epoch ms): a rejoin record is this start's when the node first streamed at or after it. */
    @Override
    public long rejoinMark(int i) {
        return System.currentTimeMillis();
    }

    @Override
    public String rejoinPath(int i, long mark) {
        Records.Rejoin r = lastRejoin(i, mark);
        return r == null ? null : r.path();
    }

    /**
     * Node i's own record of its last rejoin (leaderl's last-rejoin.json: leader, path, seconds from the start of the
     * rejoin until streaming, and when it first saw itself streaming) if that was at or after {@code sinceMillis};
     * null otherwise, or while there is none.
     */
    public Records.Rejoin lastRejoin(int i, long sinceMillis) {
        Records.Rejoin r = Records.Rejoin.read(new NodePaths(nodeRoot(i)));
        return r != null && r.at() >= sinceMillis ? r : null;
    }

    @Override
    public Procs.Result switchover(int candidate) {
        return ctl(candidate, Duration.ofSeconds(180), "promote", nodeName(candidate));
    }

    @Override
    public Procs.Result statusCommand() {
        return ctl(0, Duration.ofSeconds(60), "status");
    }

    @Override
    public List<Long> agentProcesses(int i) {
        String body = Procs.httpGet("http://" + addresses.get(i) + ":7331/status");
        if (body == null) {
            return List.of();
        }
        try {
            long agent = JSON.readTree(body).path("agent").path("pid").asLong();
            List<Long> pids = new ArrayList<>(List.of(agent));
            ProcessHandle.of(agent).ifPresent(h -> h.descendants()
                    .filter(d -> Procs.cmdline(d.pid()).contains("watchdog")).forEach(d -> pids.add(d.pid())));
            return pids;
        } catch (IOException e) {
            return List.of();
        }
    }

    @Override
    public void rejoinFromScratch(int i) throws Exception {
        int l = leader();
        if (l < 0 || l == i) {
            throw new IllegalStateException("rejoin needs a follower and a leader");
        }
        ctl(i, Duration.ofSeconds(120), "stop");
        Procs.terminate(hostProcesses(i), Duration.ofSeconds(30));
        Procs.Result remove = ctl(l, Duration.ofSeconds(120), "remove-node", nodeName(i), "-y");
        if (remove.code() != 0) {
            throw new IllegalStateException("remove-node " + nodeName(i) + ": " + remove.all());
        }
        wipe(i);
        writeConfig(i);
        join(i);
        if (!waitHealthy(Duration.ofSeconds(1800))) {
            throw new IllegalStateException("chef-backend node " + nodeName(i) + " did not rejoin within 30 min");
        }
    }

    /**
     * Replaces lost host i by a new machine with the same address (the failure-recovery guide's "Two-node Failure"):
     * its processes must be gone; its root is wiped, its chef-backend.rb written again, and it joins through node
     * {@code via} with that node's secrets.
     */
    public void rebuildHost(int i, int via) throws IOException {
        if (!hostProcesses(i).isEmpty()) {
            throw new IllegalStateException(nodeName(i) + " still has processes; it is not lost");
        }
        wipe(i);
        writeConfig(i);
        join(i, via, secretsFile(via));
        secrets = null;
    }

    @Override
    public void close() {
        if (haproxy != null) {
            haproxy.close();
            haproxy = null;
        }
        List<Long> all = new ArrayList<>();
        for (int i = 0; i < addresses.size(); i++) {
            all.addAll(hostProcesses(i));
        }
        Procs.terminate(all, Duration.ofSeconds(30));
        for (int i = 0; i < addresses.size(); i++) {
            unmountDataDisk(i);
        }
    }
}
