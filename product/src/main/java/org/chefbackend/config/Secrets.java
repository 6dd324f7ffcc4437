package org.chefbackend.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
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
        String elasticsearchClusterName,
        ClusterCa ca) {

    /** Label the admin key is derived for; bump the version to rotate every derived key at once. */
    static final String ADMIN_KEY_LABEL = "chef-backend admin api v1";

    /** etcd's administrator: membership changes and auth set-up only. */
    public static final String ETCD_ROOT_USER = "root";
    /** The etcd user the agents read and write the cluster's keys as (readwrite on /chef-backend/ only). */
    public static final String ETCD_CLUSTER_USER = "chef-backend";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The documents' four secrets, without a cluster CA (a cluster made before the CA existed). */
    public Secrets(String dbSuperuserPassword, String replicationPassword, String etcdInitialClusterToken,
            String elasticsearchClusterName) {
        this(dbSuperuserPassword, replicationPassword, etcdInitialClusterToken, elasticsearchClusterName, null);
    }

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

    /** The same secrets with {@code ca} as the cluster CA. */
    public Secrets withCa(ClusterCa ca) {
        return new Secrets(dbSuperuserPassword, replicationPassword, etcdInitialClusterToken, elasticsearchClusterName,
                ca);
    }

    /**
     * The same cluster with new database passwords, and so new derived keys (etcd passwords, admin key): what
     * {@code rotate-secrets --prepare} writes. The etcd initial cluster token, the search cluster name and the CA
     * stay: none of them can change under a running cluster.
     */
    public Secrets withNewPasswords(SecureRandom random) {
        return new Secrets(randomHex(random, 50), randomHex(random, 50), etcdInitialClusterToken,
                elasticsearchClusterName, ca);
    }

    /**
     * Names these secrets without giving them away: SHA-256 of the whole file's contents (CA included), so nodes can
     * show each other that they hold the same file. The passwords are 200 random bits each: no guessing back.
     */
    public String fingerprint() {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(toJson().getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // SHA-256 is mandatory in every JRE
        }
    }

    /** The file contents: pretty-printed, keys always in the same order, trailing newline. */
    public String toJson() {
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter()
                .withSeparators(Separators.createDefaultInstance()
                        .withObjectFieldValueSpacing(Separators.Spacing.AFTER));
        try {
            ObjectNode file = tree();
            if (ca != null) {
                file.putObject("ca").put("certificate", ca.certificatePem()).put("key", ca.keyPem());
            }
            return JSON.writer(printer).writeValueAsString(file) + "\n";
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
        return derive(ADMIN_KEY_LABEL);
    }

    /**
     * The password of etcd user {@code user} ("root", "chef-backend"), derived as the admin key is (so nothing more
     * is stored or copied): whoever holds the secrets file can log in to etcd, nobody else. The CA is not part of what
     * it is derived from, so adding a CA to an open cluster's secrets changes no password.
     */
    public String etcdPassword(String user) {
        return HexFormat.of().formatHex(derive("chef-backend etcd user " + user + " v1"));
    }

    /**
     * The passphrase of an encrypted backup repository (backup.encryption): derived from the etcd initial cluster
     * token alone, which no rotation changes, so every backup of the cluster stays readable with its secrets file.
     */
    public String repositoryCipherPass() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(etcdInitialClusterToken.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(
                    "chef-backend backup repository cipher v1".getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot derive a key", e); // HmacSHA256 is mandatory in every JRE
        }
    }

    /**
     * Every value of these secrets (and of what is derived from them) that gives access to something: what no log,
     * command line or world-readable file may show. The search cluster name is left out: every search node logs it
     * and anyone who reaches port 9200 reads it there.
     */
    public List<String> accessValues() {
        return List.of(dbSuperuserPassword, replicationPassword, etcdInitialClusterToken,
                etcdPassword(ETCD_ROOT_USER), etcdPassword(ETCD_CLUSTER_USER), HexFormat.of().formatHex(adminKey()),
                repositoryCipherPass());
    }

    /** HMAC-SHA256 of {@code label}, keyed with the four secrets' compact canonical JSON. */
    private byte[] derive(String label) {
        try {
            byte[] canonical = JSON.writeValueAsBytes(tree());
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(canonical, "HmacSHA256"));
            return mac.doFinal(label.getBytes(StandardCharsets.UTF_8));
        } catch (JsonProcessingException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot derive a key", e); // HmacSHA256 is mandatory in every JRE
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
