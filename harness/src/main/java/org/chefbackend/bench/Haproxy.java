package org.chefbackend.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One HAProxy in front of a 3-node cluster: TCP on {@code bind}:5432 to whichever node answers 200 on its HTTP health
 * check. Both systems get the same check timing (chef-backend's template: fall 1; inter 1 s here), only the check
 * differs: chef-backend's {@code GET :7331/leader}, Patroni's {@code GET :8008/primary}.
 */
public final class Haproxy implements AutoCloseable {
    public static final int PORT = 5432;
    private final Path dir;
    private final String bind;
    private Process process;

    private Haproxy(Path dir, String bind) {
        this.dir = dir;
        this.bind = bind;
    }

    public static Haproxy start(Path dir, String bind, List<String> servers, int checkPort, String checkPath)
            throws IOException {
        Haproxy h = new Haproxy(dir, bind);
        Files.createDirectories(dir);
        StringBuilder cfg = new StringBuilder()
                .append("global\n    maxconn 512\n")
                .append("defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 30m\n    timeout server 30m\n")
                .append("    timeout check 1s\n")
                .append("listen postgresql\n    bind ").append(bind).append(':').append(PORT).append('\n')
                .append("    option httpchk GET ").append(checkPath).append('\n')
                .append("    http-check expect status 200\n")
                .append("    default-server inter 1s fall 1 rise 1 on-marked-down shutdown-sessions\n");
        int i = 1;
        for (String s : servers) {
            cfg.append("    server n").append(i++).append(' ').append(s).append(':').append(PORT)
                    .append(" check port ").append(checkPort).append('\n');
        }
        Path file = dir.resolve("haproxy.cfg");
        Files.writeString(file, cfg.toString());
        Procs.Result check = Procs.run(Duration.ofSeconds(20), "haproxy", "-c", "-q", "-f", file.toString());
        if (check.code() != 0) {
            throw new IllegalStateException("haproxy config: " + check.all());
        }
        h.process = Procs.spawn(List.of("haproxy", "-db", "-f", file.toString()), dir.resolve("haproxy.log"), Map.of());
        if (!Procs.waitUntil(Duration.ofSeconds(10), () -> Procs.open(bind, PORT))) {
            h.close();
            throw new IllegalStateException("haproxy did not listen on " + bind + ":" + PORT + "; see " + dir.resolve("haproxy.log"));
        }
        return h;
    }

    public String address() {
        return bind;
    }

    public long pid() {
        return process == null ? 0 : process.pid();
    }

    @Override
    public void close() {
        if (process != null) {
            Procs.terminate(List.of(process.pid()), Duration.ofSeconds(5));
            process = null;
        }
    }
}
