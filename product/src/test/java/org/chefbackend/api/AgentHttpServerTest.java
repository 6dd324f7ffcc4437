package org.chefbackend.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AgentHttpServerTest {
    /** As in production (leaderl.http_acceptors' default). */
    static final int ACCEPTORS = 10;
    AgentHttpServer server;
    int port;

    @BeforeEach
    void start() throws IOException {
        AgentHttpServer.Node node = new AgentHttpServer.Node() {
            @Override
            public Map<String, Object> status() {
                return Map.of("ok", true);
            }

            @Override
            public boolean leader() {
                return true;
            }

            @Override
            public Map<String, Object> position() {
                return Map.of();
            }

            @Override
            public Map<String, Object> cluster() {
                return Map.of();
            }

            @Override
            public Map<String, Object> admin(String action, String service, JsonNode body) {
                if (action.equals("fail")) {
                    throw new ApiException(422, "refused");
                }
                return Map.of("ran", action + " " + service + " " + body.path("a").asInt());
            }

            @Override
            public List<byte[]> adminKeys() {
                return List.of(AdminAuthTest.KEY);
            }
        };
        server = new AgentHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ACCEPTORS, node);
        server.start();
        port = server.port();
    }

    @AfterEach
    void stop() {
        server.stop();
    }

    /** The JDK's server closes the connection after such a request; the reply must say so, or clients reuse it. */
    @Test
    void aRequestThatAsksForCloseIsToldTheConnectionCloses() throws IOException {
        String head = exchange("GET /leader HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(head.startsWith("HTTP/1.1 200"), head);
        assertTrue(head.toLowerCase(Locale.ROOT).contains("\r\nconnection: close\r\n"), head);
    }

    /** HAProxy's checks and other keep-alive clients keep their connections. */
    @Test
    void otherRequestsKeepTheirConnection() throws IOException {
        String head = exchange("GET /leader HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(head.startsWith("HTTP/1.1 200"), head);
        assertFalse(head.toLowerCase(Locale.ROOT).contains("connection: close"), head);
    }

    /** Status, type and body of each route's replies, as the JDK's server sent them before the server choice. */
    @Test
    void repliesAsBefore() throws IOException {
        assertReply("GET /leader HTTP/1.1\r\nHost: x\r\n\r\n", 200, "application/json", "{\n  \"leader\" : true\n}");
        assertReply("HEAD /leader HTTP/1.1\r\nHost: x\r\n\r\n", 200, "application/json", "");
        assertReply("GET /leader/x?y=1 HTTP/1.1\r\nHost: x\r\n\r\n", 200, "application/json",
                "{\n  \"leader\" : true\n}");
        assertReply("GET /status HTTP/1.1\r\nHost: x\r\n\r\n", 200, "application/json", "{\n  \"ok\" : true\n}");
        assertReply("POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405, "application/json",
                "{\n  \"error\" : \"method not allowed\"\n}");
        assertReply("GET /position HTTP/1.1\r\nHost: x\r\n\r\n", 200, "application/json", "{ }");
        assertReply("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 404, "text/html",
                "<h1>404 Not Found</h1>No context found for request");
        assertReply(admin("/admin/start", "{}", "x"), 401, "application/json",
                "{\n  \"error\" : \"admin call not signed with this node's admin key or the cluster secrets\"\n}");
        assertReply(admin("/admin/services/postgresql/start", "{\"a\":1}", null), 200, "application/json",
                "{\n  \"ran\" : \"start postgresql 1\"\n}");
        assertReply(admin("/admin/fail", "", null), 422, "application/json", "{\n  \"error\" : \"refused\"\n}");
        assertReply(admin("/admin/a/b/c/d", "", null), 404, "application/json",
                "{\n  \"error\" : \"no such admin call: /admin/a/b/c/d\"\n}");
    }

    /** A signed POST (signed with {@code auth} when given, else properly). */
    private static String admin(String path, String body, String auth) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String header = auth != null ? auth : AdminAuth.sign(AdminAuthTest.KEY, "POST", path, bytes,
                System.currentTimeMillis());
        return "POST " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + AdminAuth.HEADER + ": " + header
                + "\r\nContent-Length: " + bytes.length + "\r\n\r\n" + body;
    }

    private void assertReply(String request, int status, String type, String body) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            String head = readHead(in);
            String what = request.substring(0, request.indexOf('\r')) + " -> " + head;
            assertTrue(head.startsWith("HTTP/1.1 " + status + " "), what);
            String lower = head.toLowerCase(Locale.ROOT);
            assertTrue(lower.contains("\r\ncontent-type: " + type + "\r\n"), what);
            int at = lower.indexOf("\r\ncontent-length: ");
            String got = "";
            if (!request.startsWith("HEAD ")) {
                int length = Integer.parseInt(lower.substring(at + 18, lower.indexOf('\r', at + 2)).trim());
                got = new String(in.readNBytes(length), StandardCharsets.UTF_8);
            }
            assertEquals(body, got, what);
        }
    }

    /**
     * Clients that send half a request and stay (slow or hostile) must not keep HAProxy's /leader check from an
     * answer: with every acceptor's worth of them and more connected, /leader still answers within 2 s.
     */
    @Test
    void halfSentRequestsDoNotStarveLeader() throws IOException {
        List<Socket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 2 * ACCEPTORS; i++) {
                Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
                slow.add(s);
                s.getOutputStream().write("GET /leader HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
            }
            long deadline = System.nanoTime() + 2_000_000_000L;
            String head;
            try {
                head = exchange("GET /leader HTTP/1.1\r\nHost: x\r\n\r\n", deadline);
            } catch (SocketTimeoutException e) {
                head = "no answer";
            }
            assertTrue(head.startsWith("HTTP/1.1 200"), "GET /leader with " + slow.size()
                    + " half-sent requests open: " + head + " within 2 s");
        } finally {
            for (Socket s : slow) {
                s.close();
            }
        }
    }

    private String exchange(String request) throws IOException {
        return exchange(request, System.nanoTime() + 5_000_000_000L);
    }

    /** Sends {@code request} and returns the reply's status line and headers, read until {@code deadline}. */
    private String exchange(String request, long deadline) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), remainingMillis(deadline));
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            s.setSoTimeout(remainingMillis(deadline));
            return readHead(s.getInputStream());
        }
    }

    /** The status line and headers, up to the empty line (or what came before the end of the stream). */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            head.append((char) c);
        }
        return head.toString();
    }

    /** Milliseconds until {@code deadline} (System.nanoTime), at least 1 (0 would mean no timeout). */
    private static int remainingMillis(long deadline) {
        return (int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
    }
}
