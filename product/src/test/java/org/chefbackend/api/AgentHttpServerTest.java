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
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AgentHttpServerTest {
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
        server = new AgentHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 2, node);
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
        assertTrue(head.toLowerCase(java.util.Locale.ROOT).contains("\r\nconnection: close\r\n"), head);
    }

    /** HAProxy's checks and other keep-alive clients keep their connections. */
    @Test
    void otherRequestsKeepTheirConnection() throws IOException {
        String head = exchange("GET /leader HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(head.startsWith("HTTP/1.1 200"), head);
        assertFalse(head.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), head);
    }

    /** Sends {@code request} and returns the reply's status line and headers. */
    private String exchange(String request) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
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
    }
}
