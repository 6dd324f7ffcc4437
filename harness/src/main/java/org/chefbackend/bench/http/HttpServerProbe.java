package org.chefbackend.bench.http;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.chefbackend.ctl.AgentProcess;

/**
 * Measures candidates for the agent's HTTP server, each in a JVM of its own with the agent's flags
 * ({@link AgentProcess#JVM_OPTIONS}): classes loaded, RSS and threads after start and after 1,000 sequential
 * {@code GET /leader} on new connections (as HAProxy checks), CPU over 30 idle seconds, whether /leader answers
 * within 2 s while 20 and 300 clients hold half-sent requests (and 6.5 s later, past the request deadlines) or 12
 * admin calls stall their bodies, how /leader fares and the heap holds when all of the hostile-input issue's
 * attacks come at once ({@link #onslaught}), and the jars the candidate adds to the product (found on this class
 * path).
 * <pre>
 * mvn -B -q -DskipTests package
 * java -cp 'harness/target/lib/*' org.chefbackend.bench.http.HttpServerProbe [none jdk-today jdk-growing jetty netty]
 * </pre>
 */
public final class HttpServerProbe {
    static final List<String> ALL = List.of("none", "jdk-today", "jdk-growing", "jetty", "netty");
    /** What the JDK's server is given to be unstarvable: request time bounded, connections capped below threads. */
    static final List<String> JDK_GROWING_FLAGS = List.of("-Dsun.net.httpserver.maxReqTime=5",
            "-Djdk.httpserver.maxConnections=256");
    static final List<String> NETTY_JARS = List.of("netty-common-", "netty-buffer-", "netty-transport-4",
            "netty-resolver-4", "netty-codec-4", "netty-codec-http-4", "netty-handler-4",
            "netty-transport-native-unix-common-");
    static final int GETS = 1000;
    static final int IDLE_SECONDS = 30;
    static final int SETTLE_SECONDS = 10;
    /** Past the request deadlines of the candidates that have one (5 s): half-sent requests are gone by then. */
    static final long AFTER_DEADLINE_MS = 6500;
    static final long TICK_MS = 10; // USER_HZ 100
    static final int IDLE = 200;
    static final int HALF_SENT = 50;
    static final int STALLED = 12;
    static final int HUGE_BODIES = 3;
    static final long ONSLAUGHT_MS = 6500;

    private HttpServerProbe() {
    }

    public static void main(String[] args) throws Exception {
        List<String> candidates = args.length == 0 ? ALL : Arrays.asList(args);
        Map<String, Map<String, String>> table = new LinkedHashMap<>();
        for (String candidate : candidates) {
            table.put(candidate, measure(candidate));
            System.err.println("measured " + candidate + ": " + table.get(candidate));
        }
        System.out.println(markdown(table));
    }

    static Map<String, String> measure(String candidate) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(AgentProcess.JVM_OPTIONS);
        if (candidate.equals("jdk-growing")) {
            command.addAll(JDK_GROWING_FLAGS);
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), ProbeChild.class.getName(), candidate));
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Map<String, String> f = new LinkedHashMap<>();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String ready = out.readLine();
            if (ready == null || !ready.startsWith("port ")) {
                throw new IllegalStateException(candidate + " did not start: " + ready);
            }
            int port = Integer.parseInt(ready.substring(5).trim());
            long pid = child.pid();
            waitQuietly(2000); // the JVM's own start-up work settles
            f.put("classes loaded after start", String.valueOf(loadedClasses(pid)));
            f.put("RSS after start (MiB)", mib(status(pid, "VmRSS")));
            f.put("threads after start", String.valueOf(status(pid, "Threads")));
            if (port > 0) {
                f.putAll(gets(port));
            }
            f.put("classes loaded after " + GETS + " GETs", String.valueOf(loadedClasses(pid)));
            f.put("RSS after " + GETS + " GETs (MiB)", mib(status(pid, "VmRSS")));
            f.put("threads after " + GETS + " GETs", String.valueOf(status(pid, "Threads")));
            waitQuietly(SETTLE_SECONDS * 1000L); // what the last GETs left behind (timers, compilations) runs out
            long cpu0 = cpuTicks(pid);
            waitQuietly(IDLE_SECONDS * 1000L);
            f.put("idle CPU over " + IDLE_SECONDS + " s (ms)", String.valueOf((cpuTicks(pid) - cpu0) * TICK_MS));
            if (port > 0) {
                f.putAll(starvation(pid, port, 20));
                f.putAll(starvation(pid, port, 300));
                f.putAll(halfBodies(pid, port, 12));
                Writer in = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8);
                f.putAll(onslaught(pid, port, () -> heapPeak(in, out)));
            }
            f.putAll(jars(candidate));
        } finally {
            child.getOutputStream().close();
            if (!child.waitFor(10, TimeUnit.SECONDS)) {
                child.destroyForcibly();
            }
        }
        return f;
    }

    /** Sequential checks on new connections; latency percentiles in ms. */
    static Map<String, String> gets(int port) throws IOException {
        double[] ms = new double[GETS];
        int failed = 0;
        for (int i = 0; i < GETS; i++) {
            long t0 = System.nanoTime();
            if (RawHttp.check(port, 2000) != 200) {
                failed++;
            }
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        Map<String, String> f = new LinkedHashMap<>();
        f.put(GETS + " GET /leader: p50 / p99 (ms), failed", String.format("%.2f / %.2f, %d", ms[GETS / 2],
                ms[GETS * 99 / 100], failed));
        return f;
    }

    /** With {@code count} half-sent requests open: how long /leader takes (2 s at most) and the threads then. */
    static Map<String, String> starvation(long pid, int port, int count) throws IOException, InterruptedException {
        long opened = System.nanoTime();
        List<Socket> slow = RawHttp.halfSent(port, count, RawHttp.HALF);
        try {
            Map<String, String> f = new LinkedHashMap<>();
            f.put("/leader with " + count + " half-sent requests open", timedCheck(port));
            f.put("threads with " + count + " half-sent requests open", String.valueOf(status(pid, "Threads")));
            if (count > 20) {
                waitQuietly(Math.max(0, AFTER_DEADLINE_MS - (System.nanoTime() - opened) / 1_000_000));
                f.put("/leader 6.5 s after " + count + " half-sent requests opened", timedCheck(port));
            }
            return f;
        } finally {
            RawHttp.closeAll(slow);
        }
    }

    /**
     * With {@code count} admin POSTs open whose headers came whole but whose body stalls after a byte: how long
     * /leader takes (the hardening's case: body reads that hold a thread).
     */
    static Map<String, String> halfBodies(long pid, int port, int count) throws IOException {
        List<Socket> slow = RawHttp.halfSent(port, count, RawHttp.HALF_BODY);
        try {
            Map<String, String> f = new LinkedHashMap<>();
            f.put("/leader with " + count + " admin bodies stalled", timedCheck(port));
            f.put("threads with " + count + " admin bodies stalled", String.valueOf(status(pid, "Threads")));
            return f;
        } finally {
            RawHttp.closeAll(slow);
        }
    }

    /**
     * The hardening's target, all at once: {@link #IDLE} idle connections, {@link #HALF_SENT} half-sent requests,
     * {@link #STALLED} admin bodies stalled after a byte and {@link #HUGE_BODIES} clients streaming 120 MB bodies
     * (as fast as loopback takes them). Meanwhile /leader is checked every 100 ms for {@link #ONSLAUGHT_MS} (past
     * the request deadlines): its slowest answer, how many took over 1 s or none came (2 s); then what the server
     * took of each 120 MB body, the heap's peak (of -Xmx128m) and the threads.
     */
    static Map<String, String> onslaught(long pid, int port, HeapPeak heap) throws Exception {
        heap.read(); // the peak from here on
        List<Socket> held = new ArrayList<>();
        List<Socket> streaming = new ArrayList<>();
        ExecutorService streams = Executors.newFixedThreadPool(HUGE_BODIES);
        Map<String, String> f = new LinkedHashMap<>();
        String what = IDLE + " idle + " + HALF_SENT + " half-sent + " + STALLED + " stalled bodies + " + HUGE_BODIES
                + " x 120 MB bodies";
        try {
            held.addAll(RawHttp.halfSent(port, IDLE, ""));
            held.addAll(RawHttp.halfSent(port, HALF_SENT, RawHttp.HALF));
            held.addAll(RawHttp.halfSent(port, STALLED, RawHttp.HALF_BODY));
            List<Future<Long>> taken = new ArrayList<>();
            for (int i = 0; i < HUGE_BODIES; i++) {
                Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
                streaming.add(s);
                taken.add(streams.submit(() -> RawHttp.stream(s, RawHttp.HUGE_HEAD, RawHttp.HUGE)));
            }
            long end = System.nanoTime() + ONSLAUGHT_MS * 1_000_000L;
            double slowest = 0;
            int checks = 0;
            int late = 0;
            int none = 0;
            while (System.nanoTime() < end && checks < 1000) {
                long t0 = System.nanoTime();
                int status = RawHttp.check(port, 2000);
                double ms = (System.nanoTime() - t0) / 1e6;
                checks++;
                slowest = Math.max(slowest, ms);
                none += status == 200 ? 0 : 1;
                late += status == 200 && ms > 1000 ? 1 : 0;
                waitQuietly(Math.max(0, 100 - (long) ms)); // HAProxy-like spacing of the checks
            }
            f.put("/leader every 100 ms for " + ONSLAUGHT_MS / 1000.0 + " s under " + what
                    + ": slowest (ms), over 1 s, none in 2 s", String.format("%.0f, %d, %d of %d", slowest, late,
                    none, checks));
            f.put("threads under " + what, String.valueOf(status(pid, "Threads")));
            RawHttp.closeAll(streaming); // a server that still reads has had its time
            List<String> mib = new ArrayList<>();
            for (Future<Long> t : taken) {
                mib.add(String.format("%.1f", t.get(30, TimeUnit.SECONDS) / 1048576.0));
            }
            f.put("MiB of each 120 MB body sent before the server refused it", String.join(" / ", mib));
            f.put("heap peak under " + what + " (MiB of 128)", String.format("%.1f", heap.read() / 1048576.0));
        } finally {
            RawHttp.closeAll(streaming);
            RawHttp.closeAll(held);
            streams.shutdownNow();
        }
        return f;
    }

    /** The child's heap peak since last asked, in bytes. */
    @FunctionalInterface
    interface HeapPeak {
        long read() throws IOException;
    }

    static long heapPeak(Writer in, BufferedReader out) throws IOException {
        in.write("heap\n");
        in.flush();
        String line = out.readLine();
        if (line == null || !line.startsWith("heap ")) {
            throw new IOException("the measured JVM answered " + line + " for its heap");
        }
        return Long.parseLong(line.substring(5).trim());
    }

    /** One check: its time, or that none came within 2 s. */
    static String timedCheck(int port) throws IOException {
        long t0 = System.nanoTime();
        int status = RawHttp.check(port, 2000);
        return status == 200 ? String.format("%.0f ms", (System.nanoTime() - t0) / 1e6) : "no answer in 2 s";
    }

    /** Jars the candidate adds to product/target/dist/lib, found on this class path (the harness's lib). */
    static Map<String, String> jars(String candidate) throws IOException {
        int count = 0;
        long bytes = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String name = Path.of(entry).getFileName().toString();
            boolean ours = switch (candidate) {
                case "jetty" -> name.startsWith("jetty-");
                case "netty" -> NETTY_JARS.stream().anyMatch(name::startsWith);
                default -> false;
            };
            if (ours) {
                count++;
                bytes += Files.size(Path.of(entry));
            }
        }
        return Map.of("jars added (KiB)", count + " (" + bytes / 1024 + ")");
    }

    /** Loaded classes as the JVM's perf counters give them (jstat reads them without attaching). */
    static long loadedClasses(long pid) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jstat").toString(), "-class",
                String.valueOf(pid)).redirectErrorStream(true).start();
        String[] lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim().split("\n");
        p.waitFor(10, TimeUnit.SECONDS);
        return Long.parseLong(lines[lines.length - 1].trim().split("\\s+")[0]);
    }

    /** A field of /proc/PID/status as a number (VmRSS in kB). */
    static long status(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
            }
        }
        throw new IllegalStateException("no " + field + " in /proc/" + pid + "/status");
    }

    /** utime + stime of /proc/PID/stat, in clock ticks. */
    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15, counted from the state (3)
    }

    static String mib(long kb) {
        return String.format("%.1f", kb / 1024.0);
    }

    static void waitQuietly(long millis) throws InterruptedException {
        Thread.sleep(millis); // a measurement window, not a wait for a condition
    }

    static String markdown(Map<String, Map<String, String>> table) {
        List<String> rows = new ArrayList<>();
        table.values().forEach(m -> m.keySet().forEach(k -> {
            if (!rows.contains(k)) {
                rows.add(k);
            }
        }));
        StringBuilder sb = new StringBuilder("| figure | " + String.join(" | ", table.keySet()) + " |\n|---|");
        table.keySet().forEach(c -> sb.append("---|"));
        sb.append('\n');
        for (String row : rows) {
            sb.append("| ").append(row).append(" |");
            table.values().forEach(m -> sb.append(' ').append(m.getOrDefault(row, "-")).append(" |"));
            sb.append('\n');
        }
        return sb.toString();
    }
}
