package org.chefbackend.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.dcs.ClusterStore;
import org.chefbackend.etcd.EtcdAccess;
import org.chefbackend.system.FileTrees;
import org.chefbackend.testing.TestCluster;
import org.chefbackend.testing.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * An open cluster, made by the last version before the cluster CA (built from this repository's history), is
 * upgraded the way docs/SECURITY.md says: each node restarted on this build, then {@code secure-cluster} (once to make
 * the CA, the secrets file copied, once more to close). The openness is shown first (a stranger's write succeeds:
 * the negative control), and after the upgrade the same write is refused, the frontends' member list still answers,
 * replication verifies its server, and every row written before, during and after is on every node.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecureClusterIT {
    /** The last commit whose create-cluster made clusters without a CA (open), as every earlier one did. */
    static final String LAST_OPEN_VERSION = "8ee01f313a38d1b46ab56ade6b50855c6a12ce80";
    static final List<String> ADDRESSES = List.of("127.0.0.150", "127.0.0.151", "127.0.0.152");
    static final String STRANGER = "127.0.0.153";
    static final Path BASE = Path.of("/tmp/cbit-upgrade");
    static final ObjectMapper JSON = new ObjectMapper();
    TestCluster cluster;

    @BeforeAll
    void openClusterOfThePreviousVersion() throws Exception {
        Path dist = buildPreviousVersion();
        cluster = TestCluster.create(ADDRESSES, BASE.resolve("nodes"), null,
                n -> n.withEnvironment(Map.of("CHEF_BACKEND_DIST", dist.toString())),
                "elasticsearch.heap_size = 384");
    }

    @AfterAll
    void destroy() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The previous version's distribution, built offline from the repository's history. */
    static Path buildPreviousVersion() throws Exception {
        Path src = BASE.resolve("previous");
        FileTrees.deleteTree(src);
        Files.createDirectories(src);
        run(BASE, "bash", "-c", "git -C " + TestNode.REPO + " archive " + LAST_OPEN_VERSION + " | tar -x -C " + src);
        run(src, "mvn", "-B", "-q", "-o", "-DskipTests", "package", "-pl", "product", "-am");
        Path dist = src.resolve("product/target/dist");
        assertTrue(Files.exists(dist.resolve("lib/chef-backend.jar")), "no previous build at " + dist);
        return dist;
    }

    @Test
    void anOpenClusterIsClosedInPlaceWithNothingLost() throws Exception {
        TestNode first = cluster.nodes.get(0);
        // the negative control: the cluster is open, so a stranger writes into its keys
        assertEquals("200", strangersPut(first.address, "x"), "the previous version's cluster is not open");
        Set<Long> before = writeRows(cluster.leader().orElseThrow(), 20);

        // the package upgrade: each node restarted on this build, the leader last
        List<TestNode> order = new ArrayList<>(cluster.nodes);
        TestNode leader = cluster.leader().orElseThrow();
        order.remove(leader);
        order.add(leader);
        for (TestNode n : order) {
            n.ctlOk("stop");
            n.withEnvironment(Map.of());
            n.ctlOk("start");
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(180), () -> cluster.leader().isPresent()
                    && cluster.synced(cluster.leader().get()) == ADDRESSES.size() - 1), n.name + " did not come back");
        }
        TestNode.Run status = first.ctl("status");
        assertTrue(status.err().contains("this cluster is open"), status.err());

        // secure-cluster: the CA, the file copied as for join-cluster, then the steps
        TestNode.Run make = first.ctlOk("secure-cluster", "-y");
        assertTrue(make.out().contains("copy"), make.out());
        Path secrets = first.root.resolve("etc/chef-backend/chef-backend-secrets.json");
        for (TestNode n : cluster.nodes.subList(1, ADDRESSES.size())) {
            Files.copy(secrets, n.root.resolve("etc/chef-backend/chef-backend-secrets.json"),
                    StandardCopyOption.REPLACE_EXISTING);
        }
        TestNode.Run close = first.ctlOk("secure-cluster", "-y");
        assertTrue(close.out().contains("closed to strangers"), close.out());
        System.out.println("secure-cluster:\n" + close.out());

        for (TestNode n : cluster.nodes) {
            assertEquals("closed", n.status().orElseThrow().path("security").asText(), n.name);
            assertTrue(n.ctl("status").err().lines().noneMatch(l -> l.contains("open")), n.name);
        }
        // closed to the stranger: on 2379 only the agent's member discovery answers (404 for the rest); etcd's client
        // port takes no client without a certificate from the cluster CA; the frontends' discovery still answers,
        // with https peers at the nodes' addresses
        assertEquals("404", strangersPut(first.address, "y"), "a stranger's write after secure-cluster");
        Process tls = new ProcessBuilder("curl", "-sS", "-k", "--max-time", "5", "--interface", STRANGER, "-X", "POST",
                "https://" + first.address + ":2378/v3/kv/put", "-d", "{}").redirectErrorStream(true).start();
        String said = new String(tls.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(tls.waitFor(30, TimeUnit.SECONDS) && tls.exitValue() != 0 && !said.contains("{"),
                "a stranger got past etcd's handshake: " + said);
        EtcdAccess access = EtcdAccess.of(SecretsFile.load(secrets), first.certificateFiles());
        try (ClusterStore store = access.keys(List.of(access.url(first.address, 2378)), "/chef-backend/",
                Duration.ofSeconds(5))) {
            assertEquals("x", store.get("stranger-probe").orElseThrow().value(), "the stranger's write landed");
        }
        JsonNode members = JSON.readTree(run(BASE, "curl", "-sS", "--max-time", "5", "--interface", STRANGER,
                "http://" + first.address + ":2379/v2/members"));
        assertEquals(ADDRESSES.size(), members.path("members").size(), members.toString());
        for (JsonNode m : members.path("members")) {
            String peer = m.path("peerURLs").path(0).asText();
            assertTrue(peer.startsWith("https://") && ADDRESSES.contains(URI.create(peer).getHost()), peer);
        }
        TestNode now = cluster.leader().orElseThrow();
        for (TestNode n : cluster.nodes) {
            if (n != now) {
                try (Connection c = cluster.pg(n); Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("select conninfo from pg_stat_wal_receiver")) {
                    assertTrue(rs.next(), n.name + " does not stream");
                    assertTrue(rs.getString(1).contains("sslmode=verify-full"), rs.getString(1));
                }
            }
        }
        Set<Long> after = writeRows(now, 5);
        for (TestNode n : cluster.nodes) {
            Set<Long> all = new HashSet<>(before);
            all.addAll(after);
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> {
                try {
                    return cluster.ids(n, "upgrade_rows").containsAll(all);
                } catch (Exception e) {
                    return false;
                }
            }), n.name + " lacks rows");
        }
        assertEquals(1, cluster.maxLeaders(), "two nodes answered 200 on /leader in the same sweep");
    }

    /** A stranger's v3 put of a key under /chef-backend/, from its own address, without credentials: the HTTP status. */
    static String strangersPut(String address, String value) throws Exception {
        String key = Base64.getEncoder().encodeToString("/chef-backend/stranger-probe".getBytes(StandardCharsets.UTF_8));
        return run(BASE, "curl", "-sS", "--max-time", "5", "--interface", STRANGER, "-o", "/dev/null", "-w",
                "%{http_code}", "-X", "POST", "http://" + address + ":2379/v3/kv/put", "-d",
                "{\"key\":\"" + key + "\",\"value\":\"" + Base64.getEncoder().encodeToString(
                        value.getBytes(StandardCharsets.UTF_8)) + "\"}").strip();
    }

    Set<Long> writeRows(TestNode leader, int n) throws Exception {
        Set<Long> ids = new HashSet<>();
        try (Connection c = cluster.pg(leader); Statement st = c.createStatement()) {
            st.execute("create table if not exists upgrade_rows (id serial primary key)");
            for (int i = 0; i < n; i++) {
                try (ResultSet rs = st.executeQuery("insert into upgrade_rows default values returning id")) {
                    rs.next();
                    ids.add(rs.getLong(1));
                }
            }
        }
        return ids;
    }

    static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(15, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", command) + " failed: " + new String(out, StandardCharsets.UTF_8));
        }
        return new String(out, StandardCharsets.UTF_8);
    }
}
