package org.chefbackend.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The short chaos run CI does (bin/chaos ci): one cluster on 127.0.0.101-103 (HAProxy .100), the negative control
 * (asynchronous: acknowledged writes lost; synchronous: none), then in synchronous mode a host crash, an agent
 * freeze, a partition of the leader, a crash of the node that ran create-cluster, {@code restart elasticsearch} on the
 * leader and the leader's PostgreSQL disk filled, one run each. The checker's verdicts are asserted, "healed" by
 * issue 16's definition (every node's search green with every node, status exiting 0 on every node, ...); the
 * report goes to target/chaos-it, not docs/.
 */
class ChaosIT {
    static final Path REPO = Path.of(System.getProperty("chefbackend.repo", "..")).toAbsolutePath().normalize();

    @Test
    void shortChaosRun() throws Exception {
        Path out = REPO.resolve("target/chaos-it");
        Chaos.Options d = Chaos.defaults(REPO, 1, 5, true);
        Chaos.Options opt = new Chaos.Options(1, 5, true, d.root(), d.addresses(), d.proxy(), out.resolve("RESULTS.md"),
                out.resolve("results/chaos.json"), out.resolve("results"));
        List<Chaos.Outcome> runs = Chaos.runAll(REPO, opt, new LinkedHashSet<>(Chaos.CI_FAULTS));
        ChaosReport.save(opt, runs);
        ChaosReport.write(opt);
        System.out.println(ChaosReport.table(runs));
        Map<String, Chaos.Outcome> by = runs.stream().collect(Collectors.toMap(Chaos.Outcome::fault, o -> o, (a, b) -> a));
        assertEquals(List.of("control-async", "control-sync", "host-crash", "agent-freeze", "partition", "first-node-crash",
                "search-restart-on-leader", "disk-full"),
                runs.stream().map(Chaos.Outcome::fault).toList());
        for (Chaos.Outcome o : runs) {
            String what = o.fault() + ": " + o;
            assertNull(o.error(), what);
            assertEquals(0, o.doubleLeaderSweeps(), "two nodes answered 200 on /leader in one sweep, " + what);
            assertTrue(o.sweeps() > 50, "the leader watch hardly ran, " + what);
            assertEquals(0, o.deposedWrites(), "a deposed leader acknowledged writes, " + what);
            assertTrue(o.healed(), "not healed without an operator (" + o.unhealed() + "), " + what);
            assertTrue(o.acked() > 20, what);
            if (!o.fault().equals("control-async")) {
                assertNull(o.operator(), "an operator was needed, " + what);
                assertTrue(o.synchronous(), what);
                assertEquals(0, o.lost(), "acknowledged writes lost in synchronous mode, " + what);
            }
        }
        assertTrue(by.get("control-async").lost() > 0,
                "the negative control lost nothing: the loss checker cannot be trusted");
        assertEquals("cb1", by.get("first-node-crash").oldLeader(), "run 1 hits the node that ran create-cluster as the leader");
        for (String f : List.of("host-crash", "agent-freeze", "partition", "first-node-crash", "disk-full",
                "search-restart-on-leader")) {
            assertTrue(by.get(f).failedOver(), f + " did not move the leadership: " + by.get(f));
        }
        Chaos.SearchSeen restart = by.get("search-restart-on-leader").search();
        assertEquals(Boolean.FALSE, restart.unplanned(), "restart elasticsearch on the leader: " + restart.leaderChanges());
        for (String f : List.of("first-node-crash", "search-restart-on-leader")) {
            Chaos.SearchSeen s = by.get(f).search();
            assertEquals(f.equals("first-node-crash") ? "cb1" : by.get(f).oldLeader(), s.backNode(), f);
            assertTrue(s.backAfter() > 0, f + ": the restarted search engine was not timed back into the search cluster");
        }
        assertTrue(Files.readString(opt.report()).contains(ChaosReport.BEGIN));
        assertTrue(Files.exists(out.resolve("results/chaos-host-crash.png")));
    }
}
