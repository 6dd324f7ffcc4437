package org.chefbackend.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.chefbackend.agent.ServiceSetupException;

/**
 * Whatever arrives at the agent's API (method, path, headers, body; signed or not), {@link AgentApi} answers with a
 * 2xx or 4xx reply, never a 5xx and never an exception, and an error's text is one line. Seeded and with a fixed
 * number of tries, so every build replays the same requests.
 */
class AgentApiFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] KEY = AdminAuthTest.KEY;
    /** What the agent's admin call knows (NodeAgent.admin); anything else is its "unknown admin action". */
    /** The agent these calls are for, as AdminAuth signs it (a call signed for another is refused). */
    private static final String TARGET = "127.0.0.1:7331";
    private static final Set<String> ACTIONS = Set.of("start", "stop", "restart", "reconfigure", "shutdown",
            "cluster/join", "cluster/intent", "cluster/failover", "cluster/remove", "pgsql-follow");
    private static final List<String> METHODS = List.of("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH",
            "TRACE", "CONNECT", "get", "post", "", " GET", "GET ", "G\u0000T", "PRI", "X".repeat(300));
    private static final List<String> PATHS = List.of("/", "", "*", "/leader", "/leader/", "/leaderx", "/status",
            "/status/x/y", "/position", "/cluster", "/cluster/", "/admin", "/admin/", "/admin/start", "/admin//start",
            "/admin/services/postgresql/restart", "/admin/services//", "/admin/cluster/join", "/admin/cluster/intent",
            "/admin/a/b/c/d", "//leader", "/leader/../admin/start", "/%2e%2e/admin", "/admin/shutdown", "/ADMIN/start",
            "/admin/\u0000", "/admin/start\n", "/status\r\nX: y", "/é", "/\uD800", "/" + "a".repeat(5000));

    /** A node that answers as the agent does, from memory: no cluster behind it, so every reply is the API's own. */
    private static final class FakeNode implements AgentHttpServer.Node {
        @Override
        public Map<String, Object> status() {
            return Map.of("agent", Map.of("pid", 1));
        }

        @Override
        public boolean leader() {
            return true;
        }

        @Override
        public Map<String, Object> position() {
            return Map.of("lsn", "0/0");
        }

        @Override
        public Map<String, Object> cluster() {
            return Map.of("nodes", List.of());
        }

        @Override
        public Map<String, Object> admin(String action, String service, JsonNode body) {
            if (!ACTIONS.contains(action)) {
                throw new ServiceSetupException("unknown admin action '" + action + "'");
            }
            if (action.equals("cluster/intent") && !body.path("kind").isTextual()) {
                throw new ApiException(400, "an intent needs a kind");
            }
            return Map.of("ran", action);
        }

        @Override
        public List<byte[]> adminKeys() {
            return List.of(KEY);
        }
    }

    private final AgentApi api = new AgentApi(new FakeNode());

    // ---- properties -------------------------------------------------------------------------------------------

    /** Anything at all, unsigned or with a forged signature: what a scanner or an attacker without the key sends. */
    @Property(tries = 3000, seed = "7331")
    void anyRequest(@ForAll("methods") String method, @ForAll("paths") String path,
            @ForAll("headers") Map<String, String> headers, @ForAll("bodies") byte[] body) {
        check(method, path, headers, body);
    }

    /** Signed admin calls whose body is JSON of any shape: what a member (or a bug in one) sends. */
    @Property(tries = 1500, seed = "7332")
    void signedAdminCallsWithJsonBodies(@ForAll("adminPaths") String path, @ForAll("jsonBodies") String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        check("POST", path, signed("POST", path, bytes), bytes);
    }

    /**
     * Signed admin calls whose body is not JSON (cut off, binary, nested too deep, a number too long): a member with
     * the key can send them, through a bug or a half-written request.
     */
    @Property(tries = 1500, seed = "7333")
    void signedAdminCallsWithAnyBody(@ForAll("adminPaths") String path, @ForAll("bodies") byte[] body) {
        check("POST", path, signed("POST", path, body), body);
    }

    /**
     * A real signature on another request (other method, path or body), or replayed: refused with 401, or before the
     * signature is read when no such call exists (404) or the method is wrong (405).
     */
    @Property(tries = 300, seed = "7334")
    void signaturesDoNotTransfer(@ForAll("adminPaths") String path, @ForAll("jsonBodies") String body,
            @ForAll("tampering") int how) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        Map<String, String> headers = signed("POST", path, bytes);
        if (how == 3) { // the same signature twice: the first may run, the replay may not
            check("POST", path, headers, bytes);
        }
        String method = how == 0 ? "PUT" : "POST";
        String target = how == 1 ? path + "x" : path;
        byte[] sent = how == 2 ? (body + " ").getBytes(StandardCharsets.UTF_8) : bytes;
        AgentApi.Reply reply = check(method, target, headers, sent);
        assertTrue(reply.status() == 401 || reply.status() == 404 || (how == 0 && reply.status() == 405),
                () -> "tampering " + how + " of " + target + " answered " + reply.status());
    }

    // ---- examples -----------------------------------------------------------------------------------------------

    /** The smallest case of {@link #signedAdminCallsWithAnyBody}: a signed call whose body is not JSON. */
    @Example
    void aSignedCallWithABodyThatIsNotJsonIsABadRequest() throws IOException {
        byte[] body = "{".getBytes(StandardCharsets.UTF_8);
        AgentApi.Reply reply = check("POST", "/admin/start", signed("POST", "/admin/start", body), body);
        assertEquals(400, reply.status());
    }

    /**
     * A signed call to an admin path with a control character: the action's name goes to the node unchecked, and
     * the error that names it ("unknown admin action '\u0000'", "no such admin call: /admin/\n/x/y/z") is not
     * one line.
     */
    @Example
    void aSignedCallToAnOddPathGetsAnErrorOnOneLine() {
        for (String path : List.of("/admin/\u0000", "/admin/start\n", "/admin/\u2028", "/admin/\n/x/y/z",
                "/admin/services/\u001b[2J/start")) {
            byte[] body = new byte[0];
            check("POST", path, signed("POST", path, body), body);
        }
    }

    @Example
    void theRoutesStillAnswer() throws IOException {
        assertEquals(200, check("GET", "/leader", Map.of(), new byte[0]).status());
        assertEquals(200, check("GET", "/status", Map.of(), new byte[0]).status());
        assertEquals(401, check("POST", "/admin/start", Map.of(), new byte[0]).status());
        byte[] body = "{\"kind\": \"promote\"}".getBytes(StandardCharsets.UTF_8);
        assertEquals(200, check("POST", "/admin/cluster/intent",
                signed("POST", "/admin/cluster/intent", body), body).status());
    }

    // ---- what is checked ----------------------------------------------------------------------------------------

    /** Answers the request; fails on an escaping exception, a status outside 2xx/4xx, or an error not on one line. */
    private AgentApi.Reply check(String method, String path, Map<String, String> headers, byte[] body) {
        Map<String, String> byName = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        byName.putAll(headers);
        UnaryOperator<String> header = byName::get;
        String request = method + " " + show(path) + " " + headers.keySet() + " " + body.length + " bytes";
        AgentApi.Reply reply;
        try {
            reply = api.answer(method, path, header, () -> body, TARGET);
        } catch (IOException | RuntimeException | Error e) {
            return fail("escaped " + e + " for " + request, e);
        }
        int status = reply.status();
        assertTrue((status >= 200 && status < 300) || (status >= 400 && status < 500),
                () -> "status " + status + " (" + show(new String(reply.body(), StandardCharsets.UTF_8)) + ") for "
                        + request);
        if (status >= 400) {
            String error = errorText(reply);
            assertTrue(error.chars().noneMatch(c -> c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029),
                    () -> "error not on one line: " + show(error) + " for " + request);
        }
        return reply;
    }

    /** The error's text: the "error" field of a JSON reply, or the whole body of another. */
    private static String errorText(AgentApi.Reply reply) {
        String body = new String(reply.body(), StandardCharsets.UTF_8);
        if (!reply.contentType().startsWith("application/json")) {
            return body;
        }
        try {
            JsonNode error = JSON.readTree(body).path("error");
            assertTrue(error.isTextual(), () -> "no error text in " + show(body));
            return error.asText();
        } catch (IOException e) {
            return fail("reply not JSON: " + show(body));
        }
    }

    private static Map<String, String> signed(String method, String path, byte[] body) {
        return Map.of(AdminAuth.HEADER, AdminAuth.sign(KEY, TARGET, method, path, body, System.currentTimeMillis()));
    }

    private static String show(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder("\"");
        for (char c : text.substring(0, Math.min(200, text.length())).toCharArray()) {
            sb.append(c >= 0x20 && c < 0x7f && c != '"' ? String.valueOf(c) : String.format("\\u%04x", (int) c));
        }
        return sb.append(text.length() > 200 ? "\"..." : "\"").toString();
    }

    // ---- generators ---------------------------------------------------------------------------------------------

    @Provide
    Arbitrary<String> methods() {
        return Arbitraries.oneOf(Arbitraries.of(METHODS), Arbitraries.strings().ofMaxLength(12));
    }

    @Provide
    Arbitrary<String> paths() {
        Arbitrary<String> suffix = Arbitraries.oneOf(Arbitraries.just(""), Arbitraries.strings().ofMaxLength(20),
                Arbitraries.strings().withChars("/.%2eAa\u0000\n").ofMaxLength(12));
        return Arbitraries.oneOf(Combinators.combine(Arbitraries.of(PATHS), suffix).as(String::concat),
                Arbitraries.just(null));
    }

    @Provide
    Arbitrary<String> adminPaths() {
        List<String> actions = new ArrayList<>(ACTIONS);
        actions.addAll(List.of("", "unknown", "services/postgresql/start", "services/x/y", "services//", "cluster/",
                "cluster/x", "a/b/c/d", "start/", "é", "x".repeat(1000)));
        return Arbitraries.of(actions).map(a -> "/admin/" + a);
    }

    @Provide
    Arbitrary<Map<String, String>> headers() {
        Arbitrary<String> forged = Combinators.combine(Arbitraries.of("v1 ", "v2 ", "", " v1  ", "v1\t"),
                        Arbitraries.of("ts=", "ts=-", "ts=9223372036854775807", "ts=" + System.currentTimeMillis(), ""),
                        Arbitraries.strings().withChars("0123456789abcdef= ").ofMaxLength(30),
                        Arbitraries.of(" nonce=", " nonce==", ""), Arbitraries.of(" sig=", " sig=" + "0".repeat(64), ""))
                .as((v, ts, junk, nonce, sig) -> v + ts + junk + nonce + junk + sig + junk);
        Arbitrary<String> name = Arbitraries.oneOf(Arbitraries.of(AdminAuth.HEADER,
                AdminAuth.HEADER.toLowerCase(Locale.ROOT), "Content-Type", "Content-Length", "Host", "Expect"),
                Arbitraries.strings().ofMaxLength(10));
        Arbitrary<String> value = Arbitraries.oneOf(forged, Arbitraries.strings().ofMaxLength(40),
                Arbitraries.just("x".repeat(10_000)));
        return Arbitraries.maps(name, value).ofMaxSize(4);
    }

    @Provide
    Arbitrary<byte[]> bodies() {
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
        Arbitrary<byte[]> text = Arbitraries.of("", "{", "}", "[", "null", "\"x\"", "1", "{\"a\":", "{'a': 1}",
                        "\uFEFF{}", "[".repeat(2000), "{\"a\":" + "[".repeat(1500), "1" + "0".repeat(2000),
                        "{\"a\":1}{", "{\"a\":1,\"a\":2}", "\u0000", "{\"kind\":\"promote\"}")
                .map(s -> s.getBytes(StandardCharsets.UTF_8));
        return Arbitraries.oneOf(random, text, jsonBodies().map(s -> s.getBytes(StandardCharsets.UTF_8)));
    }

    /** Well-formed JSON of any shape: objects with the fields the agent reads, arrays, scalars, odd strings. */
    @Provide
    Arbitrary<String> jsonBodies() {
        Arbitrary<String> scalar = Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(20).map(AgentApiFuzzTest::quote),
                Arbitraries.longs().map(String::valueOf), Arbitraries.doubles().map(String::valueOf),
                Arbitraries.of("true", "false", "null", "\"promote\"", "\"demote\"", "\"cluster\"", "\"127.0.0.1\"",
                        "-0", "1e308", "1e-308"));
        Arbitrary<String> key = Arbitraries.oneOf(Arbitraries.of("kind", "target", "name", "guid", "address",
                "peer_port", "recovery", "scope", "enabled", "leader", "force_basebackup", "a"),
                Arbitraries.strings().ofMaxLength(8));
        Arbitrary<String> value = Arbitraries.recursive(() -> scalar, inner -> Arbitraries.oneOf(
                inner.list().ofMaxSize(3).map(l -> "[" + String.join(",", l) + "]"),
                Combinators.combine(key, inner).as((k, v) -> quote(k) + ":" + v).list().ofMaxSize(3)
                        .map(l -> "{" + String.join(",", l) + "}")), 0, 3);
        return Arbitraries.oneOf(value, Combinators.combine(key, value).as((k, v) -> quote(k) + ":" + v)
                .list().ofMaxSize(5).map(l -> "{" + String.join(",", l) + "}"));
    }

    @Provide
    Arbitrary<Integer> tampering() {
        return Arbitraries.integers().between(0, 3);
    }

    /** A JSON string literal (Jackson writes it, so every character is escaped as JSON requires). */
    private static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
