package org.chefbackend.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.chefbackend.bench.Writer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RollingUpgradeTest {
    static final Chaos.Options OPT = RollingUpgrade.options(Path.of("/repo"), 1, 5, true);

    static RollingUpgrade.Step step(String what, String node, double from, double to) {
        Map<String, Double> parts = new LinkedHashMap<>();
        parts.put("stop", 1.25);
        parts.put("start", 3.0);
        return new RollingUpgrade.Step(what, node, from, to, Double.NaN, parts);
    }

    static RollingUpgrade.Outcome outcome(int lost, int missing, List<String> oldCode, String installed, int changes) {
        return new RollingUpgrade.Outcome(1, true, "1.0", "1.0+1", installed, 500, lost, missing, 1.87,
                List.of(step("restart follower", "cb2", 10, 40).withGap(acks(10, 12, 14.5, 15))), changes, 0, oldCode,
                true, 420, null);
    }

    static List<Writer.Ack> acks(double... at) {
        return Arrays.stream(at).mapToObj(t -> new Writer.Ack((long) (t * 1000), t)).toList();
    }

    static Chaos.Outcome control(int lost) {
        return new Chaos.Outcome("control-async", 1, false, "cb1", "cb2", "x", 120, lost, 0, "", 0, 300, 16, 20, false,
                Double.NaN, "promote cb2", null, List.of(), 0, 0, 0, List.of(), null, Chaos.SearchSeen.NONE,
                Chaos.RejoinSeen.NONE);
    }

    @Test
    void aRunPassesOnlyWithNothingLostEverythingNewAndOneLeaderChange() {
        assertTrue(outcome(0, 0, List.of(), "1.0+1", 1).passed());
        assertFalse(outcome(1, 0, List.of(), "1.0+1", 1).passed(), "a write lost on the final leader");
        assertFalse(outcome(0, 2, List.of(), "1.0+1", 1).passed(), "writes missing on a follower");
        assertFalse(outcome(0, 0, List.of("cb1: its agent (pid 7) started before the install"), "1.0+1", 1).passed());
        assertFalse(outcome(0, 0, List.of(), "1.0", 1).passed(), "dpkg-query still shows A");
        assertFalse(outcome(0, 0, List.of(), "1.0+1", 2).passed(), "a leader change besides the promote");
        assertFalse(outcome(-1, 0, List.of(), "1.0+1", 1).passed(), "no leader to check against");
    }

    @Test
    void theResultsPassOnlyWhenTheNegativeControlLostWrites() {
        List<RollingUpgrade.Outcome> ok = List.of(outcome(0, 0, List.of(), "1.0+1", 1));
        assertTrue(new UpgradeReport.Results(ok, control(40)).passed());
        assertFalse(new UpgradeReport.Results(ok, control(0)).passed(), "a control that loses nothing proves nothing");
        assertFalse(new UpgradeReport.Results(ok, null).passed());
        assertFalse(new UpgradeReport.Results(List.of(), control(40)).passed(), "no run");
    }

    @Test
    void aStepsGapIsTheLongestBetweenAcknowledgementsOverlappingIt() {
        RollingUpgrade.Step s = outcome(0, 0, List.of(), "1.0+1", 1).steps().get(0);
        assertEquals(2.5, s.gap(), 1e-9);
        assertEquals(30, s.seconds(), 1e-9);
    }

    @Test
    void theSectionGivesEveryFigureAndTheCommand() {
        String md = UpgradeReport.markdown(OPT, new UpgradeReport.Results(List.of(outcome(0, 0, List.of(), "1.0+1", 1)),
                control(40)), "2026-12-07 05:00 UTC", "load average 1.0");
        assertTrue(md.startsWith(UpgradeReport.BEGIN) && md.strip().endsWith(UpgradeReport.END), md);
        assertTrue(md.contains("## Rolling upgrade under load (issue 21)"), md);
        assertTrue(md.contains("`bin/chaos rolling-upgrade --runs N`"), md);
        assertTrue(md.contains("| 1 | sync | 1.0 → 1.0+1 (dpkg-query: 1.0+1) | 500 | 0 / 0 | 1.87 | 1 | nothing | 30 | 420 | passed |"), md);
        assertTrue(md.contains("| 1 | restart follower | cb2 | 30.0 | 2.50 | stop 1.3, start 3.0 |"), md);
        assertTrue(md.contains("40 of 120 acknowledged writes lost (it must lose some"), md);
    }

    @Test
    void aFailedRunSaysWhy() {
        RollingUpgrade.Outcome failed = new RollingUpgrade.Outcome(1, true, "1.0", "1.0+1", "1.0+1", 0, -1, -1,
                Double.NaN, List.of(), 0, 0, List.of(), false, 30, "start cb2: exit 1");
        String md = UpgradeReport.markdown(OPT, new UpgradeReport.Results(List.of(failed), control(40)), "now", "load");
        assertTrue(md.contains("**failed**: start cb2: exit 1"), md);
    }

    @Test
    void theReportReplacesItsOwnSectionOnly(@TempDir Path dir) throws Exception {
        Path results = dir.resolve("RESULTS.md");
        Files.writeString(results, "# Results\n\nbefore\n\n" + UpgradeReport.BEGIN + "\nold\n" + UpgradeReport.END + "\n\nafter\n");
        Chaos.Options opt = new Chaos.Options(1, 5, true, dir, OPT.addresses(), OPT.proxy(), results,
                dir.resolve("results/rolling-upgrade.json"), dir);
        UpgradeReport.write(opt, new UpgradeReport.Results(List.of(outcome(0, 0, List.of(), "1.0+1", 1)), control(40)));
        String text = Files.readString(results);
        assertTrue(text.contains("before") && text.contains("after") && !text.contains("\nold\n"), text);
        assertTrue(Chaos.JSON.readTree(opt.json().toFile()).path("passed").asBoolean(), Files.readString(opt.json()));
    }

    @Test
    void onlyFilesReplacedSinceTheyWereOpenedCountAsOld() {
        assertEquals(List.of("/opt/chef-backend/lib/chef-backend.jar (deleted)"), DebPackage.replaced(List.of(
                "/opt/chef-backend/lib/chef-backend.jar (deleted)", "/opt/chef-backend/lib/picocli-4.7.6.jar")));
    }

    @Test
    void aMappedFileIsJudgedByItsWholePathNotByASubstring() {
        String opt = "7f0a1c000000-7f0a1c021000 r-xp 00000000 08:01 1234567                    /opt/chef-backend/lib/x.so (deleted)";
        String root = "7f0a1c000000-7f0a1c021000 r-xp 00000000 00:2d 99 /tmp/r/n1/var/opt/chef-backend/elasticsearch/tmp/"
                + "libzstd-jni-1.5.5-5.so (deleted)";
        assertEquals("/opt/chef-backend/lib/x.so (deleted)", DebPackage.mappedPath(opt));
        assertFalse(DebPackage.mappedPath(root).startsWith(DebPackage.OPT + "/"), "a node root's own file, not the package's");
        assertEquals("", DebPackage.mappedPath("7ffd5000-7ffd6000 rw-p 00000000 00:00 0"));
    }

    /** What dpkg does to an upgraded package's file (a new one renamed over it), seen from a process holding it. */
    @Test
    void aFileReplacedUnderAnOpenDescriptorShowsAsDeleted(@TempDir Path dir) throws Exception {
        Path jar = dir.resolve("lib.jar");
        Files.writeString(jar, "A");
        long self = ProcessHandle.current().pid();
        try (RandomAccessFile held = new RandomAccessFile(jar.toFile(), "r")) {
            assertEquals(List.of(jar.toString()), DebPackage.filesUnder(self, dir));
            Path next = dir.resolve("lib.jar.dpkg-new");
            Files.writeString(next, "A");
            Files.move(next, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            assertEquals(List.of(jar + " (deleted)"), DebPackage.replaced(DebPackage.filesUnder(self, dir)));
        }
        assertEquals(List.of(), DebPackage.filesUnder(self, dir), "closed: nothing held");
    }
}
