package org.chefbackend.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.chefbackend.cluster.Records;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

    @Test
    void aRejoinIsWhatTheNodeSaidOnceItStreams() {
        assertEquals("rewind", RejoinWatch.path(false, true, "rewind"));
        assertEquals("led again", RejoinWatch.path(true, false, null), "leading is not a rejoin");
        assertEquals("unknown", RejoinWatch.path(false, true, null), "streams, but said nothing since its start");
        assertEquals("not rejoined", RejoinWatch.path(false, false, "rewind"), "an old record does not make a rejoin");
        assertTrue(RejoinWatch.copyless("rewind") && RejoinWatch.copyless("none"));
        assertTrue(!RejoinWatch.copyless("basebackup") && !RejoinWatch.copyless("led again"));
    }

    @Test
    void theTallyAlwaysNamesTheThreePathsAndAnyOtherOutcome() {
        assertEquals("rewind 5/5, none 0, basebackup 0", RejoinWatch.tally(List.of("rewind", "rewind", "rewind", "rewind", "rewind")));
        assertEquals("rewind 1/4, none 1, basebackup 0, led again 1, not rejoined 1",
                RejoinWatch.tally(List.of("rewind", "led again", "none", "not rejoined")));
        assertEquals("none measured", RejoinWatch.tally(List.of()));
    }

    static final String PATRONI_START = "2026-12-06 15:00:01,100 INFO: Selected new etcd server http://127.0.0.81:2379\n"
            + "2026-12-06 15:00:02,200 INFO: doing crash recovery in a single user mode\n"
            + "2026-12-06 15:00:03,300 INFO: Local timeline=1 lsn=0/5000148\n"
            + "2026-12-06 15:00:03,310 INFO: primary_timeline=2\n";

    @Test
    void patroniSaysInItsLogHowANodeRejoined() {
        String rewound = PATRONI_START + "2026-12-06 15:00:03,400 INFO: running pg_rewind from p2 in progress\n"
                + "2026-12-06 15:00:03,410 INFO: running pg_rewind from user=chef_pgsql host=127.0.0.82 port=5432 "
                + "dbname=postgres target_session_attrs=read-write\n"
                + "2026-12-06 15:00:04,500 INFO: pg_rewind exit code=0\n"
                + "2026-12-06 15:00:04,510 INFO:  stderr=pg_rewind: servers diverged at WAL location 0/5000148 on timeline 1\n"
                + "pg_rewind: Done!\n";
        assertEquals("rewind", PatroniCluster.rejoinPath(rewound));
        assertEquals("none", PatroniCluster.rejoinPath(PATRONI_START
                + "2026-12-06 15:00:05,000 INFO: no action. I am (p1), a secondary, and following a leader (p2)\n"));
        assertEquals("rewind failed", PatroniCluster.rejoinPath(PATRONI_START
                + "2026-12-06 15:00:03,410 INFO: running pg_rewind from user=chef_pgsql host=127.0.0.82\n"
                + "2026-12-06 15:00:04,500 INFO: pg_rewind exit code=1\n"
                + "2026-12-06 15:00:04,600 ERROR: Failed to rewind from healty primary: p2\n"));
        assertEquals("basebackup", PatroniCluster.rejoinPath(rewound.replace("exit code=0", "exit code=1")
                + "2026-12-06 15:01:00,000 INFO: replica has been created using basebackup\n"));
    }

    @Test
    void patroniIsAskedOnlyAboutWhatItLoggedAfterTheRestart(@TempDir Path dir) throws Exception {
        PatroniCluster p = new PatroniCluster(dir, List.of("127.0.0.81"), "127.0.0.80", 10, 100, 1000, Map.of(), false);
        Files.createDirectories(p.log(0).getParent());
        Files.writeString(p.log(0), "INFO: pg_rewind exit code=0\n"); // an earlier run's rewind
        long mark = p.rejoinMark(0);
        Files.writeString(p.log(0), PATRONI_START, StandardOpenOption.APPEND);
        assertEquals("none", p.rejoinPath(0, mark));
        assertEquals("rewind", p.rejoinPath(0, 0));
    }

    @Test
    void chefBackendsRecordCountsOnlyWhenWrittenSinceTheStart(@TempDir Path dir) throws Exception {
        ChefBackendCluster c = new ChefBackendCluster(dir, dir.resolve("cb"), List.of("127.0.0.71"), "127.0.0.70", List.of());
        assertEquals(null, c.rejoinPath(0, 0), "no record yet");
        Path file = c.nodeRoot(0).resolve("var/opt/chef-backend/leaderl/data/last-rejoin.json");
        Files.createDirectories(file.getParent());
        Files.writeString(file, Records.json(new Records.Rejoin("cb2", "rewind", 6.4, 1_000_500)));
        assertEquals("rewind", c.rejoinPath(0, 1_000_000));
        assertEquals(6.4, c.lastRejoin(0, 1_000_000).seconds());
        assertEquals(null, c.rejoinPath(0, 1_000_501), "written before this start: an earlier rejoin");
        Files.writeString(file, "{\"leader\": \"cb2\", \"pa");
        assertEquals(null, c.rejoinPath(0, 0), "caught mid-write");
    }
}
