package org.chefbackend.api;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdminAuthTest {
    static final byte[] KEY = "k".repeat(32).getBytes(StandardCharsets.UTF_8);
    static final byte[] OTHER = "o".repeat(32).getBytes(StandardCharsets.UTF_8);
    static final byte[] BODY = "{}".getBytes(StandardCharsets.UTF_8);
    static final long NOW = 1_800_000_000_000L;

    @Test
    void acceptsAFreshSignatureOnce() {
        AdminAuth auth = new AdminAuth();
        String header = AdminAuth.sign(KEY, "POST", "/admin/start", BODY, NOW);
        assertTrue(auth.verify(List.of(OTHER, KEY), "POST", "/admin/start", BODY, header, NOW + 1000));
        assertFalse(auth.verify(List.of(KEY), "POST", "/admin/start", BODY, header, NOW + 2000), "replay accepted");
    }

    @Test
    void rejectsWrongKeyPathBodyOrTime() {
        String header = AdminAuth.sign(KEY, "POST", "/admin/start", BODY, NOW);
        assertFalse(new AdminAuth().verify(List.of(OTHER), "POST", "/admin/start", BODY, header, NOW));
        assertFalse(new AdminAuth().verify(List.of(KEY), "POST", "/admin/stop", BODY, header, NOW));
        assertFalse(new AdminAuth().verify(List.of(KEY), "POST", "/admin/start", "{ }".getBytes(), header, NOW));
        assertFalse(new AdminAuth().verify(List.of(KEY), "POST", "/admin/start", BODY, header,
                NOW + AdminAuth.MAX_SKEW_MS + 1));
        assertFalse(new AdminAuth().verify(List.of(KEY), "POST", "/admin/start", BODY, null, NOW));
        assertFalse(new AdminAuth().verify(List.of(KEY), "POST", "/admin/start", BODY, "v1 ts=x nonce=y sig=z", NOW));
    }
}
