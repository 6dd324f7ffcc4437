package org.chefbackend.tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.config.NodePaths;

/**
 * How closed this node is. A node whose secrets hold no cluster CA is {@link #OPEN} (a cluster made before the CA
 * existed: etcd in the clear without auth, replication with sslmode=require); one with a CA is {@link #CLOSED}. In
 * between are the steps of {@code secure-cluster}, which closes an open cluster in place without stopping it, one
 * step on every node before the next: each step's file ({@code agent/security-step}) says where this node stands.
 */
public enum SecurityMode {
    /** No cluster CA. */
    OPEN,
    /** The node certificate is issued and PostgreSQL serves it; nothing checks it yet. */
    CERTIFICATES,
    /**
     * etcd's peers use mutual TLS, it serves HTTPS to clients with a certificate from the cluster CA on
     * etcd.secure_client_port beside plain HTTP on etcd.client_port, and this node's agent reaches it over HTTPS with
     * its certificate and the etcd users' passwords (auth may still be off).
     */
    ETCD_TLS,
    /** PostgreSQL's clients of other nodes verify the server (verify-full). */
    CLIENTS,
    /**
     * Everything closed: etcd's auth is on and etcd no longer serves plain HTTP; the agent answers the frontends'
     * member discovery on etcd.client_port.
     */
    CLOSED;

    static final String STEP_FILE = "/var/opt/chef-backend/agent/security-step";

    /** This node's mode: from its secrets and the step file {@code secure-cluster} leaves while it runs. */
    public static SecurityMode of(NodeContext node) {
        if (node.secrets().ca() == null) {
            return OPEN;
        }
        return step(node.paths());
    }

    /** The step file's mode, {@link #CLOSED} when there is none; an unreadable one is the most cautious step. */
    public static SecurityMode step(NodePaths paths) {
        try {
            return parse(Files.readString(paths.resolve(STEP_FILE), StandardCharsets.US_ASCII).strip());
        } catch (NoSuchFileException e) {
            return CLOSED;
        } catch (IOException | IllegalArgumentException e) {
            return CERTIFICATES; // serves certificates, relies on nothing new: works with every peer
        }
    }

    /** Records {@code mode} as this node's step; {@link #CLOSED} removes the file. */
    public static void record(NodePaths paths, SecurityMode mode) throws IOException {
        Path file = paths.resolve(STEP_FILE);
        if (mode == CLOSED || mode == OPEN) {
            Files.deleteIfExists(file);
            return;
        }
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, mode.jsonName() + "\n", StandardCharsets.US_ASCII);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** "etcd-tls" for ETCD_TLS. */
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static SecurityMode parse(String name) {
        for (SecurityMode m : values()) {
            if (m.jsonName().equals(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown security step '" + name + "': open, certificates, etcd-tls, "
                + "clients or closed");
    }

    /** PostgreSQL serves the certificate issued from the cluster CA. */
    public boolean servesClusterCertificates() {
        return compareTo(CERTIFICATES) >= 0;
    }

    /** etcd runs with peer mutual TLS and serves HTTPS on etcd.secure_client_port. */
    public boolean etcdTls() {
        return compareTo(ETCD_TLS) >= 0;
    }

    /** This node's PostgreSQL clients of other nodes verify whom they talk to. */
    public boolean clientsVerify() {
        return compareTo(CLIENTS) >= 0;
    }

    /** etcd serves no plain HTTP; the agent answers GET /v2/members on etcd.client_port ({@code MemberDiscovery}). */
    public boolean discoveryByAgent() {
        return this == CLOSED;
    }
}
