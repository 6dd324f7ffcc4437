package org.chefbackend.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.testing.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A real 3-node cluster on 127.0.0.2–4 built as seed 001 describes: create-cluster on the first node, then
 * join-cluster on the other two — launched at the same moment, which the cluster must serialize.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterLifecycleIT {
    static final ObjectMapper JSON = new ObjectMapper();
    TestNode n1;
    TestNode n2;
    TestNode n3;
    Path secrets;

    @BeforeAll
    void createCluster() throws Exception {
        n1 = TestNode.create("127.0.0.2", Path.of("/tmp/cbit/c1"), TestNode.secrets());
        n2 = TestNode.create("127.0.0.3", Path.of("/tmp/cbit/c2"), TestNode.secrets());
        n3 = TestNode.create("127.0.0.4", Path.of("/tmp/cbit/c3"), TestNode.secrets());
        TestNode.Run create = n1.ctl("create-cluster", "-y");
        assertEquals(0, create.code(), create.out() + create.err());
        assertTrue(create.out().contains("is its leader"), create.out());
        secrets = n1.root.resolve("etc/chef-backend/chef-backend-secrets.json");
    }

    @AfterAll
    void destroy() {
        for (TestNode n : new TestNode[] {n1, n2, n3}) {
            if (n != null) {
                n.destroy();
            }
        }
    }

    @Test
    @Order(1)
    void joinsWithWrongSecretsOrNoClusterAreRefusedWithNothingChanged() throws Exception {
        int before = v2Members(n1).size();
        TestNode.Run wrong = n2.ctl("join-cluster", n1.address, "-s",
                n2.root.resolve("etc/chef-backend/chef-backend-secrets.json").toString(), "-y");
        assertEquals(2, wrong.code(), wrong.out() + wrong.err());
        assertTrue(wrong.err().contains("do not match the cluster"), wrong.err());
        assertEquals(before, v2Members(n1).size(), "a refused join changed etcd's membership");
        assertTrue(n2.processes().isEmpty());

        TestNode.Run noCluster = n2.ctl("join-cluster", "127.0.0.9", "-s", secrets.toString(), "-y");
        assertNotEquals(0, noCluster.code());
        assertTrue(noCluster.err().contains("no chef-backend agent answers at http://127.0.0.9:7331"), noCluster.err());

        TestNode.Run foreign = n2.ctl("join-cluster", n1.address, "-s", secrets.toString(), "-y",
                "--publish-address", "10.255.255.1");
        assertEquals(2, foreign.code());
        assertTrue(foreign.err().contains("already set"), foreign.err()); // chef-backend.rb has publish_address
    }

    @Test
    @Order(2)
    void twoJoinsAtTheSameMomentBothSucceed() throws Exception {
        CompletableFuture<TestNode.Run> j2 = CompletableFuture.supplyAsync(() -> join(n2));
        CompletableFuture<TestNode.Run> j3 = CompletableFuture.supplyAsync(() -> join(n3));
        TestNode.Run r2 = j2.join();
        TestNode.Run r3 = j3.join();
        assertEquals(0, r2.code(), r2.out() + r2.err());
        assertEquals(0, r3.code(), r3.out() + r3.err());
        assertTrue(r2.out().contains("Waiting: another node") || r3.out().contains("Waiting: another node"),
                "the second join did not wait for the first:\n" + r2.out() + "\n" + r3.out());
    }

    TestNode.Run join(TestNode n) {
        try {
            return n.ctl("join-cluster", n1.address, "-s", secrets.toString(), "-y");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    @Order(3)
    void everyNodeSeesAHealthyThreeNodeCluster() throws Exception {
        for (TestNode n : List.of(n1, n2, n3)) {
            List<String> last = new ArrayList<>();
            boolean ok = TestNode.waitUntil(Duration.ofSeconds(120), () -> {
                try {
                    TestNode.Run s = n.ctl("status");
                    last.clear();
                    last.add(s.out());
                    return s.out().contains("health: green; healthy nodes: 3/3")
                            && s.out().contains("leader: 1; offline: 0; syncing: 0; synced: 2")
                            && s.out().contains("state: green; nodes online: 3/3")
                            && s.out().contains("leader: 1; waiting: 0; follower: 2; total: 3");
                } catch (Exception e) {
                    return false;
                }
            });
            assertTrue(ok, n.address + " status:\n" + last);
        }
        TestNode.Run cs = n2.ctl("cluster-status");
        assertEquals(0, cs.code(), cs.err());
        assertTrue(cs.out().lines().anyMatch(l -> l.startsWith(n1.name + " ") && l.contains(" leader ")), cs.out());
        JsonNode json = JSON.readTree(n3.ctl("cluster-status", "--json").out());
        assertEquals(n1.name, json.at("/cluster/leader").asText());
        assertEquals(3, json.path("nodes").size());
        for (JsonNode node : json.path("nodes")) {
            assertTrue(node.path("guid").asText().matches("[0-9a-f]{32}"));
            assertFalse(node.path("pgsql").path("partially_synced").asBoolean());
        }
    }

    @Test
    @Order(4)
    void aRowWrittenOnTheLeaderIsReadOnBothFollowers() throws Exception {
        Secrets s = SecretsFile.load(secrets);
        try (Connection c = pg(n1, s); Statement st = c.createStatement()) {
            st.execute("create table if not exists lifecycle_probe (id int primary key, note text)");
            st.execute("insert into lifecycle_probe values (1, 'written on the leader')");
        }
        for (TestNode f : List.of(n2, n3)) {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(10), () -> {
                try (Connection c = pg(f, s); Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery("select note from lifecycle_probe where id = 1")) {
                    return rs.next() && rs.getString(1).equals("written on the leader");
                } catch (Exception e) {
                    return false;
                }
            }), "row not replicated to " + f.address);
        }
    }

    @Test
    @Order(5)
    void etcdAnswersV2MembersInTheShapeChefFrontendsRead() throws Exception {
        JsonNode members = v2Members(n2);
        assertEquals(3, members.size());
        for (JsonNode m : members) {
            assertTrue(m.path("name").asText().matches("[0-9a-f]{32}"), m.toString());
            assertTrue(m.path("peerURLs").get(0).asText().matches("http://127\\.0\\.0\\.[234]:2380"), m.toString());
        }
        TestNode.Run gen = n1.ctl("gen-server-config", "fe1.example.com");
        assertTrue(gen.out().contains("chef_backend_members [\"127.0.0.2\", \"127.0.0.3\", \"127.0.0.4\"]"), gen.out());
    }

    @Test
    @Order(6)
    void removeCleanseAndRecoveryJoinReturnTheNodeToSynced() throws Exception {
        TestNode.Run refused = n1.ctl("remove-node", n3.name, "-y");
        assertNotEquals(0, refused.code());
        assertTrue(refused.err().contains("still runs"), refused.err());

        assertEquals(0, n3.ctl("stop").code());
        TestNode.Run remove = n1.ctl("remove-node", n3.name, "-y");
        assertEquals(0, remove.code(), remove.out() + remove.err());
        assertTrue(remove.out().contains("excluded " + n3.name + " from search cluster-manager voting"), remove.out());
        assertTrue(remove.out().contains("dropped replication slot"), remove.out());
        assertEquals(2, v2Members(n1).size());
        assertEquals(2, JSON.readTree(n1.ctl("cluster-status", "--json").out()).path("nodes").size());

        TestNode.Run cleanse = n3.ctl("cleanse", "-y");
        assertEquals(0, cleanse.code(), cleanse.out() + cleanse.err());
        assertFalse(Files.exists(n3.root.resolve("var/opt/chef-backend")));
        Path saved;
        try (Stream<Path> dirs = Files.list(n3.root.resolve("root"))) {
            saved = dirs.filter(p -> p.getFileName().toString().startsWith("chef-backend-cleanse-")).findFirst().orElseThrow();
        }
        // the runbook: restore the saved configuration, then join with --recovery
        Files.createDirectories(n3.root.resolve("etc/chef-backend"));
        Files.copy(saved.resolve("chef-backend.rb"), n3.configFile());
        TestNode.Run again = n3.ctl("join-cluster", n1.address, "-s", secrets.toString(), "--recovery", "-y");
        assertEquals(0, again.code(), again.out() + again.err());
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(120), () -> {
            try {
                JsonNode view = JSON.readTree(n1.ctl("cluster-status", "--json").out());
                for (JsonNode node : view.path("nodes")) {
                    if (node.path("name").asText().equals(n3.name)) {
                        return node.path("pgsql").path("role").asText().equals("synced");
                    }
                }
                return false;
            } catch (Exception e) {
                return false;
            }
        }), "the recovered node did not return to synced");
        assertEquals(3, v2Members(n1).size());
    }

    @Test
    @Order(7)
    void joiningTwiceWithoutRecoveryIsRefused() throws Exception {
        TestNode.Run twice = n2.ctl("join-cluster", n1.address, "-s", secrets.toString(), "-y");
        assertEquals(2, twice.code());
        assertTrue(twice.err().contains("already part of a cluster"), twice.err());
    }

    static JsonNode v2Members(TestNode n) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://" + n.address + ":2379/v2/members")).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body()).path("members");
    }

    static Connection pg(TestNode n, Secrets s) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "chef_pgsql");
        p.setProperty("password", s.dbSuperuserPassword());
        p.setProperty("connectTimeout", "5");
        return DriverManager.getConnection("jdbc:postgresql://" + n.address + ":5432/postgres", p);
    }
}
