package org.chefbackend.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
        serve(AgentHttpServer.READ_TIMEOUT, AgentHttpServer.REQUEST_DEADLINE);
    }

    /** (Re)starts the server under test with these timeouts. */
    private void serve(Duration readTimeout, Duration headDeadline) throws IOException {
        if (server != null) {
            server.stop();
        }
        server = new AgentHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ACCEPTORS,
                new FakeNode(), readTimeout, headDeadline);
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

    /** Status, type and body of each route's replies (as the JDK's server sent them, but for the refusals). */
    @Test
    void repliesOfEachRoute() throws IOException {
        assertReply("GET /leader HTTP/1.1\r\nHost: x\r\n\r\n", 200, "application/json", "{\n  \"leader\" : true\n}");
        assertReply("HEAD /leader HTTP/1.1\r\nHost: x\r\n\r\n", 200, "application/json", "");
        assertReply("GET /leader?y=1 HTTP/1.1\r\nHost: x\r\n\r\n", 200, "application/json",
                "{\n  \"leader\" : true\n}");
        assertReply("GET /status HTTP/1.1\r\nHost: x\r\n\r\n", 200, "application/json", "{\n  \"ok\" : true\n}");
        assertReply("POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405, "application/json",
                "{\n  \"error\" : \"method not allowed (allowed: GET, HEAD)\"\n}");
        assertReply("GET /position HTTP/1.1\r\nHost: x\r\n\r\n", 200, "application/json", "{ }");
        assertReply("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", 404, "application/json",
                "{\n  \"error\" : \"no such path: /nowhere\"\n}");
        assertReply(admin("/admin/start", "{}", "x"), 401, "application/json",
                "{\n  \"error\" : \"malformed X-Chef-Backend-Auth header\"\n}");
        assertReply(admin("/admin/services/postgresql/start", "{\"a\":1}", null), 200, "application/json",
                "{\n  \"ran\" : \"start postgresql 1\"\n}");
        assertReply(admin("/admin/fail", "", null), 422, "application/json", "{\n  \"error\" : \"refused\"\n}");
        assertReply(admin("/admin/a/b/c/d", "", null), 404, "application/json",
                "{\n  \"error\" : \"no such path: /admin/a/b/c/d\"\n}");
    }

    /** A signed POST (signed with {@code auth} when given, else properly). */
    private String admin(String path, String body, String auth) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String header = auth != null ? auth : AdminAuth.sign(AdminAuthTest.KEY,
                AdminAuth.target(InetAddress.getLoopbackAddress(), port), "POST", path, bytes, System.currentTimeMillis());
        return "POST " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + AdminAuth.HEADER + ": " + header
                + "\r\nContent-Length: " + bytes.length + "\r\n\r\n" + body;
    }

    private void assertReply(String request, int status, String type, String body) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
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

    /** leaderl.http_acceptors' least value leaves one thread for requests beside the selector. */
    @Test
    void servesWithOneAcceptor() throws IOException {
        server.stop();
        server = new AgentHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1, new FakeNode());
        server.start();
        port = server.port();
        assertReply("GET /leader HTTP/1.1\r\nHost: x\r\n\r\n", 200, "application/json", "{\n  \"leader\" : true\n}");
    }

    /** The port is bound at construction (a clash shows at once) and given back by stop(), started or not. */
    @Test
    void stopGivesBackThePortOfAServerNeverStarted() throws IOException {
        AgentHttpServer unstarted = new AgentHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1,
                new FakeNode());
        int bound = unstarted.port();
        unstarted.stop();
        try (ServerSocket again = new ServerSocket(bound, 1, InetAddress.getLoopbackAddress())) {
            assertEquals(bound, again.getLocalPort());
        }
    }

    /** A client that trickles its request line and headers, a byte at a time, is cut off at the head deadline. */
    @Test
    void aTricklingRequestHeadIsCutOffAtTheDeadline() throws IOException {
        serve(Duration.ofSeconds(2), Duration.ofSeconds(1));
        byte[] head = "GET /leader HTTP/1.1\r\nHost: x\r\nX-Pad: ".getBytes(StandardCharsets.ISO_8859_1);
        long t0 = System.nanoTime();
        long deadline = t0 + 4_000_000_000L;
        boolean closed = false;
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(200); // a byte every 200 ms: well inside the 2 s read timeout
            for (int i = 0; !closed && System.nanoTime() < deadline; i++) {
                s.getOutputStream().write(i < head.length ? head[i] : 'a');
                try {
                    closed = s.getInputStream().read() < 0;
                } catch (SocketTimeoutException e) {
                    // still open: send the next byte
                }
            }
        } catch (IOException e) {
            closed = true; // reset on a write after the server closed
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(closed, "a request head trickled for 4 s was not cut off");
        assertTrue(seconds >= 0.9, "cut off after " + seconds + " s, before its deadline");
    }

    /** The read timeout ends stalled reads, not a route that runs longer than it (reconfigure takes minutes). */
    @Test
    void aLongAdminCallOutlastsTheReadTimeout() throws IOException {
        serve(Duration.ofSeconds(1), Duration.ofSeconds(1));
        assertReply(admin("/admin/slow", "", null), 200, "application/json", "{\n  \"ran\" : \"slow null 0\"\n}");
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
