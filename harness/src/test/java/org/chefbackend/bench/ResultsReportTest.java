package org.chefbackend.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultsReportTest {
    static BenchTable table(String key, double cb, double patroni) {
        BenchTable t = new BenchTable(key, "Failover | crash");
        t.row("time", cb + " s", patroni + " s", BenchTable.ratio(cb, patroni));
        t.target("median no slower than Patroni", cb + " vs " + patroni, cb <= patroni);
        t.target("sync case", "skipped", null);
        t.note("a note");
        t.plots.put("failover-chefbackend.png", "writes per second");
        return t;
    }

    @Test
    void savesMergesAndRendersTablesTargetsAndVerdicts(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("docs/results/bench.json");
        ResultsReport.save(json, table("failover", 9.5, 12.0));
        ResultsReport.save(json, table("status", 0.5, 0.4));
        ResultsReport.save(json, table("failover", 13.0, 12.0)); // replaces the first failover entry
        List<BenchTable> tables = ResultsReport.load(json);
        assertEquals(List.of("failover", "status"), tables.stream().map(t -> t.key).toList());
        assertEquals("13.0 s", tables.get(0).rows.get(0).chefBackend());
        assertEquals("1.08×", tables.get(0).rows.get(0).ratio());

        Path report = dir.resolve("docs/RESULTS.md");
        ResultsReport.write(report, tables, json);
        String md = Files.readString(report);
        assertTrue(md.contains("| time | 13.0 s | 12.0 s | 1.08× |"), md);
        assertTrue(md.contains("Failover \\| crash"), "pipes in cells are escaped");
        assertTrue(md.contains("| median no slower than Patroni | 13.0 vs 12.0 | **missed** |"), md);
        assertTrue(md.contains("| median no slower than Patroni | 0.5 vs 0.4 | **missed** |"), md);
        assertTrue(md.contains("| sync case | skipped | not measured |"), md);
        assertTrue(md.contains("![writes per second](results/failover-chefbackend.png)"), md);
        assertTrue(md.contains("Missed: median no slower than Patroni"), md);

        Files.writeString(json.resolveSibling("bench-analysis.md"), "- crash: the lease ran out later.\n");
        ResultsReport.write(report, tables, json);
        assertTrue(Files.readString(report).contains("why, as analysed from this run:\n\n- crash: the lease ran out later.\n"));
    }

    @Test
    void rewritesOnlyItsOwnSection(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("RESULTS.md");
        Path json = dir.resolve("results/bench.json");
        Files.writeString(report, "# Results\n\nintro\n\n<!-- SCENARIOS:BEGIN -->\nchaos table\n<!-- SCENARIOS:END -->\n\n"
                + ResultsReport.BEGIN + "\nold benchmarks\n" + ResultsReport.END + "\n\ntrailer\n");
        ResultsReport.write(report, List.of(table("failover", 9.0, 12.0)), json);
        String md = Files.readString(report);
        assertTrue(md.startsWith("# Results\n\nintro\n\n<!-- SCENARIOS:BEGIN -->\nchaos table\n<!-- SCENARIOS:END -->"));
        assertFalse(md.contains("old benchmarks"));
        assertTrue(md.contains("| median no slower than Patroni | 9.0 vs 12.0 | **met** |"), md);
        assertTrue(md.endsWith(ResultsReport.END + "\n\ntrailer\n"), md);
        assertEquals(1, md.split(ResultsReport.BEGIN.replace("(", "\\(").replace(")", "\\)"), -1).length - 1);
    }

    @Test
    void aMissingReportIsCreatedWithTheSection(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("docs/RESULTS.md");
        ResultsReport.write(report, List.of(), dir.resolve("docs/results/bench.json"));
        String md = Files.readString(report);
        assertTrue(md.startsWith("# Results"));
        assertTrue(md.contains(ResultsReport.BEGIN) && md.contains(ResultsReport.END));
        assertTrue(md.contains("Every benchmark target measured here was met."));
    }
}
