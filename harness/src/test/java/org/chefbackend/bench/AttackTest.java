package org.chefbackend.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.chefbackend.api.AgentHttpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AttackTest {
    private static final Attack.Plan PLAN = Attack.Plan.issue(Duration.ofSeconds(30));

    @Test
    void latencyStatsTakeTheNearestRankForP99() {
        List<Double> hundred = IntStream.rangeClosed(1, 100).mapToObj(i -> (double) i).toList();
        List<Double> shuffled = new ArrayList<>(hundred);
        Collections.reverse(shuffled);
        assertEquals(new LatencyStats(50.5, 99, 100, 100, 0), LatencyStats.of(shuffled, 0));
        // with fewer than 100 checks the 99th percentile is the slowest one
        assertEquals(new LatencyStats(3, 9, 9, 3, 1), LatencyStats.of(List.of(9.0, 1.0, 3.0), 1));
        LatencyStats none = LatencyStats.of(List.of(), 0);
        assertTrue(Double.isNaN(none.max()));
        assertFalse(none.allWithin(1000), "no checks is no evidence");
    }

    @Test
    void allWithinNeedsEveryCheckAnsweredInTime() {
        assertTrue(LatencyStats.of(List.of(5.0, 1000.0), 0).allWithin(1000));
        assertFalse(LatencyStats.of(List.of(5.0, 1000.5), 0).allWithin(1000));
        assertFalse(LatencyStats.of(List.of(5.0, 6.0), 1).allWithin(1000));
    }

    @Test
    void checksCountWhatWasNot200AsFailed() {
        Attack.Checks c = new Attack.Checks(List.of(1.0, 2000.0, 3.0, 2.0), List.of(200, -1, 503, 200));
        assertEquals(2, c.stats().failed());
        assertEquals(2000.0, c.stats().max());
    }

    @Test
    void heapInfoOfTheSerialCollectorAddsItsGenerations() {
        String serial = """
                6606:
                 def new generation   total 39296K, used 7776K [0x00000000f8000000, 0x00000000faaa0000, 0x00000000faaa0000)
                  eden space 34944K,   9% used [0x00000000f8000000, 0x00000000f8358138, 0x00000000fa220000)
                  from space 4352K, 100% used [0x00000000fa660000, 0x00000000faaa0000, 0x00000000faaa0000)
                  to   space 4352K,   0% used [0x00000000fa220000, 0x00000000fa220000, 0x00000000fa660000)
                 tenured generation   total 87424K, used 16401K [0x00000000faaa0000, 0x0000000100000000, 0x0000000100000000)
                   the space 87424K,  18% used [0x00000000faaa0000, 0x00000000fbaa46c8, 0x00000000fbaa4800, 0x0000000100000000)
                 Metaspace       used 9152K, committed 9408K, reserved 1114112K
                  class space    used 1095K, committed 1216K, reserved 1048576K
                """;
        assertEquals(new JvmHeap(7776 + 16401, 39296 + 87424), JvmHeap.parse(serial));
        assertEquals(new JvmHeap(2048, 10240), JvmHeap.parse(" garbage-first heap   total 10240K, used 2048K [0x0)\n"
                + "  region size 1024K, 2 young (2048K), 0 survivors (0K)\n Metaspace       used 9152K, committed 9408K"));
        assertNull(JvmHeap.parse("6606: com.sun.tools.attach.AttachNotSupportedException: Unable to open socket file"));
    }

    @Test
    void bodiesAreToldByWhatBecameOfThem() {
        long mib = 1 << 20;
        long all = 120 * mib;
        List<Attack.Body> bodies = List.of(new Attack.Body(all, all, 401, false), new Attack.Body(mib, all, 413, false),
                new Attack.Body(3 * mib, all, 413, false), new Attack.Body(2 * mib, all, -1, false),
                new Attack.Body(40 * mib, all, -1, true));
        assertEquals("5 started: 1 taken whole, answered 401 ×1; 3 stopped by the server after 2.0 MiB median "
                + "(max 3.0 MiB), answered none ×1, 413 ×2; 1 still open when the window ended (40.0 MiB sent, median)",
                Attack.describe(bodies));
        assertEquals("0 started: 0 taken whole", Attack.describe(List.of()));
    }

    @Test
    void memoryErrorsAreCountedOverEveryLog(@TempDir Path dir) throws Exception {
        Path a = Files.writeString(dir.resolve("current"), "x java.lang.OutOfMemoryError: Java heap space\n"
                + "Exception in thread \"http-12\" java.lang.OutOfMemoryError: Java heap space\n");
        Path b = Files.writeString(dir.resolve("agent.console"), "OutOfMemoryErrorOutOfMemoryError");
        assertEquals(4, AttackBench.occurrences(List.of(a, b, dir.resolve("missing")), "OutOfMemoryError"));
        assertEquals(0, AttackBench.occurrences(List.of(a), "MemoryError x"));
    }

    @Test
    void theTableDecidesBothTargets() {
        BenchTable ok = AttackBench.table(side(List.of(3.0, 900.0), List.of(200, 200), 0, true),
                side(List.of(6.0, 8.0), List.of(200, 200), 0, true), PLAN);
        assertEquals(List.of(true, true), ok.targets.stream().map(BenchTable.Target::met).toList());
        // ratios first: slowest 900 ms against 8 ms, medians 451.5 ms against 7 ms
        assertEquals("112.50×", ok.rows.get(0).ratio());
        assertEquals("64.50×", ok.rows.get(2).ratio());
    }

    @Test
    void aFailedOrSlowCheckOrAnOutOfMemoryErrorMissesTheTargets() {
        BenchTable slow = AttackBench.table(side(List.of(3.0, 1200.0), List.of(200, 200), 2, true),
                side(List.of(6.0), List.of(200), 0, true), PLAN);
        assertEquals(List.of(false, false), slow.targets.stream().map(BenchTable.Target::met).toList());
        BenchTable failed = AttackBench.table(side(List.of(3.0, 4.0), List.of(200, -1), 0, false),
                side(List.of(6.0), List.of(200), 0, true), PLAN);
        assertEquals(List.of(false, false), failed.targets.stream().map(BenchTable.Target::met).toList());
        BenchTable unmeasured = AttackBench.table(side(List.of(), List.of(), 0, true),
                side(List.of(6.0), List.of(200), 0, true), PLAN);
        assertNull(unmeasured.targets.get(0).met());
    }

    /**
     * The attack's own mechanics, small and short, against the agent's real HTTP server in this JVM (loopback, a
     * port the system picks): it holds its connections, streams its bodies, checks at its rate and leaves no thread.
     */
    @Test
    void aShortAttackChecksAtItsRateAndEndsEverything() throws Exception {
        AgentHttpServer server = new AgentHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4,
                new LeaderNode());
        server.start();
        try {
            Attack.Plan plan = new Attack.Plan(5, 3, 2, 4L << 20, "/admin/start", Duration.ofSeconds(2),
                    Duration.ofMillis(100), Duration.ofSeconds(2));
            String host = InetAddress.getLoopbackAddress().getHostAddress();
            Attack.Outcome o = Attack.run(host, server.port(), plan);
            assertTrue(o.checks().millis().size() >= 10, "checks: " + o.checks().millis().size());
            assertEquals(0, o.checks().stats().failed(), "statuses: " + o.checks().statuses());
            assertFalse(o.bodies().isEmpty());
            // unsigned: once a body is in, the agent refuses it (today only after reading all of it)
            assertTrue(o.bodies().stream().allMatch(b -> b.cutByWindow() || b.status() == 401 || b.status() == 413),
                    Attack.describe(o.bodies()));
            assertEquals(0, o.connectFailures());
            assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith("attack-")),
                    "an attack thread outlived its window");
        } finally {
            server.stop();
        }
    }

    private static AttackBench.Side side(List<Double> millis, List<Integer> statuses, long memoryErrors, boolean same) {
        AttackBench.Target t = new AttackBench.Target("x", "127.0.0.1", 1, List.of(1L), List.of(), "OutOfMemoryError",
                true);
        Attack.Checks checks = new Attack.Checks(millis, statuses);
        Attack.Outcome o = new Attack.Outcome(checks, 0, 0, 0, List.of());
        return new AttackBench.Side(t, checks, o, memoryErrors, same, 1024, 2048, new JvmHeap(1, 2), 1.5);
    }

    /** A leader whose admin calls would run if they were signed. */
    private static final class LeaderNode implements AgentHttpServer.Node {
        @Override
        public Map<String, Object> status() {
            return Map.of();
        }

        @Override
        public boolean leader() {
            return true;
        }

        @Override
        public Map<String, Object> position() {
            return Map.of();
        }

        @Override
        public Map<String, Object> cluster() {
            return Map.of();
        }

        @Override
        public Map<String, Object> admin(String action, String service, JsonNode body) {
            return Map.of("ran", action);
        }

        @Override
        public List<byte[]> adminKeys() {
            return List.of("k".repeat(32).getBytes(StandardCharsets.UTF_8));
        }
    }
}
