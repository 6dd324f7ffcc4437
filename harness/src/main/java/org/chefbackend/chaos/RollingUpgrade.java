package org.chefbackend.chaos;

import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.chefbackend.bench.ChefBackendCluster;
import org.chefbackend.bench.Procs;
import org.chefbackend.bench.Writer;

/**
 * {@code bin/chaos rolling-upgrade} (issue 21): the documented rolling upgrade of a 3-node cluster (docs/UPGRADES.md)
 * under the harness's write load through HAProxy. Each run installs the package {@code mvn package} built (version A)
 * on a machine without chef-backend, builds the cluster from /usr/bin/chef-backend-ctl with node roots of its own,
 * starts the writer and the leader watch, installs A+1 once under the running cluster, restarts each follower (stop,
 * start, back to {@code status} exit 0 and healed before the next), promotes a follower and restarts the old leader.
 * The checker then looks for every acknowledged write on the final leader (with its never-written id) and on every
 * node, takes the longest write gap over the whole upgrade and per step, proves every node's agent and services run
 * the new package's files, and reads dpkg-query. After the runs, the asynchronous negative control runs on the
 * upgraded cluster. The package is purged at the end, also on failure.
 */
final class RollingUpgrade {
    static final String SCENARIO = "rolling-upgrade";
    /** The writer and the leader watch stop by themselves after this long (an upgrade takes minutes). */
    static final int MAX_SECONDS = 3600;

    /**
     * One step of the procedure: what, on which node, its span on {@link Procs#now()}'s clock, the longest write gap
     * overlapping it, and its parts in seconds (stop, start, ... in order).
     */
    record Step(String what, String node, double from, double to, double gap, Map<String, Double> parts) {
        Step withGap(List<Writer.Ack> acks) {
            return new Step(what, node, from, to, Writer.maxGap(acks, from, to), parts);
        }

        double seconds() {
            return to - from;
        }
    }

    /**
     * One run's verdict. {@code lost}: acknowledged ids missing on the final leader (-1: no leader to read them from);
     * {@code missingOnANode}: the most missing on any node once replication caught up; {@code oldCode}: what still
     * ran the replaced package's files (empty: nothing); {@code leaderChanges}: seen by the leader watch during the
     * upgrade (the promote is one).
     */
    record Outcome(int run, boolean synchronous, String from, String to, String installed, int acked, int lost,
            int missingOnANode, double longestGap, List<Step> steps, int leaderChanges, int doubleLeaderSweeps,
            List<String> oldCode, boolean healed, double seconds, String error) {
        boolean passed() {
            return error == null && lost == 0 && missingOnANode == 0 && oldCode.isEmpty() && to.equals(installed)
                    && healed && leaderChanges == 1 && doubleLeaderSweeps == 0;
        }
    }

    private final Chaos chaos;
    private final Path debA;
    private final Path debB;
    private final String versionA;
    private final String versionB;
    /** When the newer package was installed: every agent must have started after it. */
    private Instant installedAt;

    RollingUpgrade(Chaos chaos, Path debA, String versionA, Path debB, String versionB) {
        this.chaos = chaos;
        this.debA = debA;
        this.versionA = versionA;
        this.debB = debB;
        this.versionB = versionB;
    }

    /** The harness's options for this scenario: its own addresses, node roots and result files. */
    static Chaos.Options options(Path repo, int runs, int ttl, boolean sync) {
        return new Chaos.Options(runs, ttl, sync, Path.of("/tmp/cbit-upgrade/rolling/cluster"),
                List.of("127.0.0.191", "127.0.0.192", "127.0.0.193"), "127.0.0.190", repo.resolve("docs/RESULTS.md"),
                repo.resolve("docs/results/rolling-upgrade.json"), repo.resolve("docs/results"));
    }

    /**
     * The runs and the negative control; the package purged at the end (also on failure or Ctrl-C). Refuses a machine
     * where chef-backend is installed.
     */
    static UpgradeReport.Results runAll(Path repo, Path dist, Chaos.Options opt) throws Exception {
        DebPackage.requireAbsent();
        Path a = DebPackage.built(repo);
        String va = DebPackage.version(a);
        String vb = va + "+1";
        Path b = DebPackage.buildAs(repo, dist, opt.root().resolveSibling("debs"), vb);
        Chaos.log("rolling-upgrade: %s → %s (%s)", va, vb, b);
        Chaos c = new Chaos(repo, opt, DebPackage.CTL, "upgrade");
        Thread hook = new Thread(() -> tearDown(c), "rolling-upgrade-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            RollingUpgrade u = new RollingUpgrade(c, a, va, b, vb);
            List<Outcome> runs = new ArrayList<>();
            for (int r = 1; r <= opt.runs(); r++) {
                runs.add(u.run(r));
            }
            return new UpgradeReport.Results(runs, u.negativeControl());
        } finally {
            tearDown(c);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // shutting down already
            }
        }
    }

    /** bin/chaos rolling-upgrade: the runs, then the report; exit 0 when every run passed and the control lost writes. */
    static int main(Path repo, Chaos.Options opt) {
        Path dist = Path.of(System.getProperty("chefbackend.dist", repo.resolve("product/target/dist").toString()));
        try {
            UpgradeReport.Results r = runAll(repo, dist, opt);
            UpgradeReport.write(opt, r);
            System.out.println("wrote " + opt.report() + " and " + opt.json());
            return r.passed() ? 0 : 1;
        } catch (Exception e) {
            System.err.println("chaos: " + e.getMessage());
            return 1;
        }
    }

    /** Ends the cluster's processes, then purges the package they ran from. */
    static void tearDown(Chaos c) {
        c.close();
        if (DebPackage.installedVersion() != null) {
            Procs.Result p = DebPackage.purge();
            Chaos.log("dpkg --purge chef-backend: exit %d", p.code());
        }
    }

    ChefBackendCluster cb() {
        return chaos.cb;
    }

    Outcome run(int run) {
        Chaos.log("--- %s run %d: %s → %s", SCENARIO, run, versionA, versionB);
        double began = Procs.now();
        Writer w = null;
        LeaderWatch watch = null;
        try {
            fresh();
            int leader = cb().leader();
            watch = LeaderWatch.start(chaos.opt.addresses(), MAX_SECONDS);
            Writer writer = Writer.start(cb(), 50, MAX_SECONDS);
            w = writer;
            if (!Procs.waitUntil(Duration.ofSeconds(30), () -> writer.acks().size() >= 20)) {
                return failed(run, began, "the writer got fewer than 20 acknowledgements through HAProxy in 30 s");
            }
            Procs.sleep(1000);
            double t0 = Procs.now();
            List<Step> steps = new ArrayList<>();
            steps.add(install());
            for (int i = 0; i < chaos.opt.addresses().size(); i++) {
                if (i != leader) {
                    steps.add(restart(i, "follower"));
                }
            }
            steps.add(promote(promoteTarget(leader)));
            steps.add(restart(leader, "old leader"));
            double t1 = Procs.now();
            Procs.sleep(2000);
            w.close();
            watch.close();
            List<Writer.Ack> acks = w.acks();
            List<LeaderWatch.Sweep> sweeps = watch.sweeps();
            int finalLeader = cb().leader();
            List<Long> lost = chaos.lostOn(finalLeader, acks);
            Outcome o = new Outcome(run, chaos.syncOn, versionA, versionB, DebPackage.installedVersion(), acks.size(),
                    lost == null ? -1 : lost.size(), missingOnANode(acks), Writer.maxGap(acks, t0, t1),
                    steps.stream().map(s -> s.withGap(acks)).toList(),
                    (int) LeaderWatch.changes(sweeps).stream().filter(s -> s.at() >= t0).count(),
                    LeaderWatch.doubleLeaders(sweeps).size(), oldCode(), true, Procs.now() - began,
                    lost == null ? "no leader to read the acknowledged writes back from" : null);
            report(o);
            return o;
        } catch (Chaos.NotEffective e) {
            return failed(run, began, "the install did not take effect: " + e.getMessage());
        } catch (Exception e) {
            return failed(run, began, e.getClass().getSimpleName() + ": " + e.getMessage());
        } finally {
            if (w != null) {
                w.close();
            }
            if (watch != null) {
                watch.close();
            }
        }
    }

    /** Version A installed on a machine without chef-backend, and a healed cluster built from its chef-backend-ctl. */
    private void fresh() throws Exception {
        tearDown(chaos);
        Procs.Result install = DebPackage.install(debA);
        if (install.code() != 0 || !versionA.equals(DebPackage.installedVersion())) {
            throw new IllegalStateException("apt-get install " + debA + ": " + install.all());
        }
        chaos.setUp();
        chaos.setSynchronous(chaos.opt.synchronous());
        String unhealed = chaos.healCheck.await(Duration.ofSeconds(300));
        if (unhealed != null) {
            throw new IllegalStateException("the new cluster is not healed: " + unhealed);
        }
    }

    /**
     * A+1 installed once under the running cluster. Nothing may restart (postinst's promise), and every node's agent
     * must now hold replaced files: the probe that the check after the restarts can fail.
     */
    private Step install() throws Exception {
        List<Long> agents = agentPids();
        double from = Procs.now();
        Procs.Result r = DebPackage.install(debB);
        installedAt = Instant.now();
        double to = Procs.now();
        if (r.code() != 0 || !versionB.equals(DebPackage.installedVersion())) {
            throw new IllegalStateException("apt-get install " + debB + ": " + r.all());
        }
        if (!agents.equals(agentPids())) {
            throw new IllegalStateException("installing the package restarted a node's agent: " + agents + " → " + agentPids());
        }
        for (int i = 0; i < agents.size(); i++) {
            if (DebPackage.replaced(DebPackage.packageFiles(agents.get(i))).isEmpty()) {
                throw new Chaos.NotEffective(cb().nodeName(i) + "'s agent (pid " + agents.get(i) + ") holds no replaced "
                        + "file of " + DebPackage.OPT + " after the install");
            }
        }
        Chaos.log("installed %s under the running cluster in %.1f s; every agent still runs %s's files", versionB,
                to - from, versionA);
        return new Step("install " + versionB + " (apt-get)", "all", from, to, Double.NaN, Map.of("apt-get", to - from));
    }

    /** The agent's pid on every node (0 where none answers). */
    private List<Long> agentPids() {
        List<Long> pids = new ArrayList<>();
        for (int i = 0; i < chaos.opt.addresses().size(); i++) {
            List<Long> a = cb().agentProcesses(i);
            pids.add(a.isEmpty() ? 0L : a.get(0));
        }
        return pids;
    }

    /** chef-backend-ctl stop, then start, on node i; back when its status exits 0 and the cluster is healed. */
    private Step restart(int i, String role) {
        String name = cb().nodeName(i);
        // stopping the synchronous standby holds commits until the leader names the other follower: said per step
        String what = "restart " + role + (chaos.syncOn && name.equals(chaos.syncStandby()) ? " (synchronous standby)" : "");
        Chaos.log("%s %s: stop, start", what, name);
        long agent = agentPids().get(i);
        double from = Procs.now();
        Procs.Result stop = cb().ctl(i, Duration.ofSeconds(300), "stop");
        if (stop.code() != 0 || !Procs.waitUntil(Duration.ofSeconds(60), () -> !Procs.alive(agent))) {
            throw new IllegalStateException("stop " + name + " (exit " + stop.code() + ") left its agent " + agent
                    + " running: " + stop.all());
        }
        double stopped = Procs.now();
        Procs.Result start = cb().ctl(i, Duration.ofSeconds(300), "start");
        if (start.code() != 0) {
            throw new IllegalStateException("start " + name + ": " + start.all());
        }
        double started = Procs.now();
        if (!Procs.waitUntil(Duration.ofSeconds(300), () -> cb().ctl(i, Duration.ofSeconds(60), "status").code() == 0)) {
            throw new IllegalStateException("status on " + name + " did not exit 0 within 300 s of its start");
        }
        double up = Procs.now();
        awaitHealed("the restart of " + name);
        double to = Procs.now();
        Map<String, Double> parts = new LinkedHashMap<>();
        parts.put("stop", stopped - from);
        parts.put("start", started - stopped);
        parts.put("to status 0", up - started);
        parts.put("to healed", to - up);
        return new Step(what, name, from, to, Double.NaN, parts);
    }

    /** The synchronous standby when there is one (it holds every commit already), else the first follower. */
    private int promoteTarget(int leader) {
        String standby = chaos.syncOn ? chaos.syncStandby() : null;
        for (int i = 0; i < chaos.opt.addresses().size(); i++) {
            if (i != leader && (standby == null || cb().nodeName(i).equals(standby))) {
                return i;
            }
        }
        throw new IllegalStateException("no follower to promote");
    }

    /** chef-backend-ctl promote NODE (run on that node): a clean switchover; then healed. */
    private Step promote(int target) {
        String name = cb().nodeName(target);
        Chaos.log("promote %s", name);
        double from = Procs.now();
        Procs.Result p = cb().ctl(target, Duration.ofSeconds(240), "promote", name);
        if (p.code() != 0) {
            throw new IllegalStateException("promote " + name + ": " + p.all());
        }
        double done = Procs.now();
        if (!Procs.waitUntil(Duration.ofSeconds(30), () -> cb().leader() == target)) {
            throw new IllegalStateException("promote " + name + " exited 0, but " + name + " does not answer 200 on /leader");
        }
        awaitHealed("promote " + name);
        double to = Procs.now();
        Map<String, Double> parts = new LinkedHashMap<>();
        parts.put("promote", done - from);
        parts.put("to healed", to - done);
        return new Step("promote", name, from, to, Double.NaN, parts);
    }

    private void awaitHealed(String after) {
        String unhealed = chaos.healCheck.await(Duration.ofSeconds(300));
        if (unhealed != null) {
            throw new IllegalStateException("not healed 300 s after " + after + ": " + unhealed);
        }
    }

    /**
     * The most acknowledged ids missing on any one node, read directly, once replication caught up (each node polled
     * up to 30 s).
     */
    private int missingOnANode(List<Writer.Ack> acks) {
        List<Long> ids = acks.stream().map(Writer.Ack::id).toList();
        int worst = 0;
        for (int i = 0; i < chaos.opt.addresses().size(); i++) {
            String host = chaos.addr(i);
            int[] missing = {ids.size()};
            Procs.waitUntil(Duration.ofSeconds(30), () -> {
                try {
                    missing[0] = Writer.missing(cb(), host, ids).size();
                } catch (SQLException e) {
                    return false;
                }
                return missing[0] == 0;
            });
            worst = Math.max(worst, missing[0]);
        }
        return worst;
    }

    /**
     * What still runs the old package, node by node: an agent started before the install, or any process of its tree
     * (the agent, its watchdog, OpenSearch, ...) holding a file of /opt/chef-backend that the install replaced; an
     * agent holding none of the package's files at all is not running the package. Empty: all new.
     */
    private List<String> oldCode() {
        List<String> old = new ArrayList<>();
        List<Long> agents = agentPids();
        for (int i = 0; i < agents.size(); i++) {
            String name = cb().nodeName(i);
            long agent = agents.get(i);
            if (agent <= 0) {
                old.add(name + ": no agent answers /status");
                continue;
            }
            Optional<Instant> started = ProcessHandle.of(agent).flatMap(h -> h.info().startInstant());
            if (started.isEmpty() || started.get().isBefore(installedAt)) {
                old.add(name + ": its agent (pid " + agent + ") started before the install");
            }
            if (DebPackage.packageFiles(agent).isEmpty()) {
                old.add(name + ": its agent (pid " + agent + ") holds no file of " + DebPackage.OPT);
            }
            for (long pid : Chaos.withDescendants(agent)) {
                List<String> replaced = DebPackage.replaced(DebPackage.packageFiles(pid));
                if (!replaced.isEmpty()) {
                    old.add(name + ": pid " + pid + " holds " + replaced.size() + " replaced files, e.g. " + replaced.get(0));
                }
            }
        }
        return old;
    }

    /** The checker's negative control on the upgraded cluster: asynchronous, a frozen follower, a host crash. */
    Chaos.Outcome negativeControl() {
        try {
            if (chaos.healCheck == null || chaos.healCheck.await(Duration.ofSeconds(120)) != null) {
                return chaos.failed("control-async", 1, "no healed upgraded cluster to run the negative control on");
            }
            chaos.setSynchronous(false);
            return chaos.control(false, 1);
        } catch (Exception e) {
            return chaos.failed("control-async", 1, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    Outcome failed(int run, double began, String why) {
        Chaos.log("%s run %d FAILED: %s", SCENARIO, run, why);
        return new Outcome(run, chaos.syncOn, versionA, versionB, DebPackage.installedVersion(), 0, -1, -1, Double.NaN,
                List.of(), 0, 0, List.of(), false, Procs.now() - began, why);
    }

    static void report(Outcome o) {
        Chaos.log("%s run %d: %s → %s (dpkg-query: %s); %d acked, %d lost on the final leader, at most %d missing on a "
                + "node; longest write gap %.2f s; %d leader change(s), %d double-leader sweeps; old code: %s; %.0f s",
                SCENARIO, o.run(), o.from(), o.to(), o.installed(), o.acked(), o.lost(), o.missingOnANode(),
                o.longestGap(), o.leaderChanges(), o.doubleLeaderSweeps(), o.oldCode().isEmpty() ? "none" : o.oldCode(),
                o.seconds());
        for (Step s : o.steps()) {
            Chaos.log("  %s %s: %.1f s, longest write gap %.2f s, %s", s.what(), s.node(), s.seconds(), s.gap(), s.parts());
        }
    }
}
