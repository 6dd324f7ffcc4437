package org.chefbackend.api;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.chefbackend.api.RawClient.Reply;
import org.chefbackend.api.RawClient.Streamed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.slf4j.LoggerFactory;

/** The agent's API against clients that mean harm (the hostile-input issue, item 1), on real sockets. */
class HostileInputTest {
    static final int ACCEPTORS = 10;
    static final long HUGE = 120L << 20;
    /** More than any socket buffers on the way hold: a body cut off early got no further than this. */
    static final long CUT_OFF_EARLY = 32L << 20;
    static final String HALF_HEAD = "GET /leader HTTP/1.1\r\nHost: x\r\n";
    static final String STALLED_BODY = "POST /admin/start HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{";
    static final ObjectMapper JSON = new ObjectMapper();

    AgentHttpServer server;
    int port;
    final List<Socket> sockets = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        serve(AgentHttpServer.READ_TIMEOUT, AgentHttpServer.REQUEST_DEADLINE);
    }

    private void serve(Duration readTimeout, Duration requestDeadline) throws IOException {
        if (server != null) {
            server.stop();
        }
        server = new AgentHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ACCEPTORS,
                new FakeNode(), readTimeout, requestDeadline);
        server.start();
        port = server.port();
    }

    @AfterEach
    void stop() {
        RawClient.closeAll(sockets);
        server.stop();
    }

    /**
     * HAProxy's check keeps its answer however many slow, idle, stalled and huge requests are open: 200 idle
     * connections, 50 half-sent heads, 12 admin bodies stalled after a byte and 3 clients streaming 120 MB
     * bodies, all at once; and no 120 MB body is taken in (413 comes before the server has read it).
     */
    @Test
    void leaderAnswersWhileHostileClientsHoldConnectionsOfEveryKind() throws Exception {
        sockets.addAll(RawClient.openAll(port, 200, ""));
        sockets.addAll(RawClient.openAll(port, 50, HALF_HEAD));
        sockets.addAll(RawClient.openAll(port, 12, STALLED_BODY));
        ExecutorService streams = Executors.newFixedThreadPool(3);
        try {
            List<Future<Streamed>> huge = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                huge.add(streams.submit(() -> RawClient.stream(port, post("/admin/start", "Content-Length: " + HUGE),
                        HUGE, false)));
            }
            List<String> answers = new ArrayList<>();
            long end = System.nanoTime() + 3_000_000_000L; // within the request deadline: every attacker still open
            for (int round = 0; round < 20 && System.nanoTime() < end; round++) {
                long t0 = System.nanoTime();
                Reply r = RawClient.pollLeader(port);
                answers.add(r.status() + " in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
                Thread.sleep(200); // spacing of the checks, as HAProxy's interval, not a wait for a condition
            }
            List<Executable> checks = new ArrayList<>();
            checks.add(() -> assertTrue(answers.stream().allMatch(a -> a.startsWith("200 ")),
                    "GET /leader under attack (each polled for 2 s): " + answers));
            for (Future<Streamed> f : huge) {
                Streamed s = f.get(60, TimeUnit.SECONDS);
                checks.add(() -> assertEquals(413, s.reply().status(), "120 MB body: " + s.reply().head()));
                checks.add(() -> assertTrue(s.sent() < CUT_OFF_EARLY, "120 MB body: the server took " + s.sent()
                        + " bytes of it"));
            }
            assertAll(checks);
        } finally {
            streams.shutdownNow();
        }
    }

    /**
     * /leader needs no worker: with every worker busy on a long admin call (and more waiting), it answers at once,
     * from the selector thread.
     */
    @Test
    void leaderAnswersWhileEveryWorkerIsBusy() throws Exception {
        ExecutorService callers = Executors.newFixedThreadPool(ACCEPTORS + 2);
        try {
            List<Future<Reply>> slow = new ArrayList<>();
            for (int i = 0; i < ACCEPTORS + 2; i++) {
                slow.add(callers.submit(() -> RawClient.exchange(port, signed(port, "/admin/slow", ""),
                        System.nanoTime() + 10_000_000_000L)));
            }
            Thread.sleep(300); // the slow calls reach their workers (each takes 2.5 s): the case under test
            long t0 = System.nanoTime();
            Reply r = RawClient.pollLeader(port);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(200, r.status(), "GET /leader with every worker busy: no answer within 2 s");
            assertTrue(ms < 1000, "GET /leader with every worker busy took " + ms + " ms");
            for (Future<Reply> f : slow) {
                assertEquals(200, f.get(30, TimeUnit.SECONDS).status(), "a slow admin call");
            }
        } finally {
            callers.shutdownNow();
        }
    }

    /** A body announced larger than the limit is refused on its Content-Length, before a byte of it is sent. */
    @Test
    void aBodyOverTheLimitIsRefusedBeforeItIsSent() throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.getOutputStream().write(post("/admin/start", "Content-Length: " + HUGE)
                    .getBytes(StandardCharsets.ISO_8859_1));
            Reply r;
            try {
                r = RawClient.read(s, System.nanoTime() + 2_000_000_000L);
            } catch (SocketTimeoutException e) {
                r = new Reply("no reply within 2 s", "");
            }
            assertEquals(413, r.status(), r.head());
            assertEquals("close", r.header("Connection"), r.head());
            assertOneLineError(r);
        }
    }

    /** A chunked body (no Content-Length) is cut off as soon as it passes the limit. */
    @Test
    void aChunkedBodyIsCutOffAtTheLimit() throws Exception {
        Streamed s = RawClient.stream(port, post("/admin/start", "Transfer-Encoding: chunked"), HUGE, true);
        assertEquals(413, s.reply().status(), s.reply().head());
        assertTrue(s.sent() < CUT_OFF_EARLY, "the server took " + s.sent() + " bytes of a 120 MB chunked body");
    }

    /**
     * Admin bodies are read without a thread; what they may hold in memory at once is bounded all the same: of one
     * more body of the largest size than the budget holds, all stalled, exactly one is refused at once.
     */
    @Test
    void bodiesInFlightShareABoundedBudget() throws IOException, InterruptedException {
        long perBody = AgentHttpServer.MAX_BODY;
        int fit = (int) (AgentHttpServer.BODY_BUDGET / perBody);
        sockets.addAll(RawClient.openAll(port, fit + 1, post("/admin/start", "Content-Length: " + perBody) + "{"));
        List<Socket> waiting = new ArrayList<>(sockets);
        List<Reply> replies = new ArrayList<>();
        long deadline = System.nanoTime() + 2_000_000_000L; // well within the body deadline (5 s)
        while (System.nanoTime() < deadline) {
            for (Socket s : List.copyOf(waiting)) {
                if (s.getInputStream().available() > 0) {
                    replies.add(RawClient.read(s, System.nanoTime() + 2_000_000_000L));
                    waiting.remove(s);
                }
            }
            Thread.sleep(50); // poll interval
        }
        assertEquals(1, replies.size(), "replies to " + (fit + 1) + " stalled bodies of " + perBody + " bytes: "
                + replies);
        assertEquals(503, replies.get(0).status(), replies.get(0).head());
        assertOneLineError(replies.get(0));
    }

    @Test
    void pathsMatchExactly() throws IOException {
        for (String path : List.of("/leaderfoo", "/leader/", "/leader/x", "/statusx", "/status/", "/cluster/x",
                "/", "/admin/", "/admin/start/", "/admin/services/postgresql/start/x", "/admin/cluster/")) {
            Reply r = RawClient.exchange(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n",
                    System.nanoTime() + 5_000_000_000L);
            assertEquals(404, r.status(), "GET " + path + ": " + r.head());
        }
        Reply r = RawClient.exchange(port, post("/admin/a/b/c/d", "Content-Length: 0"), System.nanoTime()
                + 5_000_000_000L);
        assertEquals(404, r.status(), "an admin path of no known shape, unsigned: " + r.head());
    }

    @Test
    void aWrongMethodIsRefusedWithTheMethodsAllowed() throws IOException {
        assertMethodRefused("POST /leader HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "GET, HEAD");
        assertMethodRefused("DELETE /status HTTP/1.1\r\nHost: x\r\n\r\n", "GET, HEAD");
        assertMethodRefused("GET /admin/start HTTP/1.1\r\nHost: x\r\n\r\n", "POST");
    }

    private void assertMethodRefused(String request, String allow) throws IOException {
        Reply r = RawClient.exchange(port, request, System.nanoTime() + 5_000_000_000L);
        String what = request.substring(0, request.indexOf('\r')) + " -> " + r.head();
        assertEquals(405, r.status(), what);
        assertEquals(allow, r.header("Allow"), what);
    }

    /** A malformed body gets a one-line reason that does not echo it, and leaves no stack trace in the log. */
    @Test
    void malformedJsonIsABadRequestWithAOneLineReason() throws IOException {
        Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        root.addAppender(log);
        Reply r;
        try {
            r = RawClient.exchange(port, signed(port, "/admin/start", "{\"a\": secret-looking"),
                    System.nanoTime() + 5_000_000_000L);
        } finally {
            root.detachAppender(log);
        }
        assertEquals(400, r.status(), r.head() + r.body());
        String error = assertOneLineError(r);
        assertFalse(error.contains("secret-looking"), "the reply echoes the body: " + error);
        for (ILoggingEvent e : log.list) {
            assertTrue(e.getThrowableProxy() == null && !e.getFormattedMessage().contains("\n"),
                    "a stack trace or a multi-line entry in the log: " + e.getFormattedMessage());
        }
    }

    /** The node a call is signed for is part of what is signed: a call captured on its way to A fails on B. */
    @Test
    void aCallSignedForAnotherNodeIsRefused() throws IOException {
        AgentHttpServer other = new AgentHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                ACCEPTORS, new FakeNode());
        other.start();
        try {
            String forThisNode = signed(port, "/admin/start", "{}");
            Reply replayed = RawClient.exchange(other.port(), forThisNode, System.nanoTime() + 5_000_000_000L);
            assertTrue(replayed.status() == 401 || replayed.status() == 403, "replayed to another node: "
                    + replayed.head() + replayed.body());
            Reply meant = RawClient.exchange(port, forThisNode, System.nanoTime() + 5_000_000_000L);
            assertEquals(200, meant.status(), "to the node it was signed for: " + meant.head() + meant.body());
        } finally {
            other.stop();
        }
    }

    /** Not only a connection's first request: every request's line and headers must arrive by the deadline. */
    @Test
    void everyRequestHeadOnAConnectionHasTheDeadline() throws IOException {
        serve(Duration.ofSeconds(2), Duration.ofSeconds(1));
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.getOutputStream().write(RawClient.LEADER.getBytes(StandardCharsets.ISO_8859_1));
            assertEquals(200, RawClient.read(s, System.nanoTime() + 2_000_000_000L).status());
            double seconds = trickleUntilClosed(s, "GET /leader HTTP/1.1\r\nHost: x\r\nX-Pad: ");
            assertTrue(seconds >= 0.9 && seconds < 4, "the second request's head, trickled, was cut off after "
                    + seconds + " s (deadline 1 s, idle timeout 2 s)");
        }
    }

    /** Blank lines before a request begin none: sent slowly, they keep a connection no longer than a head may take. */
    @Test
    void blankLinesBetweenRequestsAreCutOffAtTheDeadline() throws IOException {
        serve(Duration.ofSeconds(2), Duration.ofSeconds(1));
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.getOutputStream().write(RawClient.LEADER.getBytes(StandardCharsets.ISO_8859_1));
            assertEquals(200, RawClient.read(s, System.nanoTime() + 2_000_000_000L).status());
            double seconds = trickleUntilClosed(s, "\r\n".repeat(100));
            assertTrue(seconds >= 0.9 && seconds < 4, "blank lines sent slowly after a request were cut off after "
                    + seconds + " s (deadline 1 s, idle timeout 2 s)");
        }
    }

    /** A connection idle between requests is the idle timeout's, not the request deadline's. */
    @Test
    void anIdleKeptConnectionLastsUntilTheIdleTimeout() throws Exception {
        serve(Duration.ofSeconds(3), Duration.ofSeconds(1));
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.getOutputStream().write(RawClient.LEADER.getBytes(StandardCharsets.ISO_8859_1));
            assertEquals(200, RawClient.read(s, System.nanoTime() + 2_000_000_000L).status());
            Thread.sleep(1800); // idle past the request deadline, within the idle timeout: the case under test
            s.getOutputStream().write(RawClient.LEADER.getBytes(StandardCharsets.ISO_8859_1));
            assertEquals(200, RawClient.read(s, System.nanoTime() + 2_000_000_000L).status());
        }
    }

    /** A body that trickles in (each byte well within the idle timeout) is cut off at the deadline. */
    @Test
    void aTricklingBodyIsCutOffAtTheDeadline() throws IOException {
        serve(Duration.ofSeconds(2), Duration.ofSeconds(1));
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.getOutputStream().write(post("/admin/start", "Content-Length: 1000").getBytes(StandardCharsets.ISO_8859_1));
            double seconds = trickleUntilClosed(s, "");
            assertTrue(seconds >= 0.9 && seconds < 4, "a trickled body was cut off after " + seconds
                    + " s (deadline 1 s, idle timeout 2 s)");
        }
    }

    /**
     * Sends {@code prefix} then 'a's, a byte every 200 ms, until the server replies or closes (4 s at most);
     * returns the seconds that took.
     */
    private static double trickleUntilClosed(Socket s, String prefix) throws IOException {
        byte[] bytes = prefix.getBytes(StandardCharsets.ISO_8859_1);
        long t0 = System.nanoTime();
        long deadline = t0 + 4_000_000_000L;
        s.setSoTimeout(200);
        try {
            for (int i = 0; System.nanoTime() < deadline; i++) {
                s.getOutputStream().write(i < bytes.length ? bytes[i] : 'a');
                try {
                    s.getInputStream().read(); // a reply or the end: either way it was cut off
                    break;
                } catch (SocketTimeoutException e) {
                    // still open: send the next byte
                }
            }
        } catch (IOException e) {
            // reset on a write after the server closed
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** The reply's {"error": …}, checked to be one line. */
    private static String assertOneLineError(Reply r) throws IOException {
        JsonNode json = JSON.readTree(r.body());
        String error = json.path("error").asText("");
        assertFalse(error.isEmpty(), "no error in " + r.body());
        assertFalse(error.contains("\n") || error.contains("\r"), "a reason of more than one line: " + error);
        return error;
    }

    private static String post(String path, String lengthHeader) {
        return "POST " + path + " HTTP/1.1\r\nHost: x\r\n" + lengthHeader + "\r\n\r\n";
    }

    /** A POST signed for the agent on 127.0.0.1:{@code target}. */
    private static String signed(int target, String path, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String auth = AdminAuth.sign(AdminAuthTest.KEY, AdminAuth.target(InetAddress.getLoopbackAddress(), target),
                "POST", path, bytes, System.currentTimeMillis());
        return "POST " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + AdminAuth.HEADER + ": " + auth
                + "\r\nContent-Length: " + bytes.length + "\r\n\r\n" + body;
    }
}
