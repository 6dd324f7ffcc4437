package org.chefbackend.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Parsing and failure handling against a stand-in HTTP server; EtcdRecipeIT checks a real etcd. */
class EtcdProbeTest {
    /** GET /v2/members as Chef Server's reconfigure reads it to name its HAProxy servers (etcd 3.4, --enable-v2). */
    static final String MEMBERS = """
            {"members":[{"id":"2f74e8c0e2bda03","name":"4ba4ae0a6686cf6b67590e621459f1e2",
              "peerURLs":["http://192.168.33.216:2380"],"clientURLs":["http://192.168.33.216:2379"]},
             {"id":"8e9e05c52164694d","name":"","peerURLs":["http://192.168.33.217:2380"],"clientURLs":[]}]}
            """;

    HttpServer server;
    String url;
    final AtomicInteger status = new AtomicInteger(200);
    final AtomicReference<String> health = new AtomicReference<>("{\"health\":\"true\"}");
    final AtomicReference<String> members = new AtomicReference<>(MEMBERS);

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/health", x -> reply(x, health.get()));
        server.createContext("/v2/members", x -> reply(x, members.get()));
        server.start();
        url = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void reply(HttpExchange x, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        x.sendResponseHeaders(status.get(), bytes.length);
        x.getResponseBody().write(bytes);
        x.close();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void healthyOnlyWhenEtcdSaysTrue() {
        assertTrue(EtcdProbe.health(url));
        health.set("{\"health\":\"false\"}"); // no leader: etcd 3.4 answers 503 with this body
        status.set(503);
        assertFalse(EtcdProbe.health(url));
        status.set(200);
        assertFalse(EtcdProbe.health(url));
        health.set("not json");
        assertFalse(EtcdProbe.health(url));
    }

    @Test
    void membersAreParsedAsFrontendsReadThem() {
        List<EtcdProbe.Member> m = EtcdProbe.members(url);
        assertEquals(List.of(
                new EtcdProbe.Member("2f74e8c0e2bda03", "4ba4ae0a6686cf6b67590e621459f1e2",
                        List.of("http://192.168.33.216:2380"), List.of("http://192.168.33.216:2379")),
                new EtcdProbe.Member("8e9e05c52164694d", "", List.of("http://192.168.33.217:2380"), List.of())), m);
        status.set(404); // etcd without --enable-v2
        assertEquals(List.of(), EtcdProbe.members(url));
    }

    @Test
    void anUnreachableMemberIsUnhealthyAndHasNoMembers() {
        server.stop(0);
        assertFalse(EtcdProbe.health(url));
        assertEquals(List.of(), EtcdProbe.members(url));
        assertFalse(EtcdProbe.health("not a url"));
    }
}
