package org.chefbackend.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.chefbackend.config.Secrets;
import org.chefbackend.testing.TestNode;

/** What the disaster-recovery ITs share: SQL probes, a writer that records acknowledged rows, cluster polls. */
final class RecoveryTestSupport {
    static final ObjectMapper JSON = new ObjectMapper();

    private RecoveryTestSupport() {
    }

    static Connection pg(String address, int port, String password) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "chef_pgsql");
        if (password != null) {
            p.setProperty("password", password);
        }
        p.setProperty("connectTimeout", "5");
        p.setProperty("socketTimeout", "30");
        return DriverManager.getConnection("jdbc:postgresql://" + address + ":" + port + "/postgres", p);
    }

    static Connection pg(TestNode n, Secrets s) throws Exception {
        return pg(n.address, 5432, s.dbSuperuserPassword());
    }

    /** Row count and an md5 over every row of the probe table, in id order: equal only for equal content. */
    static String checksum(Connection c, String table) throws Exception {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select count(*), coalesce(md5("
                + "string_agg(id::text || ':' || payload, ',' order by id)), '-') from " + table)) {
            rs.next();
            return rs.getLong(1) + " rows, md5 " + rs.getString(2);
        }
    }

    static Set<Long> ids(Connection c, String table) throws Exception {
        Set<Long> out = new HashSet<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select id from " + table)) {
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
        }
        return out;
    }

    static JsonNode clusterStatus(TestNode n) {
        try {
            TestNode.Run r = n.ctl("cluster-status", "--json");
            return r.code() == 0 ? JSON.readTree(r.out()) : JSON.createObjectNode();
        } catch (Exception e) {
            return JSON.createObjectNode();
        }
    }

    static int synced(TestNode n) {
        int synced = 0;
        for (JsonNode node : clusterStatus(n).path("nodes")) {
            synced += node.path("pgsql").path("role").asText().equals("synced") ? 1 : 0;
        }
        return synced;
    }

    static JsonNode member(TestNode viewer, String name) {
        for (JsonNode node : clusterStatus(viewer).path("nodes")) {
            if (node.path("name").asText().equals(name)) {
                return node;
            }
        }
        return JSON.createObjectNode();
    }

    static void waitSynced(TestNode n, int followers, Duration limit) {
        if (!TestNode.waitUntil(limit, () -> synced(n) == followers)) {
            throw new AssertionError("not " + followers + " synced followers within " + limit + ":\n" + clusterStatus(n));
        }
    }

    static void run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(command + " hung");
        }
        assertEquals(0, p.exitValue(), command + ": " + out);
    }

    /** Inserts rows one at a time into the leader it is pointed at, remembering the ids whose commit returned. */
    static final class Writer implements AutoCloseable {
        final List<Long> acked = Collections.synchronizedList(new ArrayList<>());
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        Writer(String address, String password, String table, Duration limit) {
            thread = new Thread(() -> {
                long id = 0;
                long end = System.nanoTime() + limit.toNanos();
                while (running.get() && System.nanoTime() < end) {
                    try (Connection c = pg(address, 5432, password); Statement st = c.createStatement()) {
                        while (running.get() && System.nanoTime() < end) {
                            id++;
                            st.executeUpdate("insert into " + table + " values (" + id + ", md5('" + id + "'))");
                            acked.add(id);
                        }
                    } catch (Exception e) {
                        sleep(100);
                    }
                }
            }, "writer");
            thread.setDaemon(true);
            thread.start();
        }

        List<Long> snapshot() {
            synchronized (acked) {
                return new ArrayList<>(acked);
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(30_000);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
