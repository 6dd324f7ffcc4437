package org.chefbackend.frontend;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * HAProxy's {@code show stat} over its admin socket, read as Chef Server's reconfigure reads it: which servers of
 * each backend are UP. {@link #parse} is pure; {@link #query} does the socket I/O.
 */
public final class HaproxyStats {
    /**
     * One server line: backend (pxname), server (svname), status (UP, DOWN, MAINT, "UP 1/2", …) and its last health
     * check (check_status and last_chk, e.g. "L7STS 503"; empty when HAProxy gives none).
     */
    public record Server(String backend, String server, String status, String lastCheck) {
        public boolean up() {
            return status.equals("UP") || status.startsWith("UP ");
        }
    }

    private final List<Server> servers;

    private HaproxyStats(List<Server> servers) {
        this.servers = List.copyOf(servers);
    }

    public List<Server> servers() {
        return servers;
    }

    /** The UP servers of each backend, in the order HAProxy lists them; backends with none map to an empty list. */
    public Map<String, List<String>> upByBackend() {
        Map<String, List<String>> up = new LinkedHashMap<>();
        for (Server s : servers) {
            List<String> list = up.computeIfAbsent(s.backend(), k -> new ArrayList<>());
            if (s.up()) {
                list.add(s.server());
            }
        }
        return up;
    }

    /**
     * The one server that is UP in every named backend, when each has exactly one UP server and it is the same one
     * (Chef Server refuses to bootstrap against "multiple active backends").
     */
    public Optional<String> singleActive(List<String> backends) {
        Map<String, List<String>> up = upByBackend();
        String active = null;
        for (String b : backends) {
            List<String> list = up.getOrDefault(b, List.of());
            if (list.size() != 1 || (active != null && !active.equals(list.get(0)))) {
                return Optional.empty();
            }
            active = list.get(0);
        }
        return Optional.ofNullable(active);
    }

    /** Parses {@code show stat} CSV: a "# pxname,svname,…" header, then one line per frontend, server and backend. */
    public static HaproxyStats parse(String csv) {
        String[] lines = csv.split("\n");
        if (lines.length == 0 || !lines[0].startsWith("# ")) {
            throw new IllegalArgumentException("not HAProxy 'show stat' output: " + (lines.length == 0 ? "" : lines[0]));
        }
        List<String> header = List.of(lines[0].substring(2).split(",", -1));
        int px = header.indexOf("pxname");
        int sv = header.indexOf("svname");
        int st = header.indexOf("status");
        int checkStatus = header.indexOf("check_status");
        int lastChk = header.indexOf("last_chk");
        if (px < 0 || sv < 0 || st < 0) {
            throw new IllegalArgumentException("'show stat' header lacks pxname, svname or status");
        }
        List<Server> servers = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            String[] f = lines[i].split(",", -1);
            if (f.length <= Math.max(px, Math.max(sv, st))) {
                throw new IllegalArgumentException("short 'show stat' line " + (i + 1) + ": " + lines[i]);
            }
            if (f[sv].equals("FRONTEND") || f[sv].equals("BACKEND")) {
                continue;
            }
            String check = (field(f, checkStatus) + " " + field(f, lastChk)).trim();
            servers.add(new Server(f[px], f[sv], f[st], check));
        }
        return new HaproxyStats(servers);
    }

    private static String field(String[] fields, int index) {
        return index >= 0 && index < fields.length ? fields[index] : "";
    }

    /** Sends {@code show stat} to the admin socket and parses the answer. */
    public static HaproxyStats query(Path socket) throws IOException {
        return parse(command(socket, "show stat"));
    }

    /** One command over the admin socket (HAProxy answers and closes the connection). */
    public static String command(Path socket, String command) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer req = ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8));
            while (req.hasRemaining()) {
                ch.write(req);
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(8192);
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (ch.read(buf) >= 0) {
                out.write(buf.array(), 0, buf.position());
                buf.clear();
                if (System.nanoTime() > deadline) {
                    throw new IOException("HAProxy did not finish its answer within 5 s on " + socket);
                }
            }
            return out.toString(StandardCharsets.UTF_8);
        }
    }
}
