package org.chefbackend.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchPartsTest {
    @Test
    void statsTakeTheMiddleOfSortedValues() {
        assertEquals(new Stats(3, 1, 9, 3), Stats.of(List.of(9.0, 1.0, 3.0)));
        assertEquals(new Stats(2.5, 1, 9, 4), Stats.of(List.of(9.0, 1.0, 3.0, 2.0)));
        assertEquals("n/a", Stats.of(List.of()).format("%.1f", " s"));
        assertEquals("2.5 s (min 1.0, max 9.0, n 4)", Stats.of(List.of(9.0, 1.0, 3.0, 2.0)).format("%.1f", " s"));
    }

    @Test
    void theWriteGapIsTheLongestSilenceOverlappingTheWindow() {
        List<Writer.Ack> acks = List.of(new Writer.Ack(1, 10.0), new Writer.Ack(2, 10.1), new Writer.Ack(3, 12.6),
                new Writer.Ack(4, 12.7), new Writer.Ack(5, 20.0));
        // the 7.3 s silence after 12.7 lies outside a window that ends at 12.65
        assertEquals(2.5, Writer.maxGap(acks, 10.5, 12.65), 1e-9);
        assertEquals(7.3, Writer.maxGap(acks, 10.5, 13), 1e-9);
        // a silence that ended before the window does not count
        assertEquals(0.1, Writer.maxGap(acks, 12.65, 12.69), 1e-9);
        assertEquals(0, Writer.maxGap(List.of(new Writer.Ack(1, 1)), 0, 5), 1e-9);
    }

    @Test
    void recoveryIsTheFirstWriteSentAfterTheCrashNotOneInFlight() {
        List<Writer.Ack> acks = List.of(new Writer.Ack(1, 10.00, 9.99), new Writer.Ack(2, 10.04, 10.01),
                new Writer.Ack(3, 21.0, 20.9));
        // the crash at 10.02: write 2 was in flight (sent 10.01) and acknowledged after it
        assertEquals(3, Writer.firstSentAfter(acks, 10.02).id());
        assertEquals(null, Writer.firstSentAfter(acks, 21));
    }

    @Test
    void patroniTimingsKeepItsRuleForEveryTtl() {
        assertArrayEquals(new int[] {2, 4}, PatroniCluster.timings(10));
        assertArrayEquals(new int[] {6, 12}, PatroniCluster.timings(30));
        for (int ttl = 9; ttl <= 120; ttl++) {
            int[] t = PatroniCluster.timings(ttl);
            assertTrue(t[0] >= 1 && t[1] >= 3 && t[0] + 2 * t[1] <= ttl, "ttl " + ttl);
        }
    }

    @Test
    void patroniConfigurationCarriesTheSharedSettings() {
        PatroniCluster p = new PatroniCluster(Path.of("/tmp/cbit-i8/unit"), List.of("127.0.0.81", "127.0.0.82", "127.0.0.83"),
                "127.0.0.80", 10, 100, 1000, Map.of("port", "5432", "shared_buffers", "128MB", "archive_command", ""), true);
        String y = p.yaml(1);
        assertTrue(y.contains("name: p2\n"), y);
        assertTrue(y.contains("    ttl: 10\n    loop_wait: 2\n    retry_timeout: 4\n"), y);
        assertTrue(y.contains("synchronous_mode: true"), y);
        assertTrue(y.contains("        shared_buffers: '128MB'\n") && y.contains("        archive_command: ''\n"), y);
        assertTrue(!y.contains("port: '5432'"), "the port is Patroni's to set: " + y);
        assertTrue(y.contains("  listen: 127.0.0.82:5432\n") && y.contains("  listen: 127.0.0.82:8008\n"), y);
        assertTrue(y.contains("hosts: 127.0.0.81:2379,127.0.0.82:2379,127.0.0.83:2379"), y);
        assertTrue(y.contains("data_dir: /tmp/cbit-i8/unit/n2/data"), y);
    }

    @Test
    void chefBackendSettingsNameTheOptionsOfTheDocuments() {
        List<String> s = ChefBackendCluster.settings(10, 100, 1000, true);
        assertTrue(s.contains("leaderl.leader_ttl_seconds = 10"));
        assertTrue(s.contains("etcd.heartbeat_interval = 100") && s.contains("etcd.election_timeout = 1000"));
        assertTrue(s.contains("leaderl.synchronous_mode true"));
        assertTrue(!ChefBackendCluster.settings(10, 100, 1000, false).contains("leaderl.synchronous_mode true"));
    }

    @Test
    void ratiosAndFiguresPrintNaAsNa() {
        assertEquals("0.50×", BenchTable.ratio(1, 2));
        assertEquals("n/a", BenchTable.ratio(1, 0));
        assertEquals("n/a", BenchTable.ratio(Double.NaN, 2));
        assertEquals("n/a", BenchTable.f("%.1f", Double.NaN));
    }
}
