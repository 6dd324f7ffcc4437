package org.chefbackend.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.chefbackend.testing.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The per-service options of chef-backend.rb (runit's in the original), each changed from its default, reach what
 * runs: enable, environment, log_directory, log_rotation.*, leaderl.start_down.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServiceOptionsIT {
    TestNode node;

    @BeforeAll
    void start() throws Exception {
        node = TestNode.create("127.0.0.6", Path.of("/tmp/cbit/opts"), TestNode.secrets(),
                "elasticsearch.enable = false",
                "etcd.environment = { 'GOGC' => 75, 'CHEF_BACKEND_TEST' => 'etcd-env' }",
                "postgresql.environment = { 'PGTZ' => 'UTC', 'CHEF_BACKEND_TEST' => 'pg-env' }",
                "etcd.log_directory = '/var/log/custom/etcd'",
                "etcd.log_rotation.file_maxbytes = 1024",
                "etcd.log_rotation.num_to_keep = 2");
        TestNode.Run r = node.ctl("start");
        assertEquals(0, r.code(), r.out() + r.err());
    }

    @AfterAll
    void destroy() {
        if (node != null) {
            node.destroy();
        }
    }

    @Test
    @Order(1)
    void disabledServiceDoesNotRun() throws Exception {
        assertEquals(0, node.pid("elasticsearch"));
        assertEquals(0, ProcUtil.count(node.processes(), "org.opensearch.bootstrap.OpenSearch"));
        TestNode.Run list = node.ctl("service-list");
        assertEquals("elasticsearch\netcd*\nleaderl*\npostgresql*\n", list.out());
        TestNode.Run status = node.ctl("status", "elasticsearch");
        assertTrue(status.out().contains("elasticsearch  disabled"), status.out());
        TestNode.Run start = node.ctl("start", "elasticsearch");
        assertEquals(2, start.code());
        assertTrue(start.err().contains("elasticsearch.enable is false"), start.err());
        TestNode.Run cs = node.ctl("cluster-status");
        assertEquals(1, cs.code(), "cluster-status on a node outside any cluster must fail");
        assertTrue(cs.err().contains("not part of a cluster"), cs.err());
    }

    @Test
    @Order(2)
    void environmentReachesTheProcess() throws Exception {
        String etcdEnv = environ(node.pid("etcd"));
        assertTrue(etcdEnv.contains("\0GOGC=75\0") || etcdEnv.startsWith("GOGC=75\0"), etcdEnv);
        assertTrue(etcdEnv.contains("CHEF_BACKEND_TEST=etcd-env"), etcdEnv);
        String pgEnv = environ(node.pid("postgresql"));
        assertTrue(pgEnv.contains("CHEF_BACKEND_TEST=pg-env"), pgEnv);
        assertFalse(pgEnv.contains("etcd-env"));
    }

    @Test
    @Order(3)
    void logDirectoryAndRotationAreHonoured() throws Exception {
        Path dir = node.root.resolve("var/log/custom/etcd");
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(20), () -> rotated(dir).size() == 2),
                "etcd's log did not rotate into 2 kept files: " + rotated(dir));
        assertTrue(Files.size(dir.resolve("current")) <= 1024);
        for (Path p : rotated(dir)) {
            assertTrue(Files.size(p) <= 1024 || Files.readAllLines(p).size() == 1, p.toString());
        }
        assertFalse(Files.exists(node.root.resolve("var/log/chef-backend/etcd/current")));
    }

    @Test
    @Order(4)
    void leaderlStaysDownUntilTheNodeIsInACluster() throws Exception {
        TestNode.Run simple = node.ctl("status", "leaderl", "--simple");
        assertTrue(simple.out().matches("down: leaderl: \\d+s, normally down\\n"), simple.out());
        // cluster commands record membership; a restarted member runs leaderl by itself
        Files.writeString(node.root.resolve("var/opt/chef-backend/leaderl/data/cluster.json"), "{}");
        assertEquals(0, node.ctl("stop").code());
        TestNode.Run start = node.ctl("start");
        assertEquals(0, start.code(), start.out() + start.err());
        assertTrue(start.out().contains("ok: run: leaderl: (pid "), start.out());
    }

    static List<Path> rotated(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith("@")).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    static String environ(long pid) throws Exception {
        return new String(Files.readAllBytes(Path.of("/proc", String.valueOf(pid), "environ")));
    }
}
