package org.chefbackend.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.chefbackend.node.NodeAgent;
import org.chefbackend.testing.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Two real nodes side by side on 127.0.0.2 and 127.0.0.3, each supervising real PostgreSQL, etcd and OpenSearch,
 * driven through bin/chef-backend-ctl. The tests share the nodes and run in order; the last ones kill and stop.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeRuntimeIT {
    static final List<String> SERVICES = List.of("elasticsearch", "etcd", "leaderl", "postgresql");
    TestNode n1;
    TestNode n2;

    @BeforeAll
    void startNodes() throws Exception {
        n1 = TestNode.create("127.0.0.2", Path.of("/tmp/cbit/n1"), TestNode.secrets(), "leaderl.start_down = false");
        n2 = TestNode.create("127.0.0.3", Path.of("/tmp/cbit/n2"), TestNode.secrets(), "leaderl.start_down = false");
        for (TestNode n : List.of(n1, n2)) {
            TestNode.Run start = n.ctl("start");
            assertEquals(0, start.code(), start.out() + start.err());
            for (String s : SERVICES) {
                assertTrue(start.out().contains("ok: run: " + s + ": (pid "), start.out());
            }
        }
        for (TestNode n : List.of(n1, n2)) {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(180), () -> n.status()
                    .map(s -> s.path("elasticsearch").path("healthy").asBoolean()
                            && s.path("postgresql").path("accepting").asBoolean()
                            && s.path("etcd").path("healthy").asBoolean()).orElse(false)),
                    "services of " + n.address + " did not become healthy: " + n.status());
        }
    }

    @AfterAll
    void destroyNodes() {
        for (TestNode n : new TestNode[] {n1, n2}) {
            if (n != null) {
                n.destroy();
            }
        }
    }

    @Test
    @Order(1)
    void statusShowsAllFourServicesRunning() throws Exception {
        TestNode.Run r = n1.ctl("status");
        assertEquals(0, r.code(), r.out() + r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals("Service        Local Status        Time in State  Distributed Node Status", lines.get(0));
        for (int i = 0; i < SERVICES.size(); i++) {
            String line = lines.get(i + 1);
            assertTrue(line.matches(SERVICES.get(i) + " +running \\(pid \\d+\\) +\\d+d \\d+h \\d+m \\d+s +\\S.*"), line);
        }
        assertTrue(r.out().contains("health: green; healthy nodes: 1/1"), r.out());
        assertTrue(r.out().contains("state: green; nodes online: 1/1"), r.out());
        assertTrue(lines.contains(""), "no System section: " + r.out());
        assertTrue(r.out().contains("disks   /var/log/chef-backend: OK; /var/opt/chef-backend: OK"), r.out());

        TestNode.Run simple = n1.ctl("status", "--simple");
        assertEquals(0, simple.code());
        assertTrue(simple.out().lines().allMatch(l -> l.matches("run: \\S+: \\(pid \\d+\\) \\d+s")), simple.out());
    }

    @Test
    @Order(2)
    void servicesRunAsTheirUsersAndListenOnlyOnTheNodeAddress() throws Exception {
        assertEquals("chef_pgsql", ProcUtil.user(n1.pid("postgresql")));
        assertEquals("chef-backend", ProcUtil.user(n1.pid("etcd")));
        assertEquals("chef-backend", ProcUtil.user(n1.pid("elasticsearch")));
        long agentPid = n1.status().orElseThrow().path("agent").path("pid").asLong();
        assertEquals(agentPid, n1.pid("leaderl"), "leaderl's pid is the agent's");
        List<String> listeners = ProcUtil.listeners().stream()
                .map(l -> l.replace("[::ffff:", "").replace("]", "")).toList();
        for (int port : new int[] {5432, 2379, 2380, 9200, 9300, 7331}) {
            assertTrue(listeners.contains("127.0.0.2:" + port), port + " not on 127.0.0.2: " + listeners);
            assertTrue(listeners.contains("127.0.0.3:" + port), port + " not on 127.0.0.3: " + listeners);
            assertFalse(listeners.contains("0.0.0.0:" + port), port + " bound to every address: " + listeners);
        }
        assertTrue(Files.exists(n1.root.resolve("var/opt/chef-backend/postgresql/run/.s.PGSQL.5432")));
        assertTrue(Files.exists(n2.root.resolve("var/opt/chef-backend/postgresql/run/.s.PGSQL.5432")));
    }

    @Test
    @Order(3)
    void serviceListMarksEnabledServices() throws Exception {
        TestNode.Run r = n1.ctl("service-list");
        assertEquals(0, r.code());
        assertEquals("elasticsearch*\netcd*\nleaderl*\npostgresql*\n", r.out());
    }

    @Test
    @Order(4)
    void killedPostmasterIsRestartedWithANewPid() {
        long before = n1.pid("postgresql");
        assertTrue(before > 0);
        ProcUtil.kill9(before);
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(10), () -> {
            long now = n1.pid("postgresql");
            return now != 0 && now != before;
        }), "postgresql not running again with a new pid within 10 s");
        assertTrue(n1.service("postgresql").orElseThrow().path("restarts").asInt() >= 1);
    }

    @Test
    @Order(5)
    void noStartPgsqlSentinelKeepsPostgresqlDown() throws Exception {
        Path sentinel = n1.root.resolve("var/opt/chef-backend/leaderl/data/no-start-pgsql");
        Files.writeString(sentinel, "");
        long before = n1.pid("postgresql");
        ProcUtil.kill9(before);
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(5), () -> n1.pid("postgresql") == 0));
        // five back-off periods pass; it must stay down all along
        assertFalse(TestNode.waitUntil(Duration.ofSeconds(8), () -> n1.pid("postgresql") != 0),
                "postgresql came back despite no-start-pgsql");
        assertTrue(n1.service("postgresql").orElseThrow().path("reason").asText().contains("no-start-pgsql"));
        TestNode.Run refused = n1.ctl("start", "postgresql");
        assertNotEquals(0, refused.code(), "start must not override the sentinel");
        assertTrue(refused.out().contains("no-start-pgsql"), refused.out());

        Files.delete(sentinel);
        TestNode.Run restart = n1.ctl("restart", "postgresql");
        assertEquals(0, restart.code(), restart.out() + restart.err());
        assertTrue(restart.out().startsWith("ok: run: postgresql: (pid "), restart.out());
    }

    @Test
    @Order(6)
    void stoppedEtcdStaysDownWhileTheRestRuns() throws Exception {
        long pg = n1.pid("postgresql");
        long es = n1.pid("elasticsearch");
        TestNode.Run stop = n1.ctl("stop", "etcd");
        assertEquals(0, stop.code(), stop.out() + stop.err());
        assertTrue(stop.out().startsWith("ok: down: etcd: "), stop.out());
        assertFalse(TestNode.waitUntil(Duration.ofSeconds(5), () -> n1.pid("etcd") != 0), "etcd came back");
        assertEquals(pg, n1.pid("postgresql"));
        assertEquals(es, n1.pid("elasticsearch"));
        TestNode.Run status = n1.ctl("status", "etcd", "--simple");
        assertEquals(0, status.code(), "a service the operator stopped is as it should be");
        assertTrue(status.out().matches("down: etcd: \\d+s, normally down\\n"), status.out());

        TestNode.Run start = n1.ctl("start", "etcd");
        assertEquals(0, start.code(), start.out() + start.err());
        assertTrue(n1.pid("etcd") > 0);
    }

    @Test
    @Order(7)
    void secondNodeRunsSideBySide() throws Exception {
        TestNode.Run r = n2.ctl("status");
        assertEquals(0, r.code(), r.out() + r.err());
        for (String s : SERVICES) {
            assertTrue(n2.pid(s) > 0, s);
            if (!s.equals("leaderl")) {
                assertNotEquals(n1.pid(s), n2.pid(s), s);
            }
        }
        assertEquals("n-127-0-0-3", n2.status().orElseThrow().path("node").path("name").asText());
    }

    @Test
    @Order(8)
    void reconfigureReloadsANewPgHbaEntryWithoutRestart() throws Exception {
        long pg = n1.pid("postgresql");
        long es = n1.pid("elasticsearch");
        Files.writeString(n1.configFile(), Files.readString(n1.configFile())
                + "postgresql.md5_auth_cidr_addresses = [\"samehost\", \"samenet\", \"10.9.8.0/24\"]\n");
        TestNode.Run r = n1.ctl("reconfigure");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("ok: postgresql: reloaded"), r.out());
        assertTrue(r.out().contains("ok: elasticsearch: unchanged"), r.out());
        String hba = Files.readString(n1.root.resolve("var/opt/chef-backend/postgresql/15/data/pg_hba.conf"));
        assertTrue(hba.contains("10.9.8.0/24"), hba);
        assertEquals(pg, n1.pid("postgresql"));
        assertEquals(es, n1.pid("elasticsearch"));

        String good = Files.readString(n1.configFile());
        Files.writeString(n1.configFile(), good + "postgresql.port = 'nope'\n");
        TestNode.Run bad = n1.ctl("reconfigure");
        assertEquals(2, bad.code());
        assertEquals(1, bad.err().lines().count(), bad.err());
        assertTrue(bad.err().contains("chef-backend.rb:"), bad.err());
        assertEquals(pg, n1.pid("postgresql"));
        Files.writeString(n1.configFile(), good);
    }

    @Test
    @Order(9)
    void everyServiceLogsToItsCurrentFile() throws Exception {
        for (String dir : new String[] {"postgresql/15", "etcd", "elasticsearch", "leaderl"}) {
            Path current = n1.root.resolve("var/log/chef-backend/" + dir + "/current");
            assertTrue(Files.size(current) > 0, current + " is empty");
        }
        TestNode.Run tail = n1.ctl("tail", "leaderl", "-n", "3", "--no-follow");
        assertEquals(0, tail.code(), tail.err());
        assertEquals(3, tail.out().lines().count(), tail.out());
    }

    @Test
    @Order(10)
    void killedAgentLeavesNoOrphanOrDuplicateAfterStart() throws Exception {
        long agent = n1.pid("leaderl");
        Map<String, Long> children = Map.of("postgresql", n1.pid("postgresql"), "etcd", n1.pid("etcd"),
                "elasticsearch", n1.pid("elasticsearch"));
        ProcUtil.kill9(agent);
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(5), () -> !ProcUtil.alive(agent)));
        // the fault took effect: the agent is gone, its children are orphans still running
        children.values().forEach(pid -> assertTrue(ProcUtil.alive(pid), "child " + pid + " died with the agent"));

        TestNode.Run start = n1.ctl("start");
        assertEquals(0, start.code(), start.out() + start.err());
        children.forEach((s, pid) -> assertFalse(ProcUtil.alive(pid), s + " orphan " + pid + " survived"));
        for (String s : children.keySet()) {
            long now = n1.pid(s);
            assertTrue(now > 0 && now != children.get(s), s);
        }
        assertEquals(1, ProcUtil.count(n1.processes(), "bin/postgres -D " + n1.root));
        assertEquals(1, ProcUtil.count(n1.processes(), "etcd --name"));
        assertEquals(1, ProcUtil.count(n1.processes(), "org.opensearch.bootstrap.OpenSearch"));
        assertEquals(1, ProcUtil.count(n1.processes(), "org.chefbackend.node.NodeAgent"));
    }

    @Test
    @Order(11)
    void stopLeavesNothingOfTheNodeRunning() throws Exception {
        TestNode.Run stop = n1.ctl("stop");
        assertEquals(0, stop.code(), stop.out() + stop.err());
        List<Long> left = new ArrayList<>();
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> {
            left.clear();
            left.addAll(n1.processes());
            return left.isEmpty();
        }), "still running after stop: " + ProcUtil.describe(left));
        assertEquals(3, n1.ctl("status").code());
        // the other node was not touched
        assertTrue(n2.pid("postgresql") > 0);
    }
}
