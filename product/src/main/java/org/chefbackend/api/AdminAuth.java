package org.chefbackend.api;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Authenticates admin calls to an agent by proof of a shared key, without sending the key: the caller signs
 * method, path, the agent it calls (address and port of its API, see {@link #target}), time, a nonce and the
 * body's hash with HMAC-SHA256. Keys are the node-local admin key (root on the node) and the one derived from
 * chef-backend-secrets.json (any cluster member, or a joining node), so without the target a call seen on its way
 * to one member could be replayed to every other. Replays to the same agent within the time window are refused
 * by the nonces it remembers (only those of calls it accepted: a stranger cannot fill the memory).
 */
public final class AdminAuth {
    public static final String HEADER = "X-Chef-Backend-Auth";
    /** Clocks of members must agree within 1.5 s (installation requires it); a minute leaves room for no replay. */
    static final long MAX_SKEW_MS = 60_000;
    private static final String VERSION = "v2";

    private final Map<String, Long> seenNonces = new LinkedHashMap<>();

    /**
     * The agent a call is for, as both sides name it: the address the caller connects to and the agent accepted
     * the connection on (an IP, never a name), and the port. The CLI always knows it; the agent reads it from the
     * connection, so it holds whichever of its addresses (publish_address, leaderl.http_address) was used.
     */
    public static String target(InetAddress address, int port) {
        String ip = address.getHostAddress();
        int scope = ip.indexOf('%'); // an IPv6 zone names an interface of one host, not the agent
        if (scope >= 0) {
            ip = ip.substring(0, scope);
        }
        return (address instanceof Inet6Address ? "[" + ip + "]" : ip) + ":" + port;
    }

    public static String target(InetSocketAddress address) {
        return target(address.getAddress(), address.getPort());
    }

    public static String sign(byte[] key, String target, String method, String path, byte[] body, long nowMillis) {
        byte[] nonce = new byte[12];
        new SecureRandom().nextBytes(nonce);
        String n = HexFormat.of().formatHex(nonce);
        return VERSION + " ts=" + nowMillis + " nonce=" + n + " target=" + target + " sig="
                + mac(key, canonical(method, path, target, nowMillis, n, body));
    }

    /**
     * Empty when {@code header} is a fresh, unreplayed signature of this request by one of {@code keys}, made for
     * this agent ({@code target}); else why it is refused: 401, or 403 for a call signed for another agent.
     */
    public synchronized Optional<ApiException> refusal(List<byte[]> keys, String target, String method, String path,
            byte[] body, String header, long nowMillis) {
        if (header == null) {
            return unauthorized("admin call not signed (no " + HEADER + " header)");
        }
        Map<String, String> f = new LinkedHashMap<>();
        for (String part : header.trim().split("\\s+")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                f.put(part.substring(0, eq), part.substring(eq + 1));
            }
        }
        if (header.startsWith("v1 ")) {
            return unauthorized("admin call signed by an older chef-backend-ctl (v1: the target node is not signed);"
                    + " use the chef-backend-ctl of this installation");
        }
        if (!header.startsWith(VERSION + " ") || !f.keySet().containsAll(List.of("ts", "nonce", "target", "sig"))) {
            return unauthorized("malformed " + HEADER + " header");
        }
        long ts;
        try {
            ts = Long.parseLong(f.get("ts"));
        } catch (NumberFormatException e) {
            return unauthorized("malformed " + HEADER + " header");
        }
        if (Math.abs(nowMillis - ts) > MAX_SKEW_MS) {
            return unauthorized("admin call signed more than " + MAX_SKEW_MS / 1000 + " s away from this node's clock");
        }
        String canonical = canonical(method, path, f.get("target"), ts, f.get("nonce"), body);
        byte[] given = f.get("sig").getBytes(StandardCharsets.US_ASCII);
        boolean ok = false;
        for (byte[] key : keys) {
            ok |= MessageDigest.isEqual(given, mac(key, canonical).getBytes(StandardCharsets.US_ASCII));
        }
        if (!ok) {
            return unauthorized("admin call not signed with this node's admin key or the cluster secrets");
        }
        if (!f.get("target").equals(target)) {
            return Optional.of(new ApiException(403, "admin call signed for the agent at " + f.get("target")
                    + ", not for this one (" + target + ")"));
        }
        seenNonces.values().removeIf(seen -> nowMillis - seen > 2 * MAX_SKEW_MS);
        if (seenNonces.putIfAbsent(f.get("nonce"), nowMillis) != null) {
            return unauthorized("admin call replayed (its nonce was used already)");
        }
        return Optional.empty();
    }

    private static Optional<ApiException> unauthorized(String reason) {
        return Optional.of(new ApiException(401, reason));
    }

    private static String canonical(String method, String path, String target, long ts, String nonce, byte[] body) {
        return method + "\n" + path + "\n" + target + "\n" + ts + "\n" + nonce + "\n" + sha256(body);
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
