package org.chefbackend.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.chefbackend.bench.ResultsReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChaosReportTest {
    static Chaos.Outcome run(String fault, boolean sync, int lost, int deposed, int doubles, double recovery, boolean healed) {
        return byOperator(fault, sync, lost, deposed, doubles, recovery, healed, null);
    }

    static Chaos.Outcome byOperator(String fault, boolean sync, int lost, int deposed, int doubles, double recovery,
            boolean healed, String operator) {
        return new Chaos.Outcome(fault, 1, sync, "cb1", "cb2", "x", 100, lost, deposed, "", doubles, 300, recovery, 4.0,
                healed, 10, operator, null, List.of(), 0, 0, 0, List.of());
    }

    @Test
    void verdicts() {
        assertTrue(ChaosReport.passed(run("host-crash", true, 0, 0, 0, 7, true)));
        assertFalse(ChaosReport.passed(run("host-crash", true, 1, 0, 0, 7, true)), "loss in sync mode");
        assertTrue(ChaosReport.passed(run("host-crash", false, 1, 0, 0, 7, true)), "async may lose");
        assertFalse(ChaosReport.passed(run("partition", true, 0, 3, 0, 7, true)), "writes on a deposed leader");
        assertFalse(ChaosReport.passed(run("partition", true, 0, 0, 1, 7, true)), "double leader");
        assertFalse(ChaosReport.passed(run("partition", true, 0, 0, 0, 7, false)), "not healed");
        assertTrue(ChaosReport.passed(run("control-async", false, 12, 0, 0, 7, true)));
        assertFalse(ChaosReport.passed(run("control-async", false, 0, 0, 0, 7, true)), "the negative control lost nothing");
        assertFalse(ChaosReport.passed(byOperator("host-crash", true, 0, 0, 0, 7, true, "promote cb2")),
                "a host crash must heal without an operator");
        assertTrue(ChaosReport.passed(byOperator("two-nodes-lost", true, 0, 0, 0, 30, true,
                "create-cluster --quorum-loss-recovery on cb2")), "seed 004's procedure after a quorum loss");
        assertFalse(ChaosReport.passed(byOperator("two-nodes-lost", true, 3, 0, 0, 30, true,
                "create-cluster --quorum-loss-recovery on cb2")), "the synchronous survivor lost writes");
    }

    @Test
    void tableNamesTheOperatorsProcedure() {
        String table = ChaosReport.table(List.of(byOperator("wal-removed", true, 0, 0, 0, 0.2, true,
                "pgsql-follow 127.0.0.101 --force-basebackup on cb3"), run("wal-removed", true, 0, 0, 0, 0.2, true)));
        assertTrue(table.contains("| 1/2 | pgsql-follow 127.0.0.101 --force-basebackup | 0 |"), table);
    }

    @Test
    void targetsAndTable() {
        List<Chaos.Outcome> runs = List.of(run("host-crash", true, 0, 0, 0, 7.5, true), run("host-crash", true, 0, 0, 0, 9.5, true),
                run("control-async", false, 12, 0, 0, 20, true));
        List<ChaosReport.Target> t = ChaosReport.targets(runs, 5);
        assertEquals(Boolean.FALSE, t.get(0).met(), "9.5 s > 5 + 1 + 3 s");
        assertEquals(null, t.get(1).met(), "pg-crash not run");
        assertEquals(Boolean.FALSE, t.get(3).met(), "2 synchronous failovers are fewer than 20");
        assertTrue(t.get(3).measured().contains("asynchronous negative control: 12 lost"), t.get(3).measured());
        String table = ChaosReport.table(runs);
        assertTrue(table.contains("| host-crash | sync | 2 | 0 (of 200) | 0 | 0 | 8.5 / 9.5 |"), table);
    }

    @Test
    void ownSectionNextToTheBenchmarks(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("RESULTS.md");
        Files.writeString(report, "# Results\n\n" + ResultsReport.BEGIN + "\nbench\n" + ResultsReport.END + "\n");
        ResultsReport.replaceSection(report, ChaosReport.BEGIN, ChaosReport.END, ChaosReport.BEGIN + "\none\n" + ChaosReport.END + "\n");
        ResultsReport.replaceSection(report, ChaosReport.BEGIN, ChaosReport.END, ChaosReport.BEGIN + "\ntwo\n" + ChaosReport.END + "\n");
        String text = Files.readString(report);
        assertTrue(text.contains("bench") && text.contains("two") && !text.contains("one"), text);
        assertEquals(text.indexOf(ChaosReport.BEGIN), text.lastIndexOf(ChaosReport.BEGIN), "one chaos section");
        assertTrue(ChaosReport.markdown(List.of(), new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode(),
                Set.of("chaos-host-crash.png"), "").contains("](results/chaos-host-crash.png)"));
    }
}
