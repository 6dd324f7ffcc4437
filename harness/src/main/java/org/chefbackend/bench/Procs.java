package org.chefbackend.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.chefbackend.system.Poll;

/** Process, file and HTTP helpers of the benchmark harness. Everything is bounded in time; processes are ended by pid. */
public final class Procs {
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();

    private Procs() {
    }

    public record Result(int code, String out, String err, double seconds) {
        public String all() {
            return (out + "\n" + err).trim();
        }
    }

    /** Runs a command to completion (killed after {@code timeout}); never throws for a non-zero exit. */
    public static Result run(Duration timeout, Map<String, String> env, List<String> command) {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("bench", ".out");
            err = Files.createTempFile("bench", ".err");
            ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().putAll(env);
            long t0 = System.nanoTime();
            Process p = pb.start();
            p.getOutputStream().close();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                return new Result(124, Files.readString(out), Files.readString(err) + "\n(timed out after " + timeout + ")",
                        (System.nanoTime() - t0) / 1e9);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err), seconds);
        } catch (IOException e) {
            return new Result(127, "", command.get(0) + ": " + e.getMessage(), 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(130, "", "interrupted", 0);
        } finally {
            try {
                if (out != null) {
                    Files.deleteIfExists(out);
                }
                if (err != null) {
                    Files.deleteIfExists(err);
                }
            } catch (IOException ignored) {
                // a temp file left behind is harmless
            }
        }
    }

    public static Result run(Duration timeout, String... command) {
        return run(timeout, Map.of(), List.of(command));
    }

    /** Starts a long-running process with its output appended to {@code log}. */
    public static Process spawn(List<String> command, Path log, Map<String, String> env) throws IOException {
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        return p;
    }

    /** The command line of a process with arguments separated by spaces, "" when it is gone. */
    public static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"))).replace('\0', ' ').trim();
        } catch (IOException e) {
            return "";
        }
    }

    /** Live processes whose command line matches, with all their descendants (never this JVM). */
    public static List<Long> matching(Predicate<String> cmdline) {
        Set<Long> pids = new LinkedHashSet<>();
        long self = ProcessHandle.current().pid();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String f = p.getFileName().toString();
                if (f.isEmpty() || !f.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                long pid = Long.parseLong(f);
                if (pid != self && cmdline.test(cmdline(pid))) {
                    pids.add(pid);
                    ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        pids.remove(self);
        return new ArrayList<>(pids);
    }

    /** Processes whose command line names {@code root} (a directory; matched with its trailing slash) plus descendants. */
    public static List<Long> under(Path root) {
        String r = root.toString() + "/";
        return matching(c -> c.contains(r));
    }

    public static void kill9(Collection<Long> pids) {
        pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    /** TERM, wait up to {@code grace}, then KILL; returns when they are gone (or after 10 s more). */
    public static void terminate(Collection<Long> pids, Duration grace) {
        pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy));
        waitUntil(grace, () -> pids.stream().noneMatch(Procs::alive));
        kill9(pids);
        waitUntil(Duration.ofSeconds(10), () -> pids.stream().noneMatch(Procs::alive));
    }

    public static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
                && Files.exists(Path.of("/proc/" + pid)) && !zombie(pid);
    }

    private static boolean zombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException | RuntimeException e) {
            return true;
        }
    }

    /** Resident set size in KiB, 0 when the process is gone. */
    public static long rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }

    /** utime + stime in clock ticks (100 per second on Linux). */
    public static long cpuTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Polls {@code condition} every 200 ms; whether it held within {@code limit}. */
    public static boolean waitUntil(Duration limit, BooleanSupplier condition) {
        return Poll.until(limit, Duration.ofMillis(200), condition);
    }

    public static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    public static boolean open(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 300);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** HTTP status of a GET, -1 when nothing answers. */
    public static int httpStatus(String url) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMillis(800)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Body of a GET that answered 200, null otherwise. */
    public static String httpGet(String url) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Body of a POST (JSON) that answered 200, null otherwise. */
    public static String httpPost(String url, String json) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3))
                    .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** chown -R user:user (the harness runs as root; PostgreSQL and etcd do not). */
    public static void chownR(Path path, String user) {
        Result r = run(Duration.ofSeconds(60), "chown", "-R", user + ":" + user, path.toString());
        if (r.code() != 0) {
            throw new IllegalStateException("chown " + path + ": " + r.all());
        }
    }

    /** The command prefix that runs a program as {@code user} (setpriv: no shell, the pid stays the program's). */
    public static List<String> as(String user, String... command) {
        List<String> c = new ArrayList<>(List.of("setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups"));
        c.addAll(List.of(command));
        return c;
    }

    public static double now() {
        return System.nanoTime() / 1e9;
    }
}
