package org.chefbackend.bench;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.chefbackend.system.FileTrees;

/**
 * {@code bin/bench COMMAND [options]}: chef-backend next to Patroni, on the same PostgreSQL/etcd/HAProxy parts,
 * measured in the same run. Every benchmark prints a table, saves it to docs/results/bench.json and regenerates the
 * benchmark section of docs/RESULTS.md. Every wait is bounded; every process started is ended by pid, also on
 * failure or Ctrl-C.
 */
public final class Bench {
    static final List<String> BENCHES = List.of("coldstart", "status", "resources", "throughput", "switchover",
            "failover", "join", "attack", "throughput_sync", "pitr");
    static final String USAGE = """
            usage: bin/bench COMMAND[,COMMAND...] [--ttl S] [--runs N] [options]
              all          every benchmark below, in one run (the documented full run)
              coldstart    3-node cold start to a healthy cluster (chef-backend: create-cluster + 2 join-cluster)
              failover     host crash of the leader (kill -9 of all its processes, etcd member included) until a
                           write through HAProxy succeeds; then the host started again until it streams from the
                           new leader, and how it rejoined (rewind/none/basebackup); N runs, median/min/max
              switchover   graceful switchover (chef-backend-ctl promote / patronictl switchover) write gap through
                           HAProxy under a steady writer; acknowledged writes checked, none may be lost
              throughput   pgbench through HAProxy relative to a direct single PostgreSQL (asynchronous)
              throughput_sync  the same with synchronous replication (leaderl.synchronous_mode true)
              resources    RSS and CPU over an idle window of the HA agent (JVM + watchdog) and of Patroni
              status       chef-backend-ctl status latency next to patronictl list (median of --status-runs)
              join         join-cluster time for --join-scale pgbench data (68 ≈ 1 GiB) relative to a bare pg_basebackup
              pitr         point-in-time restore of --join-scale pgbench data (68 ≈ 1 GiB) to a chosen second next to the
                           documents' tarball restore of the same data, one node on 127.0.0.74 (HAProxy .75)
              attack       the leader's HA agent under 200 idle connections, 50 half-sent requests and 3 unsigned
                           120 MiB bodies for --attack-seconds; GET /leader every 100 ms (max/p99/median, failures),
                           then OutOfMemoryError in the agent's log, its process and heap (Patroni: REST API :8008)
              report       regenerate docs/RESULTS.md's benchmark section from docs/results/bench.json
            options: --ttl 10 (leader TTL of both) --heartbeat 100 --election 1000 (etcd ms, both) --runs 5
                     --status-runs 10 --idle-seconds 60 --pgbench-seconds 20 --pgbench-rounds 2 --pgbench-scale 10
                     --join-scale 68 --attack-seconds 30 --json docs/results/bench.json --report docs/RESULTS.md
            addresses: chef-backend 127.0.0.71-73 (HAProxy .70), Patroni 127.0.0.81-83 (HAProxy .80),
                       direct PostgreSQL 127.0.0.90; roots under /tmp/cbit-i8""";

    final Map<String, String> opt = new LinkedHashMap<>(Map.ofEntries(Map.entry("ttl", "10"),
            Map.entry("heartbeat", "100"), Map.entry("election", "1000"), Map.entry("runs", "5"),
            Map.entry("status-runs", "10"), Map.entry("idle-seconds", "60"), Map.entry("pgbench-seconds", "20"),
            Map.entry("pgbench-rounds", "2"), Map.entry("pgbench-scale", "10"), Map.entry("join-scale", "68"),
            Map.entry("attack-seconds", "30"),
            Map.entry("json", "docs/results/bench.json"), Map.entry("report", "docs/RESULTS.md"),
            Map.entry("root", "/tmp/cbit-i8")));
    final Path repo;
    HaCluster cb;
    PatroniCluster patroni;
    DirectPostgres direct;
    Map<String, String> pgParameters;
    String loadAtColdStart = "";
    double cbColdStart = Double.NaN;
    double patroniColdStart = Double.NaN;

    Bench(Path repo) {
        this.repo = repo;
    }

    /** pgjdbc logs broken connections (expected here: crashes, switchovers) with stack traces; keep them quiet. */
    static final Logger PGJDBC_LOG = Logger.getLogger("org.postgresql");

    public static void main(String[] args) {
        PGJDBC_LOG.setLevel(Level.OFF);
        Path repo = Path.of(System.getProperty("chefbackend.repo", ".")).toAbsolutePath().normalize();
        Bench b = new Bench(repo);
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            System.out.println(USAGE);
            System.exit(args.length == 0 ? 2 : 0);
        }
        String cmd = args[0];
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || !b.opt.containsKey(a.substring(2)) || i + 1 >= args.length) {
                System.err.println("bench: unknown or incomplete option '" + a + "' (see bin/bench --help)");
                System.exit(2);
            }
            b.opt.put(a.substring(2), args[++i]);
        }
        for (String k : List.of("ttl", "heartbeat", "election", "runs", "status-runs", "idle-seconds", "pgbench-seconds",
                "pgbench-rounds", "pgbench-scale", "join-scale", "attack-seconds")) {
            if (!b.opt.get(k).matches("[1-9][0-9]{0,6}")) {
                System.err.println("bench: --" + k + " must be a positive integer, not '" + b.opt.get(k) + "'");
                System.exit(2);
            }
        }
        Set<String> which = new LinkedHashSet<>();
        if (cmd.equals("all")) {
            which.addAll(BENCHES);
        } else if (!cmd.equals("report")) {
            for (String one : cmd.split(",")) {
                if (!BENCHES.contains(one)) {
                    System.err.println("bench: unknown command '" + one + "' (see bin/bench --help)");
                    System.exit(2);
                }
            }
            // in the order of BENCHES: one cluster pair serves them all
            BENCHES.stream().filter(List.of(cmd.split(","))::contains).forEach(which::add);
        }
        int code;
        try {
            code = b.run(which);
        } catch (Exception e) {
            System.err.println("bench: " + e.getMessage());
            code = 1;
        }
        System.exit(code);
    }

    int n(String key) {
        return Integer.parseInt(opt.get(key));
    }

    Path json() {
        return repo.resolve(opt.get("json"));
    }

    int run(Set<String> which) throws Exception {
        if (which.isEmpty()) {
            ResultsReport.write(repo.resolve(opt.get("report")), ResultsReport.load(json()), json());
            System.out.println("wrote " + repo.resolve(opt.get("report")));
            return 0;
        }
        Thread hook = new Thread(this::closeAll, "bench-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        int failures = 0;
        try {
            setUp(which);
            for (String bench : which) {
                BenchTable t;
                try {
                    System.out.println("\n-- running " + bench + " (" + Load.uptime() + ")");
                    t = switch (bench) {
                        case "coldstart" -> coldstart();
                        case "status" -> status();
                        case "resources" -> resources();
                        case "throughput" -> throughput(false);
                        case "switchover" -> switchover();
                        case "failover" -> failover();
                        case "join" -> join();
                        case "attack" -> attack();
                        case "throughput_sync" -> throughput(true);
                        case "pitr" -> new PitrBench(repo, root().resolve("pitr"), n("join-scale"),
                                ChefBackendCluster.settings(n("ttl"), n("heartbeat"), n("election"), false)).run();
                        default -> throw new IllegalStateException(bench);
                    };
                } catch (Exception e) {
                    failures++;
                    System.err.println("bench " + bench + " failed: " + e.getMessage());
                    t = new BenchTable(bench, bench + " (failed)").note("the benchmark failed: " + e.getMessage());
                }
                t.plots.putAll(plots.getOrDefault(bench, Map.of()));
                System.out.print(t.text());
                ResultsReport.save(json(), t);
            }
        } finally {
            closeAll();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // already shutting down
            }
        }
        ResultsReport.write(repo.resolve(opt.get("report")), ResultsReport.load(json()), json());
        System.out.println("\nresults: " + json() + "; report: " + repo.resolve(opt.get("report")));
        return failures == 0 ? 0 : 1;
    }

    synchronized void closeAll() {
        for (AutoCloseable c : new AutoCloseable[] {cb, patroni, direct}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    System.err.println("cleanup: " + e.getMessage());
                }
            }
        }
    }

    Path root() {
        return Path.of(opt.get("root"));
    }

    ChefBackendCluster newCb(boolean synchronous) {
        return new ChefBackendCluster(repo, root().resolve("cb"), List.of("127.0.0.71", "127.0.0.72", "127.0.0.73"),
                "127.0.0.70", ChefBackendCluster.settings(n("ttl"), n("heartbeat"), n("election"), synchronous));
    }

    void setUp(Set<String> which) throws Exception {
        ChefBackendCluster c = newCb(false);
        cb = c;
        pgParameters = c.renderedPostgresParameters();
        patroni = new PatroniCluster(root().resolve("patroni"), List.of("127.0.0.81", "127.0.0.82", "127.0.0.83"),
                "127.0.0.80", n("ttl"), n("heartbeat"), n("election"), pgParameters, false);
        if (which.equals(Set.of("pitr"))) {
            return; // builds its own node
        }
        if (which.size() == 1 && which.contains("throughput_sync")) {
            startDirect();
            return; // builds its own clusters
        }
        loadAtColdStart = Load.uptime();
        System.out.println("starting the chef-backend cluster (" + loadAtColdStart + ")");
        double t0 = Procs.now();
        cb.coldStart();
        cbColdStart = Procs.now() - t0;
        System.out.printf(Locale.ROOT, "chef-backend healthy after %.1f s%n", cbColdStart);
        System.out.println("starting the Patroni cluster (" + Load.uptime() + ")");
        t0 = Procs.now();
        patroni.coldStart();
        patroniColdStart = Procs.now() - t0;
        System.out.printf(Locale.ROOT, "Patroni healthy after %.1f s (ttl %d as running)%n", patroniColdStart,
                patroni.runningTtl());
        if (which.contains("throughput") || which.contains("throughput_sync")) {
            startDirect();
        }
        Writer.createTable(cb);
        Writer.createTable(patroni);
    }

    void startDirect() throws Exception {
        direct = new DirectPostgres(root().resolve("direct"), "127.0.0.90");
        direct.start(pgParameters);
    }

    // ---------------------------------------------------------------------------------------------------------------

    BenchTable coldstart() throws Exception {
        BenchTable t = new BenchTable("coldstart", "3-node cold start to a healthy cluster");
        t.loadBefore = loadAtColdStart;
        List<Double> cbTimes = new ArrayList<>(List.of(cbColdStart));
        List<Double> pTimes = new ArrayList<>(List.of(patroniColdStart));
        int runs = opt.containsKey("coldstart-runs") ? n("coldstart-runs") : 1;
        for (int r = 1; r < runs; r++) {
            double t0 = Procs.now();
            cb.coldStart();
            cbTimes.add(Procs.now() - t0);
            t0 = Procs.now();
            patroni.coldStart();
            pTimes.add(Procs.now() - t0);
        }
        Stats c = Stats.of(cbTimes);
        Stats p = Stats.of(pTimes);
        t.row("empty directories → leader + 2 streaming, eligible followers", c.format("%.1f", " s"), p.format("%.1f", " s"),
                BenchTable.ratio(c.median(), p.median()));
        t.note("chef-backend: `create-cluster` on node 1, then `join-cluster` on nodes 2 and 3 one after the other "
                + "(etcd, PostgreSQL base backup, OpenSearch cluster of 3 with 512 MB heaps) until cluster-status shows "
                + "one leader and two synced, eligible followers. Patroni: 3 etcd members and 3 Patroni nodes started at "
                + "once (PostgreSQL only, no search engine) until /cluster shows a leader and two running replicas. "
                + "Both also require the leader's pg_stat_replication to show 2 streaming.");
        t.data.put("chef_backend_s", cbTimes.toString()).put("patroni_s", pTimes.toString());
        return t;
    }

    BenchTable status() {
        BenchTable t = new BenchTable("status", "`status` latency");
        List<Double> c = new ArrayList<>();
        List<Double> p = new ArrayList<>();
        for (int r = 0; r < n("status-runs"); r++) {
            Procs.Result a = cb.statusCommand();
            if (a.code() == 0) {
                c.add(a.seconds());
            }
            Procs.Result b = patroni.statusCommand();
            if (b.code() == 0) {
                p.add(b.seconds());
            }
        }
        List<Double> ch = new ArrayList<>();
        List<Double> ph = new ArrayList<>();
        for (int r = 0; r < Math.min(5, n("status-runs")); r++) {
            ch.add(Procs.run(Duration.ofSeconds(60), repo.resolve("bin/chef-backend-ctl").toString(), "--help").seconds());
            ph.add(Procs.run(Duration.ofSeconds(60), "patronictl", "--help").seconds());
        }
        Stats sc = Stats.of(c);
        Stats sp = Stats.of(p);
        Stats hc = Stats.of(ch);
        Stats hp = Stats.of(ph);
        t.row("`chef-backend-ctl status` vs `patronictl list` (wall time, whole command)", sc.format("%.2f", " s"),
                sp.format("%.2f", " s"), BenchTable.ratio(sc.median(), sp.median()));
        t.row("of which the CLI's start-up alone (`--help`)", hc.format("%.2f", " s"), hp.format("%.2f", " s"),
                BenchTable.ratio(hc.median(), hp.median()));
        t.target("`status` ≤ 0.3 s median", BenchTable.f("%.2f s", sc.median()),
                sc.n() == 0 ? null : sc.median() <= 0.3);
        t.note("Each command is started as an operator would, alternating the two systems; the time includes the "
                + "JVM's (resp. Python's) start-up. Failed invocations are left out (chef-backend " + (n("status-runs") - c.size())
                + ", Patroni " + (n("status-runs") - p.size()) + ").");
        return t;
    }

    BenchTable resources() throws Exception {
        BenchTable t = new BenchTable("resources", "HA agent memory and idle CPU");
        Procs.sleep(10_000); // start-up work settles first
        int idle = n("idle-seconds");
        List<List<Long>> cbAgents = new ArrayList<>();
        List<List<Long>> pAgents = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            cbAgents.add(cb.agentProcesses(i));
            pAgents.add(patroni.agentProcesses(i));
        }
        if (cbAgents.stream().anyMatch(List::isEmpty) || pAgents.stream().anyMatch(List::isEmpty)) {
            throw new IllegalStateException("agent processes not found: chef-backend " + cbAgents + ", Patroni " + pAgents);
        }
        long[] c0 = ticks(cbAgents);
        long[] p0 = ticks(pAgents);
        double t0 = Procs.now();
        Procs.sleep(idle * 1000L);
        long[] c1 = ticks(cbAgents);
        long[] p1 = ticks(pAgents);
        double secs = Procs.now() - t0;
        List<Double> cbRss = rssMiB(cbAgents);
        List<Double> pRss = rssMiB(pAgents);
        List<Double> cbCpu = new ArrayList<>();
        List<Double> pCpu = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            cbCpu.add((c1[i] - c0[i]) / 100.0 / secs * 100);
            pCpu.add((p1[i] - p0[i]) / 100.0 / secs * 100);
        }
        Stats sr = Stats.of(cbRss);
        Stats pr = Stats.of(pRss);
        Stats sc = Stats.of(cbCpu);
        Stats pc = Stats.of(pCpu);
        t.row("agent RSS per node (chef-backend: JVM + watchdog; Patroni: python)", sr.format("%.0f", " MiB"),
                pr.format("%.0f", " MiB"), BenchTable.ratio(sr.median(), pr.median()));
        t.row("agent CPU per node over " + idle + " s idle (% of one core)", sc.format("%.2f", " %"),
                pc.format("%.2f", " %"), BenchTable.ratio(sc.median(), pc.median()));
        t.target("agent RSS ≤ 90 MiB at idle", BenchTable.f("%.0f MiB", sr.max()) + " (largest of 3 nodes)",
                sr.max() <= 90);
        long agent = cbAgents.get(0).get(0);
        String heap = Procs.run(Duration.ofSeconds(30), "jcmd", String.valueOf(agent), "GC.heap_info").out();
        String jvm = Procs.cmdline(agent).replaceAll(" -cp .*", "").replaceAll("^\\S*java ", "");
        t.note("chef-backend's agent JVM (node 1) runs with `" + jvm + "`; `jcmd GC.heap_info` at the end of the window: "
                + heap.lines().map(String::trim).filter(l -> !l.isEmpty() && !l.matches("^[0-9]+:$"))
                        .map(l -> l.replaceAll("\\s+\\[.*", "")).reduce((a, b) -> a + "; " + b).orElse("n/a") + ".");
        t.note("Median over the 3 nodes of each cluster, both clusters measured in the same idle window. chef-backend's "
                + "agent also runs leaderl's HA loop (every second) and the health checks; Patroni runs its HA loop every "
                + "loop_wait = " + PatroniCluster.timings(n("ttl"))[0] + " s.");
        t.data.put("chef_backend_rss_mib", cbRss.toString()).put("patroni_rss_mib", pRss.toString())
                .put("chef_backend_cpu_pct", cbCpu.toString()).put("patroni_cpu_pct", pCpu.toString());
        return t;
    }

    static long[] ticks(List<List<Long>> agents) {
        long[] t = new long[agents.size()];
        for (int i = 0; i < t.length; i++) {
            t[i] = agents.get(i).stream().mapToLong(Procs::cpuTicks).sum();
        }
        return t;
    }

    static List<Double> rssMiB(List<List<Long>> agents) {
        return agents.stream().map(a -> a.stream().mapToLong(Procs::rssKib).sum() / 1024.0).toList();
    }

    // ---------------------------------------------------------------------------------------------------------------

    static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");

    double pgbench(String host, String password, boolean init) {
        Map<String, String> env = Map.of("PGPASSWORD", password, "PGCONNECT_TIMEOUT", "10", "PGSSLMODE", "disable");
        if (init) {
            Procs.Result r = Procs.run(Duration.ofSeconds(1800), env, List.of("pgbench", "-h", host, "-p", "5432", "-U",
                    "chef_pgsql", "-i", "-q", "-s", String.valueOf(n("pgbench-scale")), "postgres"));
            if (r.code() != 0) {
                throw new IllegalStateException("pgbench -i on " + host + ": " + r.all());
            }
            return Double.NaN;
        }
        int secs = n("pgbench-seconds");
        Procs.Result r = Procs.run(Duration.ofSeconds(secs + 120L), env, List.of("pgbench", "-h", host, "-p", "5432", "-U",
                "chef_pgsql", "-c", "4", "-j", "2", "-n", "-T", String.valueOf(secs), "postgres"));
        Matcher m = TPS.matcher(r.out());
        if (r.code() != 0 || !m.find()) {
            throw new IllegalStateException("pgbench on " + host + ": " + r.all());
        }
        return Double.parseDouble(m.group(1));
    }

    /** Every process of the cluster's hosts except PostgreSQL's (ticks are 1/100 s, so ticks per second = % of a core). */
    static List<Long> nonPostgres(HaCluster c) {
        List<Long> pids = new ArrayList<>();
        for (int i = 0; i < c.addresses().size(); i++) {
            for (long pid : c.hostProcesses(i)) {
                String cmd = Procs.cmdline(pid);
                if (!cmd.startsWith("postgres") && !cmd.contains("/bin/postgres ")) {
                    pids.add(pid);
                }
            }
        }
        return pids;
    }

    String show(HaCluster c, String setting) {
        try (Connection conn = c.connect(c.proxy(), 5, 10); Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery("show " + setting)) {
            rs.next();
            return rs.getString(1);
        } catch (Exception e) {
            return "?";
        }
    }

    BenchTable throughput(boolean synchronous) throws Exception {
        String key = synchronous ? "throughput_sync" : "throughput";
        BenchTable t = new BenchTable(key, "pgbench through HAProxy relative to a direct single PostgreSQL ("
                + (synchronous ? "synchronous" : "asynchronous") + " replication)");
        if (synchronous) {
            ChefBackendCluster sync = newCb(true);
            String problem = sync.configProblem();
            if (problem != null) {
                t.note("skipped: this build rejects `leaderl.synchronous_mode true` (" + problem + "); the synchronous "
                        + "case runs once that setting is merged.");
                t.target("throughput through HAProxy (synchronous), reported next to Patroni's", "skipped", null);
                return t;
            }
            if (cb != null) {
                cb.close();
            }
            cb = sync;
            System.out.println("rebuilding chef-backend with leaderl.synchronous_mode true");
            cb.coldStart();
            if (patroni.leader() < 0) {
                patroni.coldStart();
            }
            if (!patroni.setSynchronous(true)) {
                throw new IllegalStateException("patronictl edit-config synchronous_mode=true failed");
            }
            boolean on = Procs.waitUntil(Duration.ofSeconds(60), () -> !show(cb, "synchronous_standby_names").isBlank()
                    && !show(cb, "synchronous_standby_names").equals("?")
                    && !show(patroni, "synchronous_standby_names").isBlank()
                    && !show(patroni, "synchronous_standby_names").equals("?"));
            t.note("synchronous_standby_names while measured: chef-backend '" + show(cb, "synchronous_standby_names")
                    + "', Patroni '" + show(patroni, "synchronous_standby_names") + "'" + (on ? "" : " (NOT both set)"));
        }
        pgbench(direct.address(), direct.password(), true);
        pgbench(cb.proxy(), cb.password(), true);
        pgbench(patroni.proxy(), patroni.password(), true);
        List<Double> d = new ArrayList<>();
        List<Double> c = new ArrayList<>();
        List<Double> p = new ArrayList<>();
        List<Double> cl = new ArrayList<>();
        List<Double> pl = new ArrayList<>();
        List<Double> cbOthers = new ArrayList<>();
        List<Double> pOthers = new ArrayList<>();
        for (int r = 0; r < n("pgbench-rounds"); r++) {
            d.add(pgbench(direct.address(), direct.password(), false));
            List<Long> others = nonPostgres(cb);
            long c0 = others.stream().mapToLong(Procs::cpuTicks).sum();
            double t0 = Procs.now();
            c.add(pgbench(cb.proxy(), cb.password(), false));
            cbOthers.add((others.stream().mapToLong(Procs::cpuTicks).sum() - c0) / (Procs.now() - t0));
            others = nonPostgres(patroni);
            c0 = others.stream().mapToLong(Procs::cpuTicks).sum();
            t0 = Procs.now();
            p.add(pgbench(patroni.proxy(), patroni.password(), false));
            pOthers.add((others.stream().mapToLong(Procs::cpuTicks).sum() - c0) / (Procs.now() - t0));
            cl.add(pgbench(cb.addresses().get(cb.leader()), cb.password(), false));
            pl.add(pgbench(patroni.addresses().get(patroni.leader()), patroni.password(), false));
        }
        if (synchronous) {
            patroni.setSynchronous(false);
        }
        Stats sd = Stats.of(d);
        Stats sc = Stats.of(c);
        Stats sp = Stats.of(p);
        Stats scl = Stats.of(cl);
        Stats spl = Stats.of(pl);
        t.row("direct single PostgreSQL (same parameters, no replication)", sd.format("%.0f", " tps"),
                sd.format("%.0f", " tps"), "");
        t.row("direct to the cluster's leader (no HAProxy)", scl.format("%.0f", " tps"), spl.format("%.0f", " tps"),
                BenchTable.ratio(scl.median(), spl.median()));
        t.row("through HAProxy to the leader", sc.format("%.0f", " tps"), sp.format("%.0f", " tps"),
                BenchTable.ratio(sc.median(), sp.median()));
        t.row("through HAProxy / direct to the same leader (the proxy's cost)",
                BenchTable.f("%.2f×", sc.median() / scl.median()), BenchTable.f("%.2f×", sp.median() / spl.median()), "");
        t.row("through HAProxy / direct single PostgreSQL", BenchTable.f("%.2f×", sc.median() / sd.median()),
                BenchTable.f("%.2f×", sp.median() / sd.median()), "");
        t.row("CPU of the cluster's other processes during its HAProxy runs (agents, etcd, search; % of one core)",
                Stats.of(cbOthers).format("%.0f", " %"), Stats.of(pOthers).format("%.0f", " %"),
                BenchTable.ratio(Stats.of(cbOthers).median(), Stats.of(pOthers).median()));
        if (!synchronous) {
            t.target("throughput through HAProxy ≥ 0.95× direct (asynchronous), direct = a single PostgreSQL without "
                    + "replicas", BenchTable.f("%.3f×", sc.median() / sd.median()), sc.median() / sd.median() >= 0.95);
            t.target("throughput through HAProxy ≥ 0.95× direct (asynchronous), direct = the same leader without HAProxy",
                    BenchTable.f("%.3f×", sc.median() / scl.median()), sc.median() / scl.median() >= 0.95);
        } else {
            t.target("throughput through HAProxy (synchronous), next to Patroni's", BenchTable.ratio(sc.median(), sp.median())
                    + " of Patroni's; " + BenchTable.f("%.2f×", sc.median() / sd.median()) + " of a single PostgreSQL", null);
        }
        t.note("pgbench (TPC-B-like) scale " + n("pgbench-scale") + ", 4 clients, 2 threads, " + n("pgbench-seconds")
                + " s per run, " + n("pgbench-rounds") + " rounds interleaved (direct single → chef-backend via HAProxy → "
                + "Patroni via HAProxy → chef-backend's leader → Patroni's leader); median. All servers run with "
                + "chef-backend's rendered postgresql.conf parameters; clients connect without TLS to all (chef-backend's "
                + "PostgreSQL also offers TLS, the others do not). The single server has no followers; the clusters' "
                + "leaders stream WAL to 2 followers on the same 2 CPUs"
                + (synchronous ? " and wait for a synchronous standby on every commit." : "."));
        t.data.put("direct_tps", d.toString()).put("chef_backend_tps", c.toString()).put("patroni_tps", p.toString())
                .put("chef_backend_leader_tps", cl.toString()).put("patroni_leader_tps", pl.toString());
        return t;
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** True when host i's etcd member is its cluster's leader (v2's self statistics); null when it cannot tell. */
    static Boolean etcdLeaderOn(HaCluster c, int i) {
        String body = c.etcdGet(i, "/v2/stats/self");
        if (body == null) {
            return null;
        }
        try {
            return "StateLeader".equals(BenchTable.JSON.readTree(body).path("state").asText());
        } catch (Exception e) {
            return null;
        }
    }

    /** {@code rejoinPath}/{@code rejoinAfter}: how the crashed host, started again, rejoined, and when it streamed. */
    record Crash(double seconds, double elected, boolean etcdLeader, int lost, int acked, String rejoinPath,
            double rejoinAfter) {
    }

    /** Seconds from {@code t0} until a node other than {@code old} answers 200 on its health check; NaN after 180 s. */
    static Thread electionWatch(HaCluster c, int old, double t0, double[] out) {
        out[0] = Double.NaN;
        Thread th = new Thread(() -> {
            while (Procs.now() < t0 + 180 && !Thread.currentThread().isInterrupted()) {
                int l = c.leader();
                if (l >= 0 && l != old) {
                    out[0] = Procs.now() - t0;
                    return;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "election-watch");
        th.setDaemon(true);
        th.start();
        return th;
    }

    Crash crash(HaCluster c, int run) throws Exception {
        if (!c.waitHealthy(Duration.ofSeconds(600))) {
            throw new IllegalStateException(c.system() + " not healthy before crash run " + run);
        }
        int l = c.leader();
        String addr = c.addresses().get(l);
        Boolean etcdLeader = etcdLeaderOn(c, l);
        try (Writer w = Writer.start(c, 50, 300)) {
            Procs.sleep(2000);
            if (w.acks().isEmpty()) {
                throw new IllegalStateException(c.system() + ": the writer got no acknowledgement before the crash");
            }
            List<Long> pids = c.hostProcesses(l);
            double t0 = Procs.now();
            Procs.kill9(pids);
            double[] elected = new double[1];
            Thread watch = electionWatch(c, l, t0, elected);
            boolean restarted = false;
            try {
                // the crash took effect: none of the host's processes lives, nothing answers on its PostgreSQL port
                if (!Procs.waitUntil(Duration.ofSeconds(10), () -> pids.stream().noneMatch(Procs::alive) && !Procs.open(addr, 5432))) {
                    throw new IllegalStateException(c.system() + ": host " + addr + " still has live processes after kill -9");
                }
                // recovery = a write sent once the host is dead is acknowledged (not one in flight at the kill)
                double dead = Procs.now();
                if (!Procs.waitUntil(Duration.ofSeconds(180), () -> w.firstAckAfter(dead) != null)) {
                    throw new IllegalStateException(c.system() + ": no write through HAProxy within 180 s of the crash");
                }
                double seconds = w.firstAckAfter(dead).at() - t0;
                watch.join(10_000);
                Procs.sleep(3000); // the plot shows the writes after recovery too
                w.close();
                List<Long> lost = Writer.lost(c, w.acks());
                if (run == 1) {
                    plot("failover", c, w.acks(), t0 - 2, Procs.now(), List.of(new LineChart.Marker(t0, "kill -9 leader host"),
                            new LineChart.Marker(t0 + seconds, String.format(Locale.ROOT, "write ok +%.1f s", seconds))));
                }
                // the crashed host started again, timed until the new leader shows it streaming (both systems alike)
                long mark = c.rejoinMark(l);
                restarted = true;
                String path;
                double rejoin;
                try (RejoinWatch back = RejoinWatch.start(c, l, 300)) {
                    c.restartHost(l);
                    back.await(Duration.ofSeconds(300));
                    // chef-backend records its rejoin at its own next look at itself streaming, seconds later
                    Procs.waitUntil(Duration.ofSeconds(15), () -> !back.streamed() || c.rejoinPath(l, mark) != null);
                    path = back.path(back.streamed() ? c.rejoinPath(l, mark) : null);
                    rejoin = back.streamingAfter();
                }
                System.out.printf(Locale.ROOT, "%s crash run %d: leader %s (etcd leader there: %s) → new leader's health "
                        + "check 200 after %.2f s, write through HAProxy after %.2f s; %d of %d acknowledged writes lost; "
                        + "started again: %s, streaming after %.1f s%n", c.system(), run, addr, etcdLeader, elected[0],
                        seconds, lost.size(), w.acks().size(), path, rejoin);
                return new Crash(seconds, elected[0], Boolean.TRUE.equals(etcdLeader), lost.size(), w.acks().size(), path,
                        rejoin);
            } finally {
                watch.interrupt();
                w.close();
                if (!restarted) {
                    c.restartHost(l); // also when the measurement failed, so the next run finds 3 hosts
                }
            }
        }
    }

    /** Plots written by this run, by benchmark: file name (next to the JSON) → caption. */
    final Map<String, Map<String, String>> plots = new LinkedHashMap<>();

    void plot(String bench, HaCluster c, List<Writer.Ack> acks, double start, double end, List<LineChart.Marker> marks) {
        String file = bench + "-" + c.system().toLowerCase(Locale.ROOT).replace("-", "") + ".png";
        String caption = c.system() + ": acknowledged writes per second through HAProxy, " + bench + " run 1";
        try {
            double last = acks.isEmpty() ? end : Math.min(end, acks.get(acks.size() - 1).at());
            LineChart.write(json().getParent().resolve(file), caption, acks.stream().map(Writer.Ack::at).toList(), start,
                    last, marks);
            plots.computeIfAbsent(bench, k -> new LinkedHashMap<>()).put(file, caption);
        } catch (Exception e) {
            System.err.println("plot " + file + ": " + e.getMessage());
        }
    }

    BenchTable failover() throws Exception {
        int ttl = n("ttl");
        double bound = ttl + n("election") / 1000.0 + 3;
        BenchTable t = new BenchTable("failover", "Host crash of the leader: failover time at equal TTL (" + ttl + " s)");
        List<Crash> c = new ArrayList<>();
        List<Crash> p = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (int r = 1; r <= n("runs"); r++) {
            for (HaCluster sys : List.of(cb, patroni)) {
                try {
                    (sys == cb ? c : p).add(crash(sys, r));
                } catch (Exception e) {
                    failed.add(sys.system() + " run " + r + ": " + e.getMessage());
                    System.err.println("failover " + sys.system() + " run " + r + " failed: " + e.getMessage());
                }
            }
        }
        failed.forEach(f -> t.note("failed run (counted as missing the bound): " + f));
        Stats sc = Stats.of(c.stream().map(Crash::seconds).toList());
        Stats sp = Stats.of(p.stream().map(Crash::seconds).toList());
        t.row("kill -9 of every process of the leader host → first write through HAProxy", sc.format("%.1f", " s"),
                sp.format("%.1f", " s"), BenchTable.ratio(sc.median(), sp.median()));
        Stats ec = Stats.of(c.stream().map(Crash::elected).filter(x -> !x.isNaN()).toList());
        Stats ep = Stats.of(p.stream().map(Crash::elected).filter(x -> !x.isNaN()).toList());
        t.row("of which until a survivor's health check answers 200 (elected and writable)", ec.format("%.1f", " s"),
                ep.format("%.1f", " s"), BenchTable.ratio(ec.median(), ep.median()));
        List<Double> cEt = c.stream().filter(Crash::etcdLeader).map(Crash::seconds).toList();
        List<Double> pEt = p.stream().filter(Crash::etcdLeader).map(Crash::seconds).toList();
        List<Double> cNo = c.stream().filter(x -> !x.etcdLeader()).map(Crash::seconds).toList();
        List<Double> pNo = p.stream().filter(x -> !x.etcdLeader()).map(Crash::seconds).toList();
        t.row("runs where the crashed host also led etcd: time to write", Stats.of(cEt).format("%.1f", " s"),
                Stats.of(pEt).format("%.1f", " s"), BenchTable.ratio(Stats.of(cEt).median(), Stats.of(pEt).median()));
        t.row("runs where it did not: time to write", Stats.of(cNo).format("%.1f", " s"),
                Stats.of(pNo).format("%.1f", " s"), BenchTable.ratio(Stats.of(cNo).median(), Stats.of(pNo).median()));
        Stats rc = Stats.of(c.stream().map(Crash::rejoinAfter).filter(x -> !x.isNaN()).toList());
        Stats rp = Stats.of(p.stream().map(Crash::rejoinAfter).filter(x -> !x.isNaN()).toList());
        t.row("crashed host started again → streaming from the new leader", rc.format("%.1f", " s"),
                rp.format("%.1f", " s"), BenchTable.ratio(rc.median(), rp.median()));
        t.row("how the crashed host rejoined (runs)", RejoinWatch.tally(c.stream().map(Crash::rejoinPath).toList()),
                RejoinWatch.tally(p.stream().map(Crash::rejoinPath).toList()), "");
        t.row("runs where the crashed host also led etcd", String.valueOf(c.stream().filter(Crash::etcdLeader).count()),
                String.valueOf(p.stream().filter(Crash::etcdLeader).count()), "");
        t.row("acknowledged writes lost (asynchronous; of all acknowledged)",
                c.stream().mapToInt(Crash::lost).sum() + " of " + c.stream().mapToInt(Crash::acked).sum(),
                p.stream().mapToInt(Crash::lost).sum() + " of " + p.stream().mapToInt(Crash::acked).sum(), "");
        t.target("host crash: every run ≤ TTL + etcd election timeout + 3 s = " + BenchTable.f("%.0f s", bound),
                "max " + BenchTable.f("%.1f s", sc.max()) + (failed.isEmpty() ? "" : ", " + failed.size() + " failed run(s)"),
                sc.n() == 0 ? null : sc.max() <= bound && failed.stream().noneMatch(f -> f.startsWith("chef-backend")));
        t.target("host crash: median no slower than Patroni's at equal TTL",
                BenchTable.f("%.1f s", sc.median()) + " vs " + BenchTable.f("%.1f s", sp.median()),
                sc.n() == 0 || sp.n() == 0 ? null : sc.median() <= sp.median());
        int[] pt = PatroniCluster.timings(ttl);
        t.note("Both: leader TTL " + ttl + " s, etcd heartbeat " + n("heartbeat") + " ms / election " + n("election")
                + " ms, HAProxy check every 1 s (fall 1, rise 1). Patroni: loop_wait " + pt[0] + " s, retry_timeout "
                + pt[1] + " s, maximum_lag_on_failover 50 MB (chef-backend's max_bytes_behind_leader). A writer inserts "
                + "one row per transaction every 50 ms through HAProxy; the figure is the time from the kill to the "
                + "acknowledgement of the first write sent after every process of the host was gone. The crashed host "
                + "is started again (3 s after that write) and the cluster is healthy again before the next run; runs "
                + "alternate between the two systems.");
        t.note("Rejoin: from the crashed host's start until the new leader's pg_stat_replication shows a walsender to "
                + "its application_name in state 'streaming' (polled every 200 ms, the same query for both; bound 300 s). "
                + "Path: chef-backend's own record (leaderl's last-rejoin.json, written after the start); Patroni's log "
                + "after the start (\"pg_rewind exit code=0\": rewind; \"replica has been created using\": basebackup; "
                + "neither: none). \"led again\": it led again instead (not a rejoin); \"not rejoined\": not streaming "
                + "within the bound.");
        t.data.put("chef_backend_s", c.stream().map(Crash::seconds).toList().toString())
                .put("patroni_s", p.stream().map(Crash::seconds).toList().toString())
                .put("chef_backend_elected_s", c.stream().map(Crash::elected).toList().toString())
                .put("patroni_elected_s", p.stream().map(Crash::elected).toList().toString())
                .put("chef_backend_etcd_leader", c.stream().map(Crash::etcdLeader).toList().toString())
                .put("patroni_etcd_leader", p.stream().map(Crash::etcdLeader).toList().toString())
                .put("chef_backend_rejoin_path", c.stream().map(Crash::rejoinPath).toList().toString())
                .put("patroni_rejoin_path", p.stream().map(Crash::rejoinPath).toList().toString())
                .put("chef_backend_rejoin_s", c.stream().map(Crash::rejoinAfter).toList().toString())
                .put("patroni_rejoin_s", p.stream().map(Crash::rejoinAfter).toList().toString());
        return t;
    }

    // ---------------------------------------------------------------------------------------------------------------

    record Gap(double gap, double command, int lost, int acked, boolean moved) {
    }

    Gap switchOnce(HaCluster c, int run) throws Exception {
        if (!c.waitHealthy(Duration.ofSeconds(600))) {
            throw new IllegalStateException(c.system() + " not healthy before switchover run " + run);
        }
        int l = c.leader();
        int candidate = (l + 1) % c.addresses().size();
        try (Writer w = Writer.start(c, 20, 300)) {
            Procs.sleep(3000);
            double t0 = Procs.now();
            Procs.Result r = c.switchover(candidate);
            double t1 = Procs.now();
            if (r.code() != 0) {
                throw new IllegalStateException(c.system() + " switchover failed: " + r.all());
            }
            // the writer must be writing again before the gap is read
            Procs.waitUntil(Duration.ofSeconds(60), () -> w.firstAckAfter(Procs.now() - 0.5) != null);
            Procs.sleep(3000);
            w.close();
            List<Writer.Ack> acks = w.acks();
            double gap = Writer.maxGap(acks, t0, Procs.now());
            boolean moved = Procs.waitUntil(Duration.ofSeconds(30), () -> c.leader() == candidate);
            List<Long> lost = Writer.lost(c, acks);
            System.out.printf(Locale.ROOT, "%s switchover run %d: %s → %s, command %.1f s, write gap %.2f s, %d of %d "
                    + "acknowledged writes lost%n", c.system(), run, c.nodeName(l), c.nodeName(candidate), t1 - t0, gap,
                    lost.size(), acks.size());
            if (run == 1) {
                plot("switchover", c, acks, t0 - 3, Procs.now(), List.of(new LineChart.Marker(t0, "switchover command"),
                        new LineChart.Marker(t1, "command returned")));
            }
            return new Gap(gap, t1 - t0, lost.size(), acks.size(), moved);
        }
    }

    BenchTable switchover() throws Exception {
        BenchTable t = new BenchTable("switchover", "Graceful switchover: write gap through HAProxy");
        List<Gap> c = new ArrayList<>();
        List<Gap> p = new ArrayList<>();
        for (int r = 1; r <= n("runs"); r++) {
            for (HaCluster sys : List.of(cb, patroni)) {
                try {
                    (sys == cb ? c : p).add(switchOnce(sys, r));
                } catch (Exception e) {
                    t.note("failed run: " + sys.system() + " run " + r + ": " + e.getMessage());
                    System.err.println("switchover " + sys.system() + " run " + r + " failed: " + e.getMessage());
                }
            }
        }
        Stats gc = Stats.of(c.stream().map(Gap::gap).toList());
        Stats gp = Stats.of(p.stream().map(Gap::gap).toList());
        Stats cc = Stats.of(c.stream().map(Gap::command).toList());
        Stats cp = Stats.of(p.stream().map(Gap::command).toList());
        int lostC = c.stream().mapToInt(Gap::lost).sum();
        int lostP = p.stream().mapToInt(Gap::lost).sum();
        t.row("longest gap between acknowledged writes", gc.format("%.2f", " s"), gp.format("%.2f", " s"),
                BenchTable.ratio(gc.median(), gp.median()));
        t.row("command wall time (`promote NODE` / `patronictl switchover --candidate X --force`)",
                cc.format("%.1f", " s"), cp.format("%.1f", " s"), BenchTable.ratio(cc.median(), cp.median()));
        t.row("acknowledged writes lost", lostC + " of " + c.stream().mapToInt(Gap::acked).sum(),
                lostP + " of " + p.stream().mapToInt(Gap::acked).sum(), "");
        t.row("runs where the candidate became leader", c.stream().filter(Gap::moved).count() + " of " + c.size(),
                p.stream().filter(Gap::moved).count() + " of " + p.size(), "");
        t.target("`promote` write gap ≤ 2 s median", BenchTable.f("%.2f s", gc.median()), gc.n() == 0 ? null : gc.median() <= 2);
        t.target("`promote` write gap ≤ 0.6× Patroni's switchover gap", BenchTable.ratio(gc.median(), gp.median()),
                gc.n() == 0 || gp.n() == 0 ? null : gc.median() <= 0.6 * gp.median());
        t.target("`promote`: no acknowledged write lost", lostC + " lost", c.isEmpty() ? null : lostC == 0);
        t.note("A writer inserts one row per transaction every 20 ms through HAProxy (reconnecting after an error); "
                + "the gap is the longest time between two consecutive acknowledgements from the command's start until "
                + "3 s after writes resumed. Every acknowledged id is then looked up through HAProxy; the checker's "
                + "negative control (an id never written must be reported missing) runs each time.");
        t.data.put("chef_backend_gap_s", c.stream().map(Gap::gap).toList().toString())
                .put("patroni_gap_s", p.stream().map(Gap::gap).toList().toString());
        return t;
    }

    // ---------------------------------------------------------------------------------------------------------------

    BenchTable attack() throws Exception {
        Attack.Plan plan = Attack.Plan.issue(Duration.ofSeconds(n("attack-seconds")));
        if (!cb.waitHealthy(Duration.ofSeconds(600)) || !patroni.waitHealthy(Duration.ofSeconds(600))) {
            throw new IllegalStateException("the clusters are not healthy before the attack");
        }
        AttackBench.Side c = AttackBench.run(cb, AttackBench.target((ChefBackendCluster) cb), plan);
        AttackBench.Side p = AttackBench.run(patroni, AttackBench.target(patroni), plan);
        return AttackBench.table(c, p, plan);
    }

    // ---------------------------------------------------------------------------------------------------------------

    double basebackup(HaCluster c) throws Exception {
        Path dir = root().resolve("basebackup-" + c.system().toLowerCase(Locale.ROOT).replace('-', '_'));
        FileTrees.deleteTree(dir);
        String leader = c.addresses().get(c.leader());
        // TLS when the server offers it (sslmode prefer), as each system's own join does
        Procs.Result r = Procs.run(Duration.ofSeconds(1800), Map.of("PGPASSWORD", c.replicationPassword()),
                List.of("pg_basebackup", "-h", leader, "-p", "5432", "-U", c.replicationUser(), "-D", dir.toString(),
                        "-X", "stream", "-c", "fast"));
        FileTrees.deleteTree(dir);
        if (r.code() != 0) {
            throw new IllegalStateException(c.system() + " pg_basebackup: " + r.all());
        }
        return r.seconds();
    }

    long databaseBytes(HaCluster c) {
        try (Connection conn = c.connect(c.proxy(), 5, 60); Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery("select sum(pg_database_size(datname)) from pg_database")) {
            rs.next();
            return rs.getLong(1);
        } catch (Exception e) {
            return -1;
        }
    }

    BenchTable join() throws Exception {
        BenchTable t = new BenchTable("join", "Join a node with ~1 GiB of data, relative to a bare pg_basebackup");
        int scale = n("join-scale");
        double[] joins = new double[2];
        double[] bases = new double[2];
        long[] bytes = new long[2];
        HaCluster[] systems = {cb, patroni};
        for (int s = 0; s < 2; s++) {
            HaCluster c = systems[s];
            Map<String, String> env = Map.of("PGPASSWORD", c.password(), "PGCONNECT_TIMEOUT", "10", "PGSSLMODE", "disable");
            System.out.println(c.system() + ": loading pgbench scale " + scale);
            Procs.Result init = Procs.run(Duration.ofSeconds(3600), env, List.of("pgbench", "-h", c.proxy(), "-p", "5432",
                    "-U", "chef_pgsql", "-i", "-q", "-s", String.valueOf(scale), "postgres"));
            if (init.code() != 0) {
                throw new IllegalStateException(c.system() + " pgbench -i: " + init.all());
            }
            Procs.run(Duration.ofSeconds(600), env, List.of("psql", "-h", c.proxy(), "-U", "chef_pgsql", "-d", "postgres",
                    "-c", "checkpoint"));
            if (!c.waitHealthy(Duration.ofSeconds(900))) {
                throw new IllegalStateException(c.system() + " did not catch up after loading");
            }
            bytes[s] = databaseBytes(c);
            bases[s] = basebackup(c);
            int follower = (c.leader() + 1) % 3;
            System.out.println(c.system() + ": re-joining " + c.nodeName(follower) + " from scratch");
            double t0 = Procs.now();
            c.rejoinFromScratch(follower);
            joins[s] = Procs.now() - t0;
            System.out.printf(Locale.ROOT, "%s: %.2f GiB; bare pg_basebackup %.1f s; join to healthy %.1f s%n", c.system(),
                    bytes[s] / 1073741824.0, bases[s], joins[s]);
        }
        t.row("data (all databases)", BenchTable.f("%.2f GiB", bytes[0] / 1073741824.0),
                BenchTable.f("%.2f GiB", bytes[1] / 1073741824.0), "");
        t.row("bare `pg_basebackup -X stream -c fast` from the leader", BenchTable.f("%.1f s", bases[0]),
                BenchTable.f("%.1f s", bases[1]), BenchTable.ratio(bases[0], bases[1]));
        t.row("new member from empty to streaming, eligible follower", BenchTable.f("%.1f s", joins[0]),
                BenchTable.f("%.1f s", joins[1]), BenchTable.ratio(joins[0], joins[1]));
        t.row("join / bare pg_basebackup", BenchTable.f("%.2f×", joins[0] / bases[0]),
                BenchTable.f("%.2f×", joins[1] / bases[1]), "");
        t.note("chef-backend: `remove-node` of a stopped follower, its root wiped, then `join-cluster LEADER -s SECRETS -y` "
                + "(etcd learner, OpenSearch node, base backup through a slot) until cluster-status shows it synced and "
                + "eligible. Patroni: the follower's Patroni stopped, its data directory wiped, Patroni started again "
                + "(etcd member kept; base backup by Patroni) until /cluster shows it running with lag known. pgbench "
                + "scale " + scale + ".");
        return t;
    }
}
