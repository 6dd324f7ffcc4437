package org.chefbackend.dcs;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.chefbackend.dcs.ClusterStore.EtcdMember;
import org.chefbackend.dcs.ClusterStore.Versioned;

/**
 * The gateway's JSON, as protobuf's JSON mapping writes etcd's messages: keys and values base64, 64-bit numbers as
 * strings, fields at their zero value (0, false, PUT) left out.
 */
final class EtcdJson {
    private static final Base64.Encoder B64 = Base64.getEncoder();

    private EtcdJson() {
    }

    static ObjectNode object() {
        return EtcdGateway.JSON.createObjectNode();
    }

    static ObjectNode key(String etcdKey) {
        return object().put("key", b64(etcdKey));
    }

    /** Every key starting with {@code etcdPrefix}. */
    static ObjectNode prefix(String etcdPrefix) {
        byte[] from = etcdPrefix.getBytes(UTF_8);
        return object().put("key", B64.encodeToString(from)).put("range_end", B64.encodeToString(rangeEnd(from)));
    }

    /** A transaction of one compare and one operation. */
    static ObjectNode txn(ObjectNode compare, ObjectNode then) {
        ObjectNode body = object();
        body.putArray("compare").add(compare);
        body.putArray("success").add(then);
        return body;
    }

    /** The key's {@code target} (CREATE, MOD or LEASE; 0 for an absent key) equals {@code value}. */
    static ObjectNode compare(String etcdKey, String target, long value) {
        String field = switch (target) {
            case "CREATE" -> "create_revision";
            case "MOD" -> "mod_revision";
            case "LEASE" -> "lease";
            default -> throw new IllegalArgumentException("no compare target " + target);
        };
        return key(etcdKey).put("target", target).put("result", "EQUAL").put(field, value);
    }

    /** A put of a transaction, bound to the lease (0: none). */
    static ObjectNode put(String etcdKey, String value, long leaseId) {
        ObjectNode op = object();
        op.set("request_put", key(etcdKey).put("value", b64(value)).put("lease", leaseId));
        return op;
    }

    static ObjectNode delete(String etcdKey) {
        ObjectNode op = object();
        op.set("request_delete_range", key(etcdKey));
        return op;
    }

    /** A member ID, a uint64. */
    static ObjectNode memberId(long id) {
        return object().put("ID", Long.toUnsignedString(id));
    }

    static String b64(String s) {
        if (s == null) {
            throw new IllegalArgumentException("null etcd value");
        }
        return B64.encodeToString(s.getBytes(UTF_8));
    }

    static String text(JsonNode base64) {
        return new String(Base64.getDecoder().decode(base64.asText("")), UTF_8);
    }

    /** An int64 (a string, or absent for 0). */
    static long int64(JsonNode n) {
        return n.isMissingNode() || n.isNull() ? 0 : Long.parseLong(n.asText());
    }

    static Versioned versioned(JsonNode kv) {
        return new Versioned(text(kv.path("value")), int64(kv.path("mod_revision")), int64(kv.path("lease")));
    }

    static EtcdMember member(JsonNode m) {
        return new EtcdMember(Long.parseUnsignedLong(m.path("ID").asText("0")), m.path("name").asText(""),
                strings(m.path("peerURLs")), strings(m.path("clientURLs")));
    }

    /** The first key after every key starting with {@code prefix}: etcd's range_end for a prefix. */
    static byte[] rangeEnd(byte[] prefix) {
        byte[] end = Arrays.copyOf(prefix, prefix.length);
        for (int i = end.length - 1; i >= 0; i--) {
            if (end[i] != (byte) 0xff) {
                end[i]++;
                return Arrays.copyOf(end, i + 1);
            }
        }
        return new byte[] {0}; // all 0xff: to the end of the keyspace
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(s -> out.add(s.asText()));
        return out;
    }
}
