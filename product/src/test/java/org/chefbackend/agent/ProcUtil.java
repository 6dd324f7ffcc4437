package org.chefbackend.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Looking at real processes from tests: owners, liveness, listeners. */
final class ProcUtil {
    private ProcUtil() {
    }

    static String user(long pid) throws IOException, InterruptedException {
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
            if (line.startsWith("Uid:")) {
                String uid = line.split("\\s+")[1];
                Process p = new ProcessBuilder("id", "-nu", uid).start();
                String name = new String(p.getInputStream().readAllBytes()).trim();
                p.waitFor(5, TimeUnit.SECONDS);
                return name;
            }
        }
        throw new IllegalStateException("no Uid for " + pid);
    }

    static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
                && Files.exists(Path.of("/proc", String.valueOf(pid)));
    }

    static void kill9(long pid) {
        ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("no process " + pid)).destroyForcibly();
    }

    /** Listening TCP sockets as "address:port", from ss(8). */
    static List<String> listeners() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ss", "-ltnH").start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(5, TimeUnit.SECONDS);
        List<String> result = new ArrayList<>();
        for (String line : out.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 4) {
                result.add(f[3]);
            }
        }
        return result;
    }

    static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", String.valueOf(pid), "cmdline"))).replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    static long count(List<Long> pids, String cmdlineFragment) {
        return pids.stream().filter(pid -> cmdline(pid).contains(cmdlineFragment)).count();
    }

    static String describe(List<Long> pids) {
        StringBuilder sb = new StringBuilder();
        pids.forEach(pid -> sb.append(pid).append('=').append(cmdline(pid)).append("; "));
        return sb.toString();
    }
}
