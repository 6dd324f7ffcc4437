package org.chefbackend.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.chefbackend.system.FileTrees;

/**
 * Patroni (Debian's package) on the same parts as chef-backend: 3 etcd members (same version, same heartbeat and
 * election timeout), 3 Patroni nodes each with its own PostgreSQL 15 data directory, run as the unprivileged
 * {@code chef_pgsql} through setpriv, REST API on :8008 of each address, and HAProxy checking {@code /primary}.
 * The leader TTL is the one chef-backend is given; loop_wait and retry_timeout are scaled to it within Patroni's rule
 * {@code loop_wait + 2 × retry_timeout ≤ ttl}. Every process is found by its node root and ended by pid.
 */
public final class PatroniCluster implements HaCluster {
    public static final String PG_USER = "chef_pgsql";
    public static final String ETCD_USER = "chef-backend";
    static final String PG_BIN = "/usr/lib/postgresql/15/bin";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;
    private final List<String> addresses;
    private final String proxyAddress;
    private final int ttl;
    private final int heartbeatMs;
    private final int electionMs;
    private final Map<String, String> pgParameters;
    private final boolean synchronous;
    private final String password = hex(24);
    private final String replPassword = hex(24);
    private final String token = hex(8);
    private Haproxy haproxy;

    /**
     * @param pgParameters PostgreSQL parameters both systems run with (chef-backend's rendered postgresql.conf)
     */
    public PatroniCluster(Path root, List<String> addresses, String proxyAddress, int ttlSeconds, int heartbeatMs,
            int electionMs, Map<String, String> pgParameters, boolean synchronous) {
        this.root = root;
        this.addresses = List.copyOf(addresses);
        this.proxyAddress = proxyAddress;
        this.ttl = ttlSeconds;
        this.heartbeatMs = heartbeatMs;
        this.electionMs = electionMs;
        this.pgParameters = new LinkedHashMap<>(pgParameters);
        this.pgParameters.remove("port");
        this.synchronous = synchronous;
    }

    /** loop_wait and retry_timeout for a TTL: loop_wait = ttl/5 (≥ 1), retry_timeout = (ttl − loop_wait)/2 (≥ 3). */
    public static int[] timings(int ttl) {
        int loopWait = Math.max(1, ttl / 5);
        int retry = Math.max(3, (ttl - loopWait) / 2);
        return new int[] {loopWait, retry};
    }

    @Override
    public String system() {
        return "Patroni";
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
        return PG_USER;
    }

    @Override
    public String password() {
        return password;
    }

    @Override
    public String replicationUser() {
        return "replicator";
    }

    @Override
    public String replicationPassword() {
        return replPassword;
    }

    @Override
    public String nodeName(int i) {
        return "p" + (i + 1);
    }

    Path nodeRoot(int i) {
        return root.resolve("n" + (i + 1));
    }

    Path config(int i) {
        return nodeRoot(i).resolve("patroni.yml");
    }

    @Override
    public void coldStart() throws Exception {
        close();
        FileTrees.deleteTree(root);
        Files.createDirectories(root);
        Procs.run(Duration.ofSeconds(10), "chmod", "755", root.getParent().toString(), root.toString());
        for (int i = 0; i < addresses.size(); i++) {
            Path n = nodeRoot(i);
            Files.createDirectories(n.resolve("etcd"));
            Files.createDirectories(n.resolve("run"));
            Files.writeString(config(i), yaml(i));
            Procs.chownR(n, PG_USER);
            Procs.chownR(n.resolve("etcd"), ETCD_USER);
            Procs.run(Duration.ofSeconds(10), "chmod", "700", n.resolve("etcd").toString());
        }
        for (int i = 0; i < addresses.size(); i++) {
            startEtcd(i);
        }
        for (int i = 0; i < addresses.size(); i++) {
            startPatroni(i);
        }
        List<String> servers = addresses;
        haproxy = Haproxy.start(root.resolve("haproxy"), proxyAddress, servers, 8008, "/primary");
        if (!waitHealthy(Duration.ofSeconds(180))) {
            throw new IllegalStateException("Patroni cluster not healthy within 180 s; logs under " + root);
        }
    }

    void startEtcd(int i) throws IOException {
        String a = addresses.get(i);
        String cluster = new ArrayList<>(addresses).stream()
                .map(x -> "e" + (addresses.indexOf(x) + 1) + "=http://" + x + ":2380").collect(Collectors.joining(","));
        List<String> cmd = Procs.as(ETCD_USER, "etcd", "--name=e" + (i + 1), "--data-dir=" + nodeRoot(i).resolve("etcd"),
                "--listen-client-urls=http://" + a + ":2379", "--advertise-client-urls=http://" + a + ":2379",
                "--listen-peer-urls=http://" + a + ":2380", "--initial-advertise-peer-urls=http://" + a + ":2380",
                "--initial-cluster=" + cluster, "--initial-cluster-state=new", "--initial-cluster-token=" + token,
                "--heartbeat-interval=" + heartbeatMs, "--election-timeout=" + electionMs, "--pre-vote=true",
                "--enable-v2=true", "--auto-compaction-mode=periodic", "--auto-compaction-retention=1h");
        Procs.spawn(cmd, nodeRoot(i).resolve("log/etcd.log"), Map.of());
    }

    void startPatroni(int i) throws IOException {
        Procs.spawn(Procs.as(PG_USER, "patroni", config(i).toString()), log(i),
                Map.of("HOME", nodeRoot(i).toString()));
    }

    String yaml(int i) {
        String a = addresses.get(i);
        Path n = nodeRoot(i);
        int[] t = timings(ttl);
        StringBuilder y = new StringBuilder();
        y.append("scope: bench\nnamespace: /service/\nname: ").append(nodeName(i)).append('\n');
        y.append("restapi:\n  listen: ").append(a).append(":8008\n  connect_address: ").append(a).append(":8008\n");
        y.append("etcd3:\n  hosts: ").append(addresses.stream().map(x -> x + ":2379").collect(Collectors.joining(",")))
                .append('\n');
        y.append("bootstrap:\n  dcs:\n    ttl: ").append(ttl).append("\n    loop_wait: ").append(t[0])
                .append("\n    retry_timeout: ").append(t[1])
                .append("\n    maximum_lag_on_failover: 52428800\n    synchronous_mode: ").append(synchronous)
                .append("\n    postgresql:\n      use_pg_rewind: true\n      use_slots: true\n      parameters:\n");
        pgParameters.forEach((k, v) -> y.append("        ").append(k).append(": '").append(v.replace("'", "''")).append("'\n"));
        y.append("  initdb:\n  - encoding: UTF8\n  - locale: C.UTF-8\n");
        y.append("  pg_hba:\n  - local all all trust\n  - host replication replicator 127.0.0.0/8 scram-sha-256\n")
                .append("  - host all all 127.0.0.0/8 scram-sha-256\n");
        y.append("postgresql:\n  listen: ").append(a).append(":5432\n  connect_address: ").append(a).append(":5432\n")
                .append("  data_dir: ").append(n.resolve("data")).append('\n')
                .append("  bin_dir: ").append(PG_BIN).append('\n')
                .append("  pgpass: ").append(n.resolve("pgpass")).append('\n')
                .append("  authentication:\n    superuser:\n      username: ").append(PG_USER)
                .append("\n      password: ").append(password)
                .append("\n    replication:\n      username: replicator\n      password: ").append(replPassword).append('\n')
                .append("  parameters:\n    unix_socket_directories: '").append(n.resolve("run")).append("'\n");
        y.append("watchdog:\n  mode: off\n");
        y.append("tags:\n  nofailover: false\n  noloadbalance: false\n  clonefrom: false\n  nosync: false\n");
        return y.toString();
    }

    @Override
    public boolean healthy() {
        int l = leader();
        if (l < 0) {
            return false;
        }
        String body = Procs.httpGet("http://" + addresses.get(l) + ":8008/cluster");
        if (body == null) {
            return false;
        }
        try {
            JsonNode members = JSON.readTree(body).path("members");
            int leaders = 0;
            int replicas = 0;
            for (JsonNode m : members) {
                String role = m.path("role").asText();
                boolean running = m.path("state").asText().matches("running|streaming");
                if (role.equals("leader") && running) {
                    leaders++;
                } else if ((role.equals("replica") || role.equals("sync_standby")) && running
                        && m.path("lag").isNumber() && m.path("lag").asLong() <= 52428800L) {
                    replicas++;
                }
            }
            return leaders == 1 && replicas == addresses.size() - 1
                    && streaming(addresses.get(l)) == addresses.size() - 1;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public int leader() {
        for (int i = 0; i < addresses.size(); i++) {
            if (Procs.httpStatus("http://" + addresses.get(i) + ":8008/primary") == 200) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public String etcdGet(int i, String path) {
        return Procs.httpGet("http://" + addresses.get(i) + ":2379" + path);
    }

    @Override
    public List<Long> hostProcesses(int i) {
        return Procs.under(nodeRoot(i));
    }

    @Override
    public void restartHost(int i) throws IOException {
        Procs.waitUntil(Duration.ofSeconds(10), () -> hostProcesses(i).isEmpty());
        startEtcd(i);
        startPatroni(i);
    }

    Path log(int i) {
        return nodeRoot(i).resolve("log/patroni.log");
    }

    /** The size of host i's Patroni log (appended to across restarts): what the restart logs is read from there. */
    @Override
    public long rejoinMark(int i) {
        try {
            return Files.exists(log(i)) ? Files.size(log(i)) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    @Override
    public String rejoinPath(int i, long mark) {
        try {
            byte[] all = Files.readAllBytes(log(i));
            int from = (int) Math.min(Math.max(mark, 0), all.length);
            return rejoinPath(new String(all, from, all.length - from, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * How Patroni (3.0, patroni/postgresql/rewind.py and bootstrap.py) logs a rejoin: "replica has been created using
     * …" after a new copy (basebackup); "running pg_rewind from …", then "pg_rewind exit code=0" (rewind; another exit
     * code: "rewind failed"); none of these: it followed as it was ("none"). Read only once the node streams.
     */
    static String rejoinPath(String log) {
        if (log.contains("replica has been created using")) {
            return "basebackup";
        }
        if (log.contains("pg_rewind exit code=0")) {
            return "rewind";
        }
        return log.contains("running pg_rewind from") ? "rewind failed" : "none";
    }

    @Override
    public Procs.Result switchover(int candidate) {
        return Procs.run(Duration.ofSeconds(120), "patronictl", "-c", config(0).toString(), "switchover",
                "--candidate", nodeName(candidate), "--force");
    }

    @Override
    public Procs.Result statusCommand() {
        return Procs.run(Duration.ofSeconds(60), "patronictl", "-c", config(0).toString(), "list");
    }

    @Override
    public List<Long> agentProcesses(int i) {
        String cfg = config(i).toString();
        return Procs.matching(c -> c.contains("patroni") && c.contains(cfg)).stream()
                .filter(pid -> !Procs.cmdline(pid).startsWith("setpriv") && Procs.cmdline(pid).contains("python"))
                .toList();
    }

    @Override
    public void rejoinFromScratch(int i) throws Exception {
        String cfg = config(i).toString();
        // stop this node's Patroni (it stops its PostgreSQL), keep its etcd member; then wipe the data directory
        List<Long> patroni = Procs.matching(c -> c.contains(cfg));
        Procs.terminate(patroni, Duration.ofSeconds(60));
        Path data = nodeRoot(i).resolve("data");
        Procs.terminate(Procs.matching(c -> c.contains(data.toString())), Duration.ofSeconds(30));
        FileTrees.deleteTree(data);
        startPatroni(i);
        if (!waitHealthy(Duration.ofSeconds(1800))) {
            throw new IllegalStateException("Patroni node " + nodeName(i) + " did not rejoin within 30 min");
        }
    }

    /** Patroni's leader TTL as it runs (from the DCS /config), for checking the harness really set it. */
    public int runningTtl() {
        int l = Math.max(0, leader());
        String body = Procs.httpGet("http://" + addresses.get(l) + ":8008/config");
        try {
            return body == null ? -1 : JSON.readTree(body).path("ttl").asInt(-1);
        } catch (IOException e) {
            return -1;
        }
    }

    public boolean setSynchronous(boolean on) {
        Procs.Result r = Procs.run(Duration.ofSeconds(60), "patronictl", "-c", config(0).toString(), "edit-config",
                "--force", "-s", "synchronous_mode=" + on);
        return r.code() == 0;
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
        Procs.terminate(all, Duration.ofSeconds(15));
    }

    static String hex(int bytes) {
        byte[] b = new byte[bytes];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
