package org.chefbackend.bench.http;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.chefbackend.ctl.AgentProcess;

/**
 * Measures candidates for the agent's HTTP server, each in a JVM of its own with the agent's flags
 * ({@link AgentProcess#JVM_OPTIONS}): classes loaded, RSS and threads after start and after 1,000 sequential
 * {@code GET /leader} on new connections (as HAProxy checks), CPU over 30 idle seconds, whether /leader answers
 * within 2 s while 20 and 300 clients hold half-sent requests (and 6.5 s later, past the request deadlines) or 12
 * admin calls stall their bodies, and
 * the jars the candidate adds to the product (found on this class path).
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
