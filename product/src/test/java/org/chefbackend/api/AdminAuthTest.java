package org.chefbackend.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AdminAuthTest {
    static final byte[] KEY = "k".repeat(32).getBytes(StandardCharsets.UTF_8);
    static final byte[] OTHER = "o".repeat(32).getBytes(StandardCharsets.UTF_8);
    static final byte[] BODY = "{}".getBytes(StandardCharsets.UTF_8);
    static final long NOW = 1_800_000_000_000L;
    static final String NODE_A = "10.0.0.2:7331";
    static final String NODE_B = "10.0.0.3:7331";

    @Test
    void acceptsAFreshSignatureOnce() {
        AdminAuth auth = new AdminAuth();
        String header = AdminAuth.sign(KEY, NODE_A, "POST", "/admin/start", BODY, NOW);
        assertEquals(Optional.empty(), status(auth, List.of(OTHER, KEY), NODE_A, "/admin/start", BODY, header, NOW + 1000));
        assertEquals(Optional.of(401), status(auth, List.of(KEY), NODE_A, "/admin/start", BODY, header, NOW + 2000),
                "replay accepted");
    }

    @Test
    void rejectsWrongKeyPathBodyOrTime() {
        String header = AdminAuth.sign(KEY, NODE_A, "POST", "/admin/start", BODY, NOW);
        assertEquals(Optional.of(401), status(List.of(OTHER), NODE_A, "/admin/start", BODY, header, NOW));
        assertEquals(Optional.of(401), status(List.of(KEY), NODE_A, "/admin/stop", BODY, header, NOW));
        assertEquals(Optional.of(401), status(List.of(KEY), NODE_A, "/admin/start", "{ }".getBytes(), header, NOW));
        assertEquals(Optional.of(401), status(List.of(KEY), NODE_A, "/admin/start", BODY, header,
                NOW + AdminAuth.MAX_SKEW_MS + 1));
        assertEquals(Optional.of(401), status(List.of(KEY), NODE_A, "/admin/start", BODY, null, NOW));
        assertEquals(Optional.of(401), status(List.of(KEY), NODE_A, "/admin/start", BODY,
                "v2 ts=x nonce=y target=z sig=w", NOW));
    }

    /** A call captured on its way to one member cannot be replayed to another, though both hold the key. */
    @Test
    void refusesACallSignedForAnotherNode() {
        String header = AdminAuth.sign(KEY, NODE_A, "POST", "/admin/start", BODY, NOW);
        assertEquals(Optional.of(403), status(List.of(KEY), NODE_B, "/admin/start", BODY, header, NOW));
        // and the target named in the header is signed: rewriting it breaks the signature
        String rewritten = header.replace("target=" + NODE_A, "target=" + NODE_B);
        assertEquals(Optional.of(401), status(List.of(KEY), NODE_B, "/admin/start", BODY, rewritten, NOW));
    }

    /** A signature of the version before the target was signed is refused with a reason that says so. */
    @Test
    void refusesTheOlderSignatureSaying() {
        var refusal = new AdminAuth().refusal(List.of(KEY), NODE_A, "POST", "/admin/start", BODY,
                "v1 ts=" + NOW + " nonce=00 sig=00", NOW);
        assertTrue(refusal.isPresent() && refusal.get().getMessage().contains("older chef-backend-ctl"),
                String.valueOf(refusal.map(Throwable::getMessage)));
    }

    @Test
    void namesTheTargetByAddressAndPort() throws UnknownHostException {
        assertEquals("10.0.0.2:7331", AdminAuth.target(InetAddress.getByName("10.0.0.2"), 7331));
        assertEquals("[0:0:0:0:0:0:0:1]:7331", AdminAuth.target(InetAddress.getByName("::1"), 7331));
    }

    private static Optional<Integer> status(List<byte[]> keys, String target, String path, byte[] body,
            String header, long now) {
        return status(new AdminAuth(), keys, target, path, body, header, now);
    }

    private static Optional<Integer> status(AdminAuth auth, List<byte[]> keys, String target, String path,
            byte[] body, String header, long now) {
        return auth.refusal(keys, target, "POST", path, body, header, now).map(ApiException::status);
    }
}
