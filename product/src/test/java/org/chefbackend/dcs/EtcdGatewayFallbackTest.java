package org.chefbackend.dcs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The etcd client's part of rotate-secrets: refused with the current password and taken with the next one, it goes on
 * as the next user and says so once; refused with both, it fails naming etcd's refusal of the current user. A fake
 * etcd (its JSON gateway's authenticate and range, the token checked) stands in for the real one, which
 * SecretsRotationIT rotates.
 */
class EtcdGatewayFallbackTest {
    static final Duration BUDGET = Duration.ofSeconds(2);
    static final String REFUSED = "etcdserver: authentication failed, invalid user ID or password";

    HttpServer etcd;
    final Map<String, String> passwords = new ConcurrentHashMap<>(); // user -> the password etcd takes
    final Map<String, String> tokens = new ConcurrentHashMap<>(); // token -> user
    final AtomicInteger logins = new AtomicInteger();
    String endpoint;

    @BeforeEach
    void start() throws IOException {
        etcd = HttpServer.create(new InetSocketAddress("127.0.0.164", 0), 0);
        etcd.createContext("/v3/auth/authenticate", this::authenticate);
        etcd.createContext("/v3/kv/range", this::range);
        etcd.start();
        endpoint = "http://127.0.0.164:" + etcd.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        etcd.stop(0);
    }

    @Test
    void theCurrentPasswordTakenMeansNoFallback() {
        passwords.put("chef-backend", "old");
        AtomicInteger adopted = new AtomicInteger();
        EtcdGateway g = gateway("old", adopted);
        assertEquals("chef-backend", user(g.post("read", "/v3/kv/range", EtcdJson.object(), BUDGET)));
        assertEquals(0, adopted.get());
    }

    @Test
    void refusedWithTheCurrentAndTakenWithTheNextItGoesOnAsTheNextOnce() {
        passwords.put("chef-backend", "new");
        AtomicInteger adopted = new AtomicInteger();
        EtcdGateway g = gateway("old", adopted);
        assertEquals("chef-backend", user(g.post("read", "/v3/kv/range", EtcdJson.object(), BUDGET)));
        assertEquals(1, adopted.get());
        int loginsAfterSwitch = logins.get();
        tokens.clear(); // etcd drops every token (any auth change does): the next login is with the next password
        g.post("read", "/v3/kv/range", EtcdJson.object(), BUDGET);
        assertEquals(loginsAfterSwitch + 1, logins.get(), "logged in once more, and at once with the next password");
        assertEquals(1, adopted.get(), "said more than once");
    }

    @Test
    void refusedWithBothItFailsNamingTheCurrentUsersRefusal() {
        passwords.put("chef-backend", "other");
        AtomicInteger adopted = new AtomicInteger();
        EtcdGateway g = gateway("old", adopted);
        DcsException e = assertThrows(DcsException.class, () -> g.post("read", "/v3/kv/range", EtcdJson.object(),
                BUDGET));
        assertEquals("read: etcd refused user chef-backend: " + REFUSED, e.getMessage());
        assertEquals(0, adopted.get());
        assertTrue(!e.getMessage().contains("old") && !e.getMessage().contains("new"), "a password in: " + e);
    }

    @Test
    void retargetDropsTheFallback() {
        passwords.put("chef-backend", "new");
        AtomicInteger adopted = new AtomicInteger();
        EtcdGateway g = gateway("old", adopted);
        g.retarget(List.of(endpoint), new EtcdCredentials("chef-backend", "old"), null);
        assertThrows(DcsException.class, () -> g.post("read", "/v3/kv/range", EtcdJson.object(), BUDGET));
        assertEquals(0, adopted.get());
    }

    private EtcdGateway gateway(String password, AtomicInteger adopted) {
        EtcdGateway g = new EtcdGateway(List.of(endpoint), new EtcdCredentials("chef-backend", password), null);
        g.fallBackTo(new EtcdCredentials("chef-backend", "new"), adopted::incrementAndGet);
        return g;
    }

    private static String user(JsonNode answer) {
        return answer.path("user").asText();
    }

    private void authenticate(HttpExchange x) throws IOException {
        logins.incrementAndGet();
        JsonNode login = EtcdGateway.JSON.readTree(x.getRequestBody().readAllBytes());
        String user = login.path("name").asText();
        if (!login.path("password").asText().equals(passwords.get(user))) {
            reply(x, 400, "{\"error\":\"" + REFUSED + "\",\"code\":3,\"message\":\"" + REFUSED + "\"}");
            return;
        }
        String token = "token-" + logins.get();
        tokens.put(token, user);
        reply(x, 200, "{\"token\":\"" + token + "\"}");
    }

    private void range(HttpExchange x) throws IOException {
        x.getRequestBody().readAllBytes();
        String user = tokens.get(String.valueOf(x.getRequestHeaders().getFirst("Authorization")));
        if (user == null) {
            reply(x, 401, "{\"error\":\"etcdserver: invalid auth token\",\"code\":16}");
            return;
        }
        reply(x, 200, "{\"user\":\"" + user + "\"}");
    }

    private static void reply(HttpExchange x, int status, String body) throws IOException {
        byte[] b = body.getBytes(UTF_8);
        x.getResponseHeaders().set("Content-Type", "application/json");
        x.sendResponseHeaders(status, b.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(b);
        }
    }
}
