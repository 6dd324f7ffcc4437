package org.chefbackend.api;

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
                return Map.of();
            }

            @Override
            public List<byte[]> adminKeys() {
                return List.of();
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
            InputStream in = s.getInputStream();
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                s.setSoTimeout(remainingMillis(deadline));
                int c = in.read();
                if (c < 0) {
                    break;
                }
                head.append((char) c);
            }
            return head.toString();
        }
    }

    /** Milliseconds until {@code deadline} (System.nanoTime), at least 1 (0 would mean no timeout). */
    private static int remainingMillis(long deadline) {
        return (int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
    }
}
