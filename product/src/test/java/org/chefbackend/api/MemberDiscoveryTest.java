package org.chefbackend.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.chefbackend.system.Http;
import org.chefbackend.system.Poll;
import org.junit.jupiter.api.Test;

/**
 * The frontends' member discovery on a real socket: etcd's answer served as fetched, nothing else served, and the
 * port bound only while the node is closed.
 */
class MemberDiscoveryTest {
    static final Duration SECONDS_5 = Duration.ofSeconds(5);
    static final String MEMBERS = "{\"members\":[{\"id\":\"a1\",\"name\":\"guid1\",\"peerURLs\":[\"https://10.0.0.1:2380\"],"
            + "\"clientURLs\":[\"https://10.0.0.1:2378\"]}]}";

    @Test
    void servesEtcdsAnswerToGetAndNothingElseWhileTheNodeIsClosed() throws Exception {
        InetSocketAddress at = new InetSocketAddress("127.0.0.1", freePort());
        AtomicReference<Optional<InetSocketAddress>> where = new AtomicReference<>(Optional.of(at));
        AtomicInteger fetches = new AtomicInteger();
        MemberDiscovery discovery = new MemberDiscovery(where::get, () -> {
            fetches.incrementAndGet();
            return MEMBERS.getBytes(StandardCharsets.UTF_8);
        });
        discovery.start();
        try {
            String base = Http.base(at.getHostString(), at.getPort());
            assertTrue(Poll.until(SECONDS_5, Duration.ofMillis(50), () -> discovery.endpoint().isPresent()), "never bound");
            Http.Response r = Http.get(base + "/v2/members", SECONDS_5, SECONDS_5);
            assertEquals(200, r.status());
            assertEquals(MEMBERS, new String(r.body(), StandardCharsets.UTF_8));
            int before = fetches.get();
            for (int i = 0; i < 20; i++) {
                assertEquals(200, Http.get(base + "/v2/members", SECONDS_5, SECONDS_5).status());
            }
            assertTrue(fetches.get() <= before + 1, "requests reached etcd: " + (fetches.get() - before) + " fetches");
            assertEquals(404, Http.get(base + "/v2/keys/chef-backend/leader", SECONDS_5, SECONDS_5).status());
            assertEquals(404, Http.get(base + "/health", SECONDS_5, SECONDS_5).status());
            assertEquals(404, Http.send("POST", base + "/v3/kv/range", Map.of(), "{}".getBytes(StandardCharsets.UTF_8),
                    SECONDS_5, SECONDS_5).status());
            assertEquals(405, Http.send("POST", base + "/v2/members", Map.of(),
                    "{\"peerURLs\":[\"http://x:2380\"]}".getBytes(StandardCharsets.UTF_8), SECONDS_5, SECONDS_5).status());
            assertEquals(405, Http.send("DELETE", base + "/v2/members", Map.of(), null, SECONDS_5, SECONDS_5).status());

            // the node no longer closed (or etcd back on the port): the port is let go
            where.set(Optional.empty());
            assertTrue(Poll.until(SECONDS_5, Duration.ofMillis(50), () -> discovery.endpoint().isEmpty() && !listening(at)),
                    "still listening");
        } finally {
            discovery.stop();
        }
        assertFalse(listening(at), "listening after stop");
    }

    @Test
    void waitsForThePortAndAnswers503WithoutAnAnswerFromEtcd() throws Exception {
        InetSocketAddress at = new InetSocketAddress("127.0.0.1", freePort());
        AtomicInteger fetches = new AtomicInteger();
        MemberDiscovery discovery = new MemberDiscovery(() -> Optional.of(at), () -> {
            fetches.incrementAndGet();
            throw new IOException("connection refused");
        });
        try (ServerSocket etcdStillThere = new ServerSocket()) {
            etcdStillThere.bind(at);
            discovery.start();
            // each tick asks etcd, then tries the port: a second question means the first tick's try is over
            assertTrue(Poll.until(Duration.ofSeconds(10), Duration.ofMillis(50), () -> fetches.get() >= 2), "no second tick");
            assertTrue(discovery.endpoint().isEmpty(), "bound a port someone else holds");
        }
        try {
            assertTrue(Poll.until(Duration.ofSeconds(10), Duration.ofMillis(50), () -> discovery.endpoint().isPresent()),
                    "did not take the port once it was free");
            Http.Response r = Http.get(Http.base(at.getHostString(), at.getPort()) + "/v2/members", SECONDS_5,
                    SECONDS_5);
            assertEquals(503, r.status());
            assertTrue(new String(r.body(), StandardCharsets.UTF_8).contains("etcd has not answered"));
        } finally {
            discovery.stop();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static boolean listening(InetSocketAddress at) {
        try (Socket s = new Socket()) {
            s.connect(at, 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
