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
 * A real 3-node cluster on 127.0.0.2–4 built as an operator does: create-cluster on the first node, then
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
        int before = etcdMembers(n1).size();
        TestNode.Run wrong = n2.ctl("join-cluster", n1.address, "-s",
                n2.root.resolve("etc/chef-backend/chef-backend-secrets.json").toString(), "-y");
        assertEquals(2, wrong.code(), wrong.out() + wrong.err());
        assertTrue(wrong.err().contains("do not match the cluster"), wrong.err());
        assertEquals(before, etcdMembers(n1).size(), "a refused join changed etcd's membership");
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
        bothJoinersAreAlreadyVotingMembersOfTheSearchCluster();
    }

    TestNode.Run join(TestNode n) {
        try {
            return n.ctl("join-cluster", n1.address, "-s", secrets.toString(), "-y");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Asked at once, no waiting: join-cluster returns only then, so losing the creator now keeps search's quorum. */
    void bothJoinersAreAlreadyVotingMembersOfTheSearchCluster() throws Exception {
        JsonNode config = JSON.readTree(http("http://" + n1.address + ":9200/_cluster/state/metadata"
                + "?filter_path=metadata.cluster_coordination.last_committed_config"));
        assertEquals(3, config.at("/metadata/cluster_coordination/last_committed_config").size(), config.toString());
        for (TestNode n : List.of(n2, n3)) {
            JsonNode health = JSON.readTree(http("http://" + n.address + ":9200/_cluster/health?local=true"));
            assertEquals(3, health.path("number_of_nodes").asInt(), n.address + ": " + health);
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
            assertTrue(m.path("peerURLs").get(0).asText().matches("https://127\\.0\\.0\\.[234]:2380"), m.toString());
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
        assertEquals(2, etcdMembers(n1).size());
        // the frontends' discovery (the agent's copy of etcd's answer) follows within its refresh
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(10), () -> {
            try {
                return v2Members(n1).size() == 2;
            } catch (Exception e) {
                return false;
            }
        }), "the frontends' GET /v2/members still lists the removed node");
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
        assertEquals(3, etcdMembers(n1).size());
    }

    @Test
    @Order(7)
    void joiningTwiceWithoutRecoveryIsRefused() throws Exception {
        TestNode.Run twice = n2.ctl("join-cluster", n1.address, "-s", secrets.toString(), "-y");
        assertEquals(2, twice.code());
        assertTrue(twice.err().contains("already part of a cluster"), twice.err());
    }

    @Test
    @Order(8)
    void searchWithoutAnElectedClusterManagerIsUnhealthyThoughItAnswers() throws Exception {
        TestNode lead = leaderNode();
        String leader = lead.name;
        List<TestNode> followers = List.of(n1, n2, n3).stream().filter(n -> n != lead).toList();
        try {
            for (TestNode f : followers) {
                f.ctlOk("stop", "elasticsearch");
            }
            // the leader's search engine runs and answers HTTP, but two of three are gone: no quorum, no manager
            List<String> last = new ArrayList<>();
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(60), () -> {
                TestNode.Run st = run(lead, "status");
                last.clear();
                last.add(st.code() + " " + st.out() + st.err());
                return st.code() == 1 && st.err().contains("elasticsearch: no elected cluster manager");
            }), "the leader's status did not report its search engine unhealthy: " + last);
            assertTrue(http("http://" + lead.address + ":9200/").contains("\"cluster_name\""), "the fault took effect: "
                    + "the leader's search engine still answers");
            // the followers are ineligible and say why (their search engine is stopped)
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(90), () -> followers.stream().allMatch(f -> {
                JsonNode node = clusterNode(lead, f.name);
                return node != null && !node.path("eligible_for_leader").asBoolean()
                        && node.path("reason").asText().startsWith("search unhealthy (elasticsearch check");
            })), "the followers did not show as ineligible for search: " + clusterStatus(lead));
            assertFalse(clusterNode(lead, lead.name).path("elasticsearch").path("healthy").asBoolean());
            assertEquals(leader, leaderName(), "no follower could take over: the leader stays");
        } finally {
            for (TestNode f : followers) {
                f.ctl("start", "elasticsearch");
            }
        }
        awaitAllHealthy(Duration.ofSeconds(180));
    }

    @Test
    @Order(9)
    void theNodeThatCreatedTheClusterRejoinsTheSearchClusterAfterAStopAndAStart() throws Exception {
        // n1 ran create-cluster; before the search seed hosts came from the live member list it knew only itself and
        // never found the search cluster again
        n1.ctlOk("stop");
        assertTrue(n1.processes().isEmpty(), "the fault took effect: n1 stopped");
        n1.ctlOk("start");
        awaitAllHealthy(Duration.ofSeconds(180));
        JsonNode health = JSON.readTree(http("http://" + n1.address + ":9200/_cluster/health?local=true"));
        assertEquals(3, health.path("number_of_nodes").asInt(), health.toString());
        String seeds = Files.readString(n1.root.resolve("var/opt/chef-backend/elasticsearch/config/unicast_hosts.txt"));
        assertEquals(List.of("127.0.0.2:9300", "127.0.0.3:9300", "127.0.0.4:9300"), seeds.lines().toList());
    }

    @Test
    @Order(10)
    void restartingSearchOnTheLeaderHandsOverFirstInsteadOfFailingOver() throws Exception {
        TestNode lead = leaderNode();
        String leader = lead.name;
        long before = lead.pid("elasticsearch");
        long logStart = Files.size(leaderlLog(lead));
        TestNode.Run restart = lead.ctlOk("restart", "elasticsearch");
        assertTrue(restart.out().contains("ok: handed leadership over to "), restart.out());
        String now = leaderName();
        assertNotEquals(leader, now, "leadership moved before the restart");
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> lead.pid("elasticsearch") != 0
                && lead.pid("elasticsearch") != before), "the fault took effect: a new search engine process");
        awaitAllHealthy(Duration.ofSeconds(180));
        assertEquals(now, leaderName(), "one planned leader change, no failover after it");
        String log = Files.readString(leaderlLog(lead)).substring((int) logStart);
        assertFalse(log.contains("giving up leadership"), log);
    }

    @Test
    @Order(11)
    void aSearchEngineFrozenOnTheLeaderIsNoticedByItsHealthCheckAndTheLeaderHandsOver() throws Exception {
        // not the operator's restart: a search engine that stops answering by itself (SIGSTOP: its port still takes
        // connections, nothing answers), which only the health check sees; the probe's timeouts must not stall
        // leaderl's loop either (the watchdog would then stop the leader's PostgreSQL again and again)
        TestNode lead = leaderNode();
        String leader = lead.name;
        long es = lead.pid("elasticsearch");
        Path pgLog = lead.root.resolve("var/log/chef-backend/postgresql/15/current");
        long pgLogStart = Files.size(pgLog);
        assertEquals(0, new ProcessBuilder("kill", "-STOP", String.valueOf(es)).start().waitFor());
        try {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(10), () -> {
                try {
                    http("http://" + lead.address + ":9200/");
                    return false;
                } catch (Exception e) {
                    return true;
                }
            }), "the fault took effect: the leader's search engine no longer answers");
            List<String> last = new ArrayList<>();
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(120), () -> {
                String now = leaderName();
                last.clear();
                last.add(String.valueOf(now));
                return now != null && !now.equals(leader);
            }), "no hand-over after search froze on the leader: " + last);
            String log = Files.readString(leaderlLog(lead));
            assertTrue(log.contains("search unhealthy (elasticsearch check"), "the reason was not logged");
            // PostgreSQL was stopped once, by the hand-over's fence: never by the watchdog of a stalled loop before it
            String pgSince = Files.readString(pgLog).substring((int) pgLogStart);
            long stops = pgSince.lines().filter(l -> l.contains("received immediate shutdown request")
                    || l.contains("received fast shutdown request")).count();
            assertTrue(stops <= 1, stops + " shutdowns of the leader's PostgreSQL while its search was frozen:\n" + pgSince);
        } finally {
            new ProcessBuilder("kill", "-CONT", String.valueOf(es)).start().waitFor();
        }
        awaitAllHealthy(Duration.ofSeconds(180));
    }

    /** One leader, two synced eligible followers, search green with all three, and status 0 on every node. */
    void awaitAllHealthy(Duration limit) {
        List<String> last = new ArrayList<>();
        boolean ok = TestNode.waitUntil(limit, () -> {
            last.clear();
            for (TestNode n : List.of(n1, n2, n3)) {
                TestNode.Run st = run(n, "status");
                if (st.code() != 0) {
                    last.add(n.address + " status " + st.code() + ": " + st.err());
                }
            }
            JsonNode view = clusterStatus(n2);
            if (view == null) {
                last.add("no cluster-status");
                return false;
            }
            for (JsonNode node : view.path("nodes")) {
                boolean leader = node.path("role").asText().equals("leader");
                if (!leader && (!node.path("pgsql").path("role").asText().equals("synced")
                        || !node.path("eligible_for_leader").asBoolean())) {
                    last.add(node.path("name").asText() + " " + node.path("pgsql").path("role").asText() + " "
                            + node.path("reason").asText());
                }
                JsonNode es = node.path("elasticsearch");
                if (!es.path("healthy").asBoolean() || es.path("nodes").asInt() != 3
                        || !es.path("status").asText().equals("green")) {
                    last.add(node.path("name").asText() + " search " + es);
                }
            }
            return last.isEmpty();
        });
        assertTrue(ok, "not healthy within " + limit.toSeconds() + " s: " + last);
    }

    TestNode leaderNode() {
        String leader = leaderName();
        return List.of(n1, n2, n3).stream().filter(n -> n.name.equals(leader)).findFirst().orElseThrow();
    }

    String leaderName() {
        JsonNode view = clusterStatus(n2);
        return view == null ? null : view.at("/cluster/leader").asText(null);
    }

    static JsonNode clusterNode(TestNode via, String name) {
        JsonNode view = clusterStatus(via);
        if (view != null) {
            for (JsonNode node : view.path("nodes")) {
                if (node.path("name").asText().equals(name)) {
                    return node;
                }
            }
        }
        return null;
    }

    static JsonNode clusterStatus(TestNode via) {
        try {
            TestNode.Run r = via.ctl("cluster-status", "--json");
            return r.code() == 0 ? JSON.readTree(r.out()) : null;
        } catch (Exception e) {
            return null;
        }
    }

    static TestNode.Run run(TestNode n, String... args) {
        try {
            return n.ctl(args);
        } catch (Exception e) {
            return new TestNode.Run(-1, "", e.toString());
        }
    }

    static Path leaderlLog(TestNode n) {
        return n.root.resolve("var/log/chef-backend/leaderl/current");
    }

    static String http(String url) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), url + ": " + r.body());
        return r.body();
    }

    /** etcd's own member list, read as the node's agent reads it (not the frontends' copy). */
    static JsonNode etcdMembers(TestNode n) throws Exception {
        String body = n.etcdGet("/v2/members");
        assertFalse(body.isEmpty(), "etcd on " + n.address + " did not answer");
        return JSON.readTree(body).path("members");
    }

    /** The members as Chef Server frontends read them: plain GET :2379/v2/members. */
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
