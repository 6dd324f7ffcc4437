package org.chefbackend.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The cluster-wide shared secrets of {@code chef-backend-secrets.json}. Generated once by
 * {@code create-cluster} and copied verbatim to every joining node.
 */
public record Secrets(
        String dbSuperuserPassword,
        String replicationPassword,
        String etcdInitialClusterToken,
        String elasticsearchClusterName) {

    /** Label the admin key is derived for; bump the version to rotate every derived key at once. */
    static final String ADMIN_KEY_LABEL = "chef-backend admin api v1";

    private static final ObjectMapper JSON = new ObjectMapper();

    public Secrets {
        requireNonEmpty(dbSuperuserPassword, "dbSuperuserPassword");
        requireNonEmpty(replicationPassword, "replicationPassword");
        requireNonEmpty(etcdInitialClusterToken, "etcdInitialClusterToken");
        requireNonEmpty(elasticsearchClusterName, "elasticsearchClusterName");
    }

    /** Fresh secrets; passwords are as long as the original's (100 hex chars). */
    public static Secrets generate(SecureRandom random) {
        return new Secrets(
                randomHex(random, 50),
                randomHex(random, 50),
                randomHex(random, 16),
                // OpenSearch cluster names must stay simple: letters, digits, dashes.
                "chef-backend-" + randomHex(random, 8));
    }

    /** The file contents: pretty-printed, keys always in the same order, trailing newline. */
    public String toJson() {
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter()
                .withSeparators(Separators.createDefaultInstance()
                        .withObjectFieldValueSpacing(Separators.Spacing.AFTER));
        try {
            return JSON.writer(printer).writeValueAsString(tree()) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise secrets", e); // cannot happen for a tree of strings
        }
    }

    /**
     * A key for authenticating admin API calls between agents: whoever holds the same four secrets
     * derives the same key, nobody else can. HMAC-SHA256 of a fixed label keyed with the compact
     * canonical JSON (fixed key order, so equal secrets always give equal bytes).
     */
    public byte[] adminKey() {
        try {
            byte[] canonical = JSON.writeValueAsBytes(tree());
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(canonical, "HmacSHA256"));
            return mac.doFinal(ADMIN_KEY_LABEL.getBytes(StandardCharsets.UTF_8));
        } catch (JsonProcessingException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot derive admin key", e); // HmacSHA256 is mandatory in every JRE
        }
    }

    /** Never print the values: this ends up in logs. */
    @Override
    public String toString() {
        return "Secrets[<redacted>]";
    }

    private ObjectNode tree() {
        ObjectNode root = JSON.createObjectNode();
        root.putObject("postgresql")
                .put("db_superuser_password", dbSuperuserPassword)
                .put("replication_password", replicationPassword);
        root.putObject("etcd").put("initial_cluster_token", etcdInitialClusterToken);
        root.putObject("elasticsearch").put("cluster_name", elasticsearchClusterName);
        return root;
    }

    private static String randomHex(SecureRandom random, int bytes) {
        byte[] b = new byte[bytes];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b); // lowercase
    }

    private static void requireNonEmpty(String value, String name) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(name + " must be a non-empty string");
        }
    }
}
