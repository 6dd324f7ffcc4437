package org.chefbackend.system;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class HttpTest {
    static final Duration SHORT = Duration.ofSeconds(2);

    @Test
    void getsBodiesAndErrorBodies() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/ok", ex -> reply(ex, 200, "{\"a\":1}"));
        server.createContext("/missing", ex -> reply(ex, 404, "{\"error\":\"no such thing\"}"));
        server.start();
        try {
            String base = Http.base("127.0.0.1", server.getAddress().getPort());
            Http.Response ok = Http.get(base + "/ok", SHORT, SHORT);
            assertEquals(200, ok.status());
            assertEquals("{\"a\":1}", ok.text());
            Http.Response missing = Http.get(base + "/missing", SHORT, SHORT);
            assertEquals(404, missing.status());
            assertEquals("{\"error\":\"no such thing\"}", missing.text());
        } finally {
            server.stop(0);
        }
    }

    @Test
    void postsTheBodyAndHeadersOnce() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        AtomicReference<byte[]> got = new AtomicReference<>();
        AtomicReference<String> header = new AtomicReference<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/admin", ex -> {
            calls.incrementAndGet();
            got.set(ex.getRequestBody().readAllBytes());
            header.set(ex.getRequestHeaders().getFirst("X-Signature"));
            reply(ex, 200, "{}");
        });
        server.start();
        try {
            byte[] body = "{\"k\":\"v\"}".getBytes(StandardCharsets.UTF_8);
            Http.Response r = Http.send("POST", Http.base("127.0.0.1", server.getAddress().getPort()) + "/admin",
                    Map.of("X-Signature", "sig"), body, SHORT, SHORT);
            assertEquals(200, r.status());
            assertEquals(1, calls.get());
            assertArrayEquals(body, got.get());
            assertEquals("sig", header.get());
        } finally {
            server.stop(0);
        }
    }

    /**
     * A server that reads a request and hangs up without answering: the POST must fail, not be sent again. (A plain
     * HttpURLConnection POST without fixed-length streaming is sent twice here: the JDK retries it.)
     */
    @Test
    void aPostIsNeverResentAfterTheConnectionDrops() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                while (!ss.isClosed()) {
                    try (Socket s = ss.accept()) {
                        accepted.incrementAndGet();
                        InputStream in = s.getInputStream();
                        byte[] buf = new byte[4096];
                        in.read(buf); // the request; then close without a reply
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            t.setDaemon(true);
            t.start();
            assertThrows(IOException.class, () -> Http.send("POST", Http.base("127.0.0.1", ss.getLocalPort()) + "/x",
                    Map.of(), new byte[] {1, 2, 3}, SHORT, SHORT));
            Thread.sleep(200); // a retry happens inside send(), before it throws; this only lets the accept loop count it
            assertEquals(1, accepted.get(), "the POST was sent again");
        }
    }

    /**
     * Every request goes on a connection of its own, even to a server that would keep it. The JDK's HttpServer (the
     * agent's) closes a connection whose request said "Connection: close" without saying so in its reply; a client
     * that kept such a connection sends its next request into a socket being closed and gets a reset, which a POST
     * cannot survive (CI saw {@code stop leaderl} fail so, right after the CLI's status GET).
     */
    @Test
    void everyRequestOpensItsOwnConnection() throws Exception {
        List<Integer> requestsPerConnection = new CopyOnWriteArrayList<>();
        try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                while (!ss.isClosed()) {
                    try {
                        Socket s = ss.accept();
                        Thread c = new Thread(() -> serveKeepingTheConnection(s, requestsPerConnection));
                        c.setDaemon(true);
                        c.start();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            t.setDaemon(true);
            t.start();
            String base = Http.base("127.0.0.1", ss.getLocalPort());
            for (int i = 0; i < 5; i++) {
                assertEquals(200, Http.get(base + "/status", SHORT, SHORT).status());
                assertEquals(200, Http.send("POST", base + "/admin", Map.of(), new byte[0], SHORT, SHORT).status());
            }
            long deadline = System.nanoTime() + SHORT.toNanos();
            while (requestsPerConnection.size() < 10 && System.nanoTime() < deadline) {
                Thread.onSpinWait(); // each connection reports when the client closes it, just after its reply
            }
            assertEquals(Collections.nCopies(10, 1), requestsPerConnection,
                    "requests on each connection the client closed (a kept connection is never closed)");
        }
    }

    /** Answers every request on {@code s} (no Connection header: HTTP/1.1 keeps it) and records how many there were. */
    private static void serveKeepingTheConnection(Socket s, List<Integer> requestsPerConnection) {
        int requests = 0;
        try (s) {
            BufferedReader in = new BufferedReader(
                    new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
            String line;
            while ((line = in.readLine()) != null) {
                if (!line.isEmpty()) {
                    continue; // the request line and headers; both requests have no body
                }
                requests++;
                s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
                        .getBytes(StandardCharsets.ISO_8859_1));
            }
        } catch (IOException e) {
            // the client went away
        }
        requestsPerConnection.add(requests);
    }

    @Test
    void nothingListeningIsAnIoException() throws Exception {
        int port;
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = ss.getLocalPort();
        }
        int closed = port;
        assertThrows(IOException.class, () -> Http.get(Http.base("127.0.0.1", closed) + "/", SHORT, SHORT));
        assertThrows(IOException.class, () -> Http.get("http://bad host/", SHORT, SHORT));
        assertEquals("http://[::1]:7331", Http.base("::1", 7331));
    }

    static void reply(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, b.length);
        try (var out = ex.getResponseBody()) {
            out.write(b);
        }
    }
}
