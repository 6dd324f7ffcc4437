package org.chefbackend.api;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Authenticates admin calls to an agent by proof of a shared key, without sending the key: the caller signs
 * method, path, time, a nonce and the body's hash with HMAC-SHA256. Keys are the node-local admin key (root on the
 * node) and the one derived from chef-backend-secrets.json (any cluster member, or a joining node).
 */
public final class AdminAuth {
    public static final String HEADER = "X-Chef-Backend-Auth";
    /** Clocks of members must agree within 1.5 s (installation requires it); a minute leaves room for no replay. */
    static final long MAX_SKEW_MS = 60_000;

    private final Map<String, Long> seenNonces = new LinkedHashMap<>();

    public static String sign(byte[] key, String method, String path, byte[] body, long nowMillis) {
        byte[] nonce = new byte[12];
        new SecureRandom().nextBytes(nonce);
        String n = HexFormat.of().formatHex(nonce);
        return "v1 ts=" + nowMillis + " nonce=" + n + " sig=" + mac(key, canonical(method, path, nowMillis, n, body));
    }

    /** True when {@code header} is a fresh, unreplayed signature of this request by one of {@code keys}. */
    public synchronized boolean verify(List<byte[]> keys, String method, String path, byte[] body, String header,
            long nowMillis) {
        if (header == null) {
            return false;
        }
        Map<String, String> f = new LinkedHashMap<>();
        for (String part : header.trim().split("\\s+")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                f.put(part.substring(0, eq), part.substring(eq + 1));
            }
        }
        if (!header.startsWith("v1 ") || !f.containsKey("ts") || !f.containsKey("nonce") || !f.containsKey("sig")) {
            return false;
        }
        long ts;
        try {
            ts = Long.parseLong(f.get("ts"));
        } catch (NumberFormatException e) {
            return false;
        }
        if (Math.abs(nowMillis - ts) > MAX_SKEW_MS) {
            return false;
        }
        String canonical = canonical(method, path, ts, f.get("nonce"), body);
        byte[] given = f.get("sig").getBytes(StandardCharsets.US_ASCII);
        boolean ok = false;
        for (byte[] key : keys) {
            ok |= MessageDigest.isEqual(given, mac(key, canonical).getBytes(StandardCharsets.US_ASCII));
        }
        if (!ok) {
            return false;
        }
        seenNonces.values().removeIf(seen -> nowMillis - seen > 2 * MAX_SKEW_MS);
        return seenNonces.putIfAbsent(f.get("nonce"), nowMillis) == null;
    }

    private static String canonical(String method, String path, long ts, String nonce, byte[] body) {
        return method + "\n" + path + "\n" + ts + "\n" + nonce + "\n" + sha256(body);
    }

    private static String sha256(byte[] body) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String mac(byte[] key, String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }
}
