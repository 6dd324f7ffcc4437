package org.chefbackend.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.chefbackend.agent.ProcessIdentity;
import org.chefbackend.system.FileTrees;
import org.chefbackend.testing.DemoLogs;
import org.chefbackend.testing.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * What a Chef Infra Server frontend does, for real, through a real HAProxy in front of 3 real nodes, all built by
 * {@code chef-backend-ctl demo up}: the HAProxy configuration gen-haproxy-config prints, the superuser bootstrap of
 * the opscode_chef database, the search calls erchef makes, then a crash of the leader under a client's writes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(FrontendIT.KeepLogsOnFailure.class)
class FrontendIT {
    /** A failed test keeps the nodes' logs in /tmp/cbit-i6/failed-logs, since demo down removes the work dir. */
    static final class KeepLogsOnFailure implements TestWatcher {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            try {
                keepLogs();
            } catch (IOException | InterruptedException e) {
                System.out.println("could not keep the logs: " + e);
            }
        }
    }

    static final ObjectMapper JSON = new ObjectMapper();
    static final Path REPO = Path.of(System.getProperty("chefbackend.repo", "..")).toAbsolutePath();
    static final Path DIR = Path.of("/tmp/cbit-i6/frontend");
    static final String FRONTEND = "127.0.0.30";
    static final List<String> ADDRESSES = List.of("127.0.0.31", "127.0.0.32", "127.0.0.33");
    /** Not covered by md5_auth_cidr_addresses below: the negative control of the frontend's pg_hba entry. */
    static final String STRANGER = "127.0.0.38";
    /**
     * Synchronous replication, for zero loss of acknowledged writes on failover: the elected node is the standby
     * every commit waited for.
     */
    static final List<String> SYNCHRONOUS_MODE = List.of("leaderl.synchronous_mode true");
    /**
     * A short lease so a crash fails over in seconds (TTL ≥ 3 × etcd election timeout); etcd's timing a little
     * less tight than FailoverIT's, as this test shares a loaded 2-core machine with three search engines.
     */
    static final List<String> FAST = List.of("etcd.heartbeat_interval = 250", "etcd.election_timeout = 2500",
            "leaderl.leader_ttl_seconds = 8", "leaderl.health_check.interval_seconds = 1",
            "leaderl.status_post_update_interval_seconds = 2", "elasticsearch.heap_size = 384",
            // the frontend reaches PostgreSQL through HAProxy, which connects from this machine's own address
            // (127.0.0.1): "samehost" admits it; "samenet" (all of 127/8) is left out for the negative control
            "postgresql.md5_auth_cidr_addresses = [\"samehost\"]");

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    final List<TestNode> nodes = new ArrayList<>();
    String superuserPassword;
    final String chefPassword = "opscode-chef-" + Long.toHexString(System.nanoTime());
    long haproxyPid;
    long haproxyStartTicks;

    record Run(int code, String out, String err, double seconds) {
    }

    static Run ctl(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(REPO.resolve("bin/chef-backend-ctl").toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("ctl", ".out");
        Path err = Files.createTempFile("ctl", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().remove("CHEF_BACKEND_ROOT");
            pb.environment().putAll(env);
            long t0 = System.nanoTime();
            Process p = pb.start();
            if (!p.waitFor(600, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("chef-backend-ctl " + String.join(" ", args) + " hung");
            }
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err), (System.nanoTime() - t0) / 1e9);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static Run demo(String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("demo"));
        argv.addAll(List.of(args));
        argv.add("--dir");
        argv.add(DIR.toString());
        return ctl(Map.of(), argv.toArray(String[]::new));
    }

    @BeforeAll
    void up() throws Exception {
        for (int i = 0; i < ADDRESSES.size(); i++) {
            nodes.add(TestNode.existing(ADDRESSES.get(i), DIR.resolve("node" + (i + 1)),
                    "backend-" + ADDRESSES.get(i).replace('.', '-')));
        }
        destroyEverything(); // a previous run that died half-way
        FileTrees.deleteTree(DIR);
        List<String> args = new ArrayList<>(List.of("up", "--nodes", String.join(",", ADDRESSES), "--listen", FRONTEND,
                "--postgresql-port", "5432", "--elasticsearch-port", "9200"));
        for (String line : concat(FAST, SYNCHRONOUS_MODE)) {
            args.add("--config-line");
            args.add(line);
        }
        Run up = demo(args.toArray(String[]::new));
        if (up.code() != 0) {
            keepLogs();
        }
        System.out.printf("demo up (3 nodes + HAProxy, warm build): %.1f s%n", up.seconds());
        assertEquals(0, up.code(), up.out() + up.err());
        assertTrue(up.out().contains("demo: up in "), up.out());
        JsonNode state = JSON.readTree(DIR.resolve("demo.json").toFile());
        haproxyPid = state.at("/haproxy/pid").asLong();
        haproxyStartTicks = state.at("/haproxy/start_ticks").asLong();
        superuserPassword = JSON.readTree(nodes.get(0).root.resolve("etc/chef-backend/chef-backend-secrets.json")
                .toFile()).at("/postgresql/db_superuser_password").asText();
        assertTrue(up.out().contains("PGPASSWORD=" + superuserPassword + " psql -h " + FRONTEND + " -p 5432 -U chef_pgsql"),
                up.out());
        assertTrue(up.out().contains("curl http://" + FRONTEND + ":9200/"), up.out());
        assertTrue(up.out().contains("backend-127-0-0-31  127.0.0.31"), "no cluster-status in: " + up.out());
    }

    /** The nodes' logs, copied where demo down does not remove them, for a failure's diagnosis. */
    static void keepLogs() throws IOException, InterruptedException {
        DemoLogs.keep(DIR, Path.of("/tmp/cbit-i6/failed-logs"));
    }

    @AfterAll
    void down() throws Exception {
        if (Files.exists(DIR.resolve("demo.json"))) {
            Run down = demo("down");
            System.out.println("demo down (cleanup): exit " + down.code() + " " + down.err());
        }
        destroyEverything();
    }

    /** Ends whatever is left, by pid: HAProxy as recorded, every process of the node roots. */
    void destroyEverything() {
        try {
            JsonNode state = JSON.readTree(DIR.resolve("demo.json").toFile());
            ProcessIdentity h = new ProcessIdentity(state.at("/haproxy/pid").asLong(), state.at("/haproxy/start_ticks").asLong());
            if (h.pid() > 0 && h.isAlive()) {
                ProcessHandle.of(h.pid()).ifPresent(ProcessHandle::destroyForcibly);
            }
        } catch (IOException e) {
            // no state: nothing recorded
        }
        nodes.forEach(TestNode::destroy);
    }

    // ------------------------------------------------------------------------------------------------------ 1

    @Test
    @Order(1)
    void haproxyShowsExactlyOneUpServerPerBackendTheLeader() throws Exception {
        String leaderGuid = guidOf(leader().address);
        HaproxyStats stats = HaproxyStats.query(socket());
        assertEquals(Optional.of(leaderGuid), stats.singleActive(List.of(HaproxyConfig.POSTGRESQL_BACKEND,
                HaproxyConfig.ELASTICSEARCH_BACKEND)), stats.upByBackend().toString());
        assertEquals(6, stats.servers().size(), stats.servers().toString());

        Run status = demo("status");
        assertEquals(0, status.code(), status.out() + status.err());
        assertTrue(status.out().contains(HaproxyConfig.POSTGRESQL_BACKEND + ": UP [" + leaderGuid), status.out());

        Run again = demo("up", "--nodes", String.join(",", ADDRESSES), "--listen", FRONTEND);
        assertEquals(1, again.code(), again.out() + again.err());
        assertEquals(1, again.err().lines().count(), again.err());
        assertTrue(again.err().contains("a demo already exists in " + DIR), again.err());
        assertTrue(new ProcessIdentity(haproxyPid, haproxyStartTicks).isAlive(), "demo up on a demo touched HAProxy");
    }

    @Test
    @Order(2)
    void genHaproxyConfigIsValidListsEveryMemberAndIsWhatTheDemoRuns() throws Exception {
        Path file = DIR.resolve("gen-haproxy.cfg");
        Path sock = DIR.resolve("gen-haproxy.sock");
        Run gen = ctl(Map.of("CHEF_BACKEND_ROOT", nodes.get(1).root.toString()), "gen-haproxy-config", "--listen",
                FRONTEND, "--postgresql-port", "5432", "--elasticsearch-port", "9200", "--stats-socket", sock.toString(),
                "-f", file.toString());
        assertEquals(0, gen.code(), gen.err());
        assertEquals("", gen.err());
        String cfg = Files.readString(file);
        for (TestNode n : nodes) {
            String guid = guidOf(n.address);
            assertTrue(cfg.contains("server " + guid + " " + n.address + ":5432 check port 7331\n"), cfg);
            assertTrue(cfg.contains("server " + guid + " " + n.address + ":9200 check port 7331\n"), cfg);
        }
        Process check = new ProcessBuilder("haproxy", "-c", "-f", file.toString()).redirectErrorStream(true).start();
        String checked = new String(check.getInputStream().readAllBytes());
        assertTrue(check.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, check.exitValue(), checked);
        // the demo's HAProxy runs the very same configuration, but for its stats socket
        String running = Files.readString(DIR.resolve("haproxy/haproxy.cfg"));
        assertEquals(cfg.replace(sock.toString(), "SOCKET"), running.replace(socket().toString(), "SOCKET"));
        // and haproxy -c does refuse a broken one (the check above can fail)
        Path broken = DIR.resolve("broken.cfg");
        Files.writeString(broken, cfg.replace("mode tcp", "mode tcpp"));
        Process bad = new ProcessBuilder("haproxy", "-c", "-f", broken.toString()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(bad.waitFor(30, TimeUnit.SECONDS));
        assertNotEquals(0, bad.exitValue());
    }

    @Test
    @Order(3)
    void genServerConfigOnAnyMemberListsTheLiveClusterAndTheSuperuserPassword() throws Exception {
        Run gen = ctl(Map.of("CHEF_BACKEND_ROOT", nodes.get(2).root.toString()), "gen-server-config", "fe1.example.com");
        assertEquals(0, gen.code(), gen.err());
        assertEquals("", gen.err());
        assertTrue(gen.out().contains("chef_backend_members [\"127.0.0.31\", \"127.0.0.32\", \"127.0.0.33\"]\n"), gen.out());
        assertTrue(gen.out().contains("haproxy['remote_postgresql_port'] = 5432\n"), gen.out());
        assertTrue(gen.out().contains("haproxy['remote_elasticsearch_port'] = 9200\n"), gen.out());
        Matcher m = Pattern.compile("postgresql\\['db_superuser_password'\\] = '([0-9a-f]+)'").matcher(gen.out());
        assertTrue(m.find(), gen.out());
        assertEquals(superuserPassword, m.group(1));
        assertTrue(gen.out().contains("postgresql['db_superuser'] = 'chef_pgsql'\n"), gen.out());
    }

    // ------------------------------------------------------------------------------------------------------ 2

    @Test
    @Order(4)
    void theFirstFrontendBootstrapsOpscodeChefAsTheSuperuserThroughHaproxy() throws Exception {
        TestNode leader = leader();
        try (Connection c = pg(FRONTEND, "postgres", "chef_pgsql", superuserPassword, null);
                Statement st = c.createStatement()) {
            st.execute("CREATE ROLE opscode_chef LOGIN PASSWORD '" + chefPassword + "'");
            st.execute("CREATE ROLE opscode_chef_ro LOGIN PASSWORD '" + chefPassword + "-ro'");
            st.execute("CREATE DATABASE opscode_chef OWNER opscode_chef");
            st.execute("GRANT CONNECT ON DATABASE opscode_chef TO opscode_chef_ro");
            try (ResultSet rs = st.executeQuery("select host(inet_server_addr()), host(inet_client_addr()), pg_is_in_recovery()")) {
                rs.next();
                assertEquals(leader.address, rs.getString(1), "HAProxy did not forward to the leader");
                assertEquals("127.0.0.1", rs.getString(2), "HAProxy's connections come from the frontend's own address");
                assertFalse(rs.getBoolean(3));
            }
        }
        try (Connection c = pg(FRONTEND, "opscode_chef", "opscode_chef", chefPassword, null);
                Statement st = c.createStatement()) {
            st.execute("CREATE TABLE frontend_rows (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())");
            st.execute("GRANT SELECT ON frontend_rows TO opscode_chef_ro");
        }
        try (Connection c = pg(FRONTEND, "opscode_chef", "opscode_chef_ro", chefPassword + "-ro", null);
                Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select count(*) from frontend_rows")) {
            rs.next();
            assertEquals(0, rs.getLong(1));
        }
        // negative control: md5_auth_cidr_addresses (here "samehost") is what admits the frontend; a client from an
        // address it does not cover is refused by pg_hba.conf, with the right password, straight at the leader
        SQLException refused = assertThrows(SQLException.class,
                () -> pg(leader.address, "postgres", "chef_pgsql", superuserPassword, STRANGER).close());
        assertTrue(refused.getMessage().contains("no pg_hba.conf entry for host \"" + STRANGER + "\""), refused.getMessage());
        pg(leader.address, "postgres", "chef_pgsql", superuserPassword, "127.0.0.1").close();
    }

    @Test
    @Order(5)
    void theSearchCallsOfChefServerWorkThroughHaproxy() throws Exception {
        JsonNode root = JSON.readTree(search("GET", "/", null, 200));
        assertTrue(root.at("/version/number").asText().startsWith("7."), root.toString());
        search("GET", "/chef", null, 404);
        String index = """
                {"settings": {"analysis": {"analyzer": {"default": {"type": "whitespace"}}},
                              "number_of_shards": 5, "number_of_replicas": 1},
                 "mappings": {"_source": {"enabled": false},
                   "properties": {
                     "X_CHEF_database_CHEF_X": {"type": "keyword", "index": true, "norms": false},
                     "X_CHEF_type_CHEF_X": {"type": "keyword", "index": true, "norms": false},
                     "X_CHEF_id_CHEF_X": {"type": "keyword", "index": true, "norms": false},
                     "data_bag": {"type": "keyword", "index": true, "norms": false},
                     "content": {"type": "text", "index": true}}}}""";
        assertTrue(JSON.readTree(search("PUT", "/chef", index, 200)).path("acknowledged").asBoolean());
        search("GET", "/chef", null, 200);
        StringBuilder bulk = new StringBuilder();
        for (String[] doc : new String[][] {{"a1", "role", "name__=__web"}, {"a2", "role", "name__=__db"},
            {"n1", "node", "name__=__web01 recipes__=__nginx"}}) {
            bulk.append(bulkIndex(doc[0], "chef_org1", doc[1], doc[2]));
        }
        JsonNode b = JSON.readTree(search("POST", "/_bulk", bulk.toString(), 200));
        assertFalse(b.path("errors").asBoolean(), b.toString());
        search("POST", "/_refresh", null, 200);
        assertEquals(List.of("a1"), searchIds("content:name__=__web*", "chef_org1", "role"));
        assertEquals(List.of("a1", "a2"), searchIds("*:*", "chef_org1", "role"));
        assertEquals(List.of("n1"), searchIds("content:recipes__=__nginx", "chef_org1", "node"));
        JsonNode deleted = JSON.readTree(search("POST", "/chef/_delete_by_query",
                "{\"query\":{\"query_string\":{\"query\":\"X_CHEF_database_CHEF_X:chef_org1 AND X_CHEF_type_CHEF_X:role\"}}}",
                200));
        assertEquals(2, deleted.path("deleted").asInt(), deleted.toString());
        search("POST", "/_refresh", null, 200);
        assertEquals(List.of(), searchIds("*:*", "chef_org1", "role"));
        assertEquals(List.of("n1"), searchIds("*:*", "chef_org1", "node"));
    }

    // ------------------------------------------------------------------------------------------------------ 3

    /** One acknowledged write: its id and when the acknowledgement arrived. */
    record Ack(long id, long nanos) {
    }

    @Test
    @Order(6)
    void aClientWritingThroughHaproxyGoesOnAfterTheLeaderIsKilledAndLosesNothing() throws Exception {
        TestNode old = leader();
        crashed = old;
        String oldGuid = guidOf(old.address);
        List<Ack> rows = Collections.synchronizedList(new ArrayList<>());
        Set<Long> docs = Collections.synchronizedSet(new HashSet<>());
        AtomicInteger failures = new AtomicInteger();
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread writer = new Thread(() -> write(rows, docs, failures, writing), "frontend-client");
        writer.start();
        try {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(60), () -> rows.size() >= 30 && docs.size() >= 30),
                    "the client did not write through HAProxy: " + rows.size() + " rows, " + docs.size() + " documents, "
                    + failures.get() + " failures: " + errors);
            System.out.println("before the kill: " + rows.size() + " rows, " + docs.size() + " documents, errors: " + errors);
            List<Long> pids = old.processes();
            assertFalse(pids.isEmpty());
            long killedAt = System.nanoTime();
            pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            // the crash took effect: nothing of the old leader answers
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(5),
                    () -> !open(old.address, 5432) && !open(old.address, 7331) && !open(old.address, 9200)));
            int atKill = rows.size();
            TestNode next = leader();
            assertNotEquals(old, next);
            System.out.printf("new leader %s answers 200 on /leader %.1f s after the kill%n", next.address,
                    (System.nanoTime() - killedAt) / 1e9);
            String nextGuid = guidOf(next.address);
            List<String> backends = List.of(HaproxyConfig.POSTGRESQL_BACKEND, HaproxyConfig.ELASTICSEARCH_BACKEND);
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> {
                try {
                    return HaproxyStats.query(socket()).singleActive(backends).equals(Optional.of(nextGuid));
                } catch (IOException e) {
                    return false;
                }
            }), "HAProxy did not move to the new leader: " + HaproxyStats.query(socket()).servers());
            System.out.printf("HAProxy shows the new leader UP %.1f s after the kill%n", (System.nanoTime() - killedAt) / 1e9);
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(60), () -> rows.size() >= atKill + 30),
                    "the client did not go on writing through HAProxy after the kill: " + errors + "; HAProxy: "
                    + HaproxyStats.query(socket()).servers());
            System.out.println("errors seen by the client: " + errors);
            writing.set(false);
            writer.join(30_000);

            assertEquals(next, leader(), "leadership moved again during the test");
            HaproxyStats stats = HaproxyStats.query(socket());
            assertEquals(Optional.of(guidOf(next.address)), stats.singleActive(List.of(HaproxyConfig.POSTGRESQL_BACKEND,
                    HaproxyConfig.ELASTICSEARCH_BACKEND)), stats.upByBackend().toString());
            assertFalse(stats.upByBackend().values().stream().anyMatch(l -> l.contains(oldGuid)));

            List<Ack> acked;
            synchronized (rows) {
                acked = new ArrayList<>(rows);
            }
            long lastBefore = acked.stream().mapToLong(Ack::nanos).filter(t -> t < killedAt).max().orElseThrow();
            long firstAfter = acked.stream().mapToLong(Ack::nanos).filter(t -> t > killedAt).min().orElseThrow();
            System.out.printf("failover through HAProxy (%s mode, TTL 8 s): client-visible write gap %.1f s "
                    + "(last acknowledged write %.2f s before the kill, first %.1f s after); %d rows, %d failed attempts%n",
                    SYNCHRONOUS_MODE.isEmpty() ? "asynchronous" : "synchronous", (firstAfter - lastBefore) / 1e9,
                    (killedAt - lastBefore) / 1e9, (firstAfter - killedAt) / 1e9, acked.size(), failures.get());
            // the client really saw the failover: writes failed in between
            assertTrue(failures.get() > 0, "no write failed: the kill did not reach the client");

            // every acknowledged row is on the new leader: synchronous mode's guarantee (SynchronousModeIT has the
            // negative control that loses rows in asynchronous mode)
            Set<Long> present = new HashSet<>();
            try (Connection c = pg(FRONTEND, "opscode_chef", "opscode_chef", chefPassword, null);
                    Statement st = c.createStatement()) {
                try (ResultSet rs = st.executeQuery("select host(inet_server_addr())")) {
                    rs.next();
                    assertEquals(next.address, rs.getString(1), "HAProxy did not move to the new leader");
                }
                try (ResultSet rs = st.executeQuery("select id from frontend_rows")) {
                    while (rs.next()) {
                        present.add(rs.getLong(1));
                    }
                }
            }
            List<Long> lost = missing(acked.stream().map(Ack::id).toList(), present);
            System.out.printf("failover: %d acknowledged rows, %d lost%n", acked.size(), lost.size());
            assertEquals(List.of(), lost, "acknowledged rows lost in the failover");
            // negative control: the check does see a row that is not there
            assertEquals(List.of(-1L), missing(List.of(-1L), present));

            // search answers through HAProxy, from the new leader, with every acknowledged document
            search("POST", "/_refresh", null, 200);
            Set<String> found = new HashSet<>(searchIds("*:*", "chef_e2e", "node", 10_000));
            List<Long> lostDocs = docs.stream().filter(id -> !found.contains("row" + id)).sorted().toList();
            System.out.printf("failover: %d acknowledged documents, %d not found%n", docs.size(), lostDocs.size());
            assertEquals(List.of(), lostDocs, "acknowledged documents not found after the failover");
        } finally {
            writing.set(false);
            writer.join(30_000);
        }
    }

    /** Why writes failed: the first line of each distinct error, counted. */
    final Map<String, Integer> errors = Collections.synchronizedMap(new TreeMap<>());

    void failed(AtomicInteger failures, Throwable e) {
        failures.incrementAndGet();
        String m = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
        errors.merge(e.getClass().getSimpleName() + ": " + (m.length() > 120 ? m.substring(0, 120) : m), 1, Integer::sum);
    }

    /**
     * A frontend's write loop: one row, then its document, as erchef writes an object to the database and then to
     * the index; on a database error it reconnects and goes on. Bounded in time.
     */
    void write(List<Ack> rows, Set<Long> docs, AtomicInteger failures, AtomicBoolean writing) {
        long end = System.nanoTime() + Duration.ofSeconds(240).toNanos();
        long id = 0;
        Connection c = null;
        while (writing.get() && System.nanoTime() < end) {
            id++;
            try {
                if (c == null) {
                    c = pg(FRONTEND, "opscode_chef", "opscode_chef", chefPassword, null);
                }
                try (Statement st = c.createStatement()) {
                    st.execute("insert into frontend_rows (id) values (" + id + ")");
                }
                rows.add(new Ack(id, System.nanoTime()));
            } catch (Exception e) {
                failed(failures, e);
                if (c != null) {
                    try {
                        c.close();
                    } catch (SQLException ignored) {
                        // the connection is gone anyway
                    }
                    c = null;
                }
                sleep(100);
                continue;
            }
            try {
                JsonNode b = JSON.readTree(search("POST", "/_bulk",
                        bulkIndex("row" + id, "chef_e2e", "node", "name__=__row" + id), 200));
                if (!b.path("errors").asBoolean()) {
                    docs.add(id);
                } else {
                    errors.merge("bulk item error: " + b.toString().substring(0, Math.min(200, b.toString().length())),
                            1, Integer::sum);
                }
            } catch (Exception | AssertionError e) {
                failed(failures, e);
                sleep(100);
            }
        }
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // done
            }
        }
    }

    static List<Long> missing(List<Long> acked, Set<Long> present) {
        return acked.stream().filter(id -> !present.contains(id)).toList();
    }

    // ------------------------------------------------------------------------------------------------------ 4

    /** The leader killed by the test before, its PostgreSQL crashed (not shut down cleanly). */
    TestNode crashed;

    /**
     * Issue 17: the crashed leader, started again at once, rejoins by pg_rewind (or, its WAL ending at the fork, by
     * nothing at all), never by copying the database; with this test's default WAL settings, as a user has them.
     * It used to fail: pg_rewind's own crash recovery recycled the WAL it then needed, and a base backup followed.
     */
    @Test
    @Order(7)
    void theCrashedLeaderStartedAgainRejoinsByRewindNotByABaseBackup() throws Exception {
        assertTrue(crashed != null, "the crash test did not run");
        Path record = crashed.root.resolve("var/opt/chef-backend/leaderl/data/last-rejoin.json");
        assertFalse(Files.exists(record), "a rejoin was recorded before this one: " + record);
        long startedAt = System.nanoTime();
        Run start = ctl(Map.of("CHEF_BACKEND_ROOT", crashed.root.toString()), "start");
        assertEquals(0, start.code(), start.out() + start.err());
        String leaderName = "backend-" + leader().address.replace('.', '-');
        AtomicReference<JsonNode> seen = new AtomicReference<>();
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(120), () -> {
            JsonNode me = clusterNode(crashed.address);
            seen.set(me);
            return me != null && "synced".equals(me.at("/pgsql/role").asText())
                    && leaderName.equals(me.at("/pgsql/following").asText()) && me.at("/pgsql/rejoin_path").isTextual();
        }), "the crashed leader did not rejoin as a synced follower of " + leaderName + ": " + seen.get());
        double seconds = (System.nanoTime() - startedAt) / 1e9;
        JsonNode pg = seen.get().path("pgsql");
        System.out.printf("crashed leader rejoined %s by %s: %.1f s from its start until synced (rejoin_seconds %.1f)%n",
                leaderName, pg.path("rejoin_path").asText(), seconds, pg.path("rejoin_seconds").asDouble());
        assertTrue(Set.of("rewind", "none").contains(pg.path("rejoin_path").asText()),
                "rejoined by " + pg.path("rejoin_path").asText() + ", not by pg_rewind: " + seen.get());
        assertTrue(pg.path("rejoin_seconds").asDouble() > 0, seen.get().toString());
        String log = Files.readString(crashed.root.resolve("var/log/chef-backend/leaderl/current"));
        assertFalse(log.contains("base backup from"), "the log shows a base backup");
        assertEquals(1, Pattern.compile("leaderl: rejoined " + leaderName + " by").matcher(log).results().count(),
                "one rejoin sequence");
    }

    /** This node as any node's {@code GET /cluster} shows it, null when no node answers. */
    JsonNode clusterNode(String address) {
        for (TestNode n : nodes) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + n.address + ":7331/cluster"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                for (JsonNode m : JSON.readTree(r.body()).path("nodes")) {
                    if (m.path("ip").asText().equals(address)) {
                        return m;
                    }
                }
            } catch (IOException e) {
                // the next node
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    @Test
    @Order(8)
    void demoDownStopsEverythingItStartedAndRemovesItsDirectory() throws Exception {
        Run down = demo("down");
        System.out.printf("demo down: %.1f s%n", down.seconds());
        assertEquals(0, down.code(), down.out() + down.err());
        assertFalse(Files.exists(DIR), DIR + " still exists");
        assertFalse(new ProcessIdentity(haproxyPid, haproxyStartTicks).isAlive(), "HAProxy still runs");
        assertFalse(open(FRONTEND, 5432));
        for (TestNode n : nodes) {
            assertEquals(List.of(), n.processes(), n.name + " still has processes");
        }
        Run again = demo("down");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("nothing to do"), again.out());
    }

    // ------------------------------------------------------------------------------------------------- helpers

    Path socket() {
        return DIR.resolve("haproxy/haproxy.sock");
    }

    TestNode leader() {
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(60), () -> nodes.stream().filter(n -> leaderAnswer(n) == 200).count() == 1),
                "not exactly one leader");
        return nodes.stream().filter(n -> leaderAnswer(n) == 200).findFirst().orElseThrow();
    }

    int leaderAnswer(TestNode n) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://" + n.address + ":7331/leader"))
                    .timeout(Duration.ofMillis(800)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    /** The node's GUID (its HAProxy server name), from the cluster view of any node that answers. */
    String guidOf(String address) {
        JsonNode n = clusterNode(address);
        if (n == null) {
            throw new IllegalStateException("no node knows " + address);
        }
        return n.path("guid").asText();
    }

    static Connection pg(String host, String db, String user, String password, String localAddress) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("connectTimeout", "3");
        p.setProperty("socketTimeout", "10");
        if (localAddress != null) {
            p.setProperty("localSocketAddress", localAddress);
        }
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":5432/" + db, p);
    }

    /** A search call through HAProxy, as erchef makes it (JSON content type; GET may carry a body). */
    String search(String method, String path, String body, int expected) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + FRONTEND + ":9200" + path))
                .timeout(Duration.ofSeconds(15)).header("Content-Type",
                        path.equals("/_bulk") ? "application/x-ndjson" : "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(expected, r.statusCode(), method + " " + path + ": " + r.body());
        return r.body();
    }

    static String bulkIndex(String id, String database, String type, String content) {
        return "{\"index\":{\"_index\":\"chef\",\"_id\":\"" + id + "\"}}\n"
                + "{\"content\":\"X_CHEF_database_CHEF_X__=__" + database + " X_CHEF_id_CHEF_X__=__" + id
                + " X_CHEF_type_CHEF_X__=__" + type + " " + content + " \",\"X_CHEF_id_CHEF_X\":\"" + id
                + "\",\"X_CHEF_database_CHEF_X\":\"" + database + "\",\"X_CHEF_type_CHEF_X\":\"" + type + "\"}\n";
    }

    List<String> searchIds(String query, String database, String type) throws Exception {
        return searchIds(query, database, type, 1000);
    }

    /** erchef's search query: query_string must + filter on database and type, sorted by id, _id only. */
    List<String> searchIds(String query, String database, String type, int size) throws Exception {
        String body = "{\"stored_fields\":\"_id\",\"from\":0,\"size\":" + size + ","
                + "\"sort\":[{\"X_CHEF_id_CHEF_X\":{\"order\":\"asc\"}}],"
                + "\"query\":{\"bool\":{\"must\":{\"query_string\":{\"query\":\"" + query + "\"}},"
                + "\"filter\":{\"query_string\":{\"query\":\"+X_CHEF_database_CHEF_X:" + database
                + " +X_CHEF_type_CHEF_X:" + type + "\"}}}}}";
        JsonNode r = JSON.readTree(search("GET", "/chef/_search", body, 200));
        List<String> ids = new ArrayList<>();
        r.at("/hits/hits").forEach(h -> ids.add(h.path("_id").asText()));
        return ids;
    }

    static boolean open(String address, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, port), 300);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
