package org.chefbackend.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.chefbackend.system.FileTrees;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The benchmark's Patroni harness on real parts: 3 etcd + 3 Patroni (Debian packages) + HAProxy on /primary. It
 * elects one leader reachable through HAProxy, runs with the TTL it was given, and fails over after a host crash.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PatroniClusterIT {
    static final Path REPO = Path.of(System.getProperty("chefbackend.repo", "..")).toAbsolutePath();
    static final int TTL = 10;
    PatroniCluster cluster;
    int firstLeader = -1;

    @BeforeAll
    void start() throws Exception {
        Map<String, String> params = new ChefBackendCluster(REPO, Path.of("/tmp/cbit-i8/it-cb"),
                List.of("127.0.0.71", "127.0.0.72", "127.0.0.73"), "127.0.0.70",
                ChefBackendCluster.settings(TTL, 100, 1000, false)).renderedPostgresParameters();
        cluster = new PatroniCluster(Path.of("/tmp/cbit-i8/it-patroni"),
                List.of("127.0.0.81", "127.0.0.82", "127.0.0.83"), "127.0.0.80", TTL, 100, 1000, params, false);
        cluster.coldStart();
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
            for (int i = 0; i < 3; i++) {
                assertTrue(cluster.hostProcesses(i).isEmpty(), "left running: " + cluster.hostProcesses(i));
            }
        }
        FileTrees.deleteTree(Path.of("/tmp/cbit-i8/it-cb"));
    }

    String serverThroughProxy() throws SQLException {
        try (Connection c = cluster.connect(cluster.proxy(), 2, 5); Statement st = c.createStatement()) {
            st.execute("create table if not exists it_probe (id serial primary key)");
            st.execute("insert into it_probe default values");
            try (ResultSet rs = st.executeQuery("select host(inet_server_addr())")) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    boolean writes(String host) {
        try (Connection c = cluster.connect(host, 2, 5); Statement st = c.createStatement()) {
            st.execute("insert into it_probe default values");
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    @Test
    @Order(1)
    void oneLeaderTakesWritesThroughHaproxyWithTheGivenTtl() throws Exception {
        firstLeader = cluster.leader();
        assertTrue(firstLeader >= 0, "no node answers 200 on /primary");
        assertEquals(cluster.addresses().get(firstLeader), serverThroughProxy());
        int leaders = 0;
        for (int i = 0; i < 3; i++) {
            leaders += Procs.httpStatus("http://" + cluster.addresses().get(i) + ":8008/primary") == 200 ? 1 : 0;
        }
        assertEquals(1, leaders);
        int replica = (firstLeader + 1) % 3;
        assertFalse(writes(cluster.addresses().get(replica)), "a replica took a write");
        assertEquals(TTL, cluster.runningTtl());
        assertEquals(2, cluster.streaming(cluster.addresses().get(firstLeader)));
        assertEquals(0, cluster.statusCommand().code());
        assertFalse(cluster.agentProcesses(firstLeader).isEmpty(), "Patroni's process not found");
    }

    @Test
    @Order(2)
    void aCrashedLeaderHostIsReplacedAndHaproxyFollows() throws Exception {
        int old = cluster.leader();
        String oldAddress = cluster.addresses().get(old);
        List<Long> pids = cluster.hostProcesses(old);
        assertTrue(pids.size() >= 3, "expected etcd, patroni and postgres processes, found " + pids);
        double t0 = Procs.now();
        Procs.kill9(pids);
        // the crash took effect: nothing of that host lives or answers
        assertTrue(Procs.waitUntil(Duration.ofSeconds(10), () -> pids.stream().noneMatch(Procs::alive)
                && !Procs.open(oldAddress, 5432) && !Procs.open(oldAddress, 8008) && !Procs.open(oldAddress, 2379)));
        String[] now = new String[1];
        assertTrue(Procs.waitUntil(Duration.ofSeconds(90), () -> {
            try {
                now[0] = serverThroughProxy();
                return true;
            } catch (SQLException e) {
                return false;
            }
        }), "no write through HAProxy within 90 s of the crash");
        System.out.printf("Patroni crash failover (ttl %d): write through HAProxy after %.1f s on %s%n", TTL,
                Procs.now() - t0, now[0]);
        assertNotEquals(oldAddress, now[0]);
        assertEquals(now[0], cluster.addresses().get(cluster.leader()));

        cluster.restartHost(old);
        assertTrue(cluster.waitHealthy(Duration.ofSeconds(120)), "the crashed host did not rejoin as a replica");
        assertFalse(writes(oldAddress), "the old leader took a write after rejoining");
    }
}
