package org.chefbackend.etcd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.config.Secrets;
import org.chefbackend.dcs.ClusterStore;
import org.chefbackend.dcs.EtcdCredentials;
import org.chefbackend.system.Http;
import org.chefbackend.tls.NodeCertificates.CertificateFiles;
import org.chefbackend.tls.NodeCertificates;
import org.chefbackend.tls.Pem;
import org.chefbackend.tls.SecurityMode;
import org.chefbackend.tls.TlsException;

/**
 * How chef-backend reaches its etcd. A closed cluster's etcd takes https only from clients presenting a certificate
 * from the cluster CA (a node's own), verified against that CA alone; behind the handshake the clients log in as etcd
 * users, {@value Secrets#ETCD_CLUSTER_USER} for the keys under /chef-backend/ and {@value Secrets#ETCD_ROOT_USER} only
 * for membership changes and auth set-up. A cluster made before the CA existed is open, as before: plain http, no
 * users.
 */
public final class EtcdAccess {
    private static final EtcdAccess OPEN = new EtcdAccess(null, null, null);
    /** The last closed access made: a TLS context costs a key parse, and the health check asks every second. */
    private static volatile EtcdAccess last = OPEN;

    private final Secrets secrets; // null: open
    private final String identity; // the client certificate and key the TLS context presents
    private final SSLContext tls;

    private EtcdAccess(Secrets secrets, String identity, SSLContext tls) {
        this.secrets = secrets;
        this.identity = identity;
        this.tls = tls;
    }

    /**
     * This node's clients: closed as soon as its etcd serves TLS (every cluster with a CA; while {@code secure-cluster}
     * runs, from this node's etcd-tls step on), presenting this node's certificate. Each agent talks to its own
     * member only, so it moves to https when its member does. The users' passwords go along from then on; until auth
     * is on, etcd takes requests without a token.
     */
    public static EtcdAccess of(NodeContext node) {
        if (!SecurityMode.of(node).etcdTls()) {
            return OPEN;
        }
        return of(node.secrets(), NodeCertificates.existing(node).orElseThrow());
    }

    /** Access with {@code secrets}, presenting the certificate in {@code identity}; open for secrets without a CA. */
    public static EtcdAccess of(Secrets secrets, CertificateFiles identity) {
        if (secrets.ca() == null) {
            return OPEN;
        }
        String certificate = read(identity.certificate());
        String key = read(identity.key());
        String made = certificate + key;
        EtcdAccess cached = last;
        if (Objects.equals(cached.secrets, secrets) && made.equals(cached.identity)) {
            return cached;
        }
        EtcdAccess fresh = new EtcdAccess(secrets, made, Pem.context(secrets.ca().certificatePem(), certificate, key));
        last = fresh;
        return fresh;
    }

    /** The scheme etcd peers speak to this node's etcd in: https once its etcd runs with peer TLS. */
    public static String peerScheme(NodeContext node) {
        return SecurityMode.of(node).etcdTls() ? "https" : "http";
    }

    /** {@code scheme://host:port} for an etcd peer URL, in this node's {@link #peerScheme}. */
    public static String peerUrl(NodeContext node, String host, int port) {
        return Http.base(peerScheme(node), host, port);
    }

    /** Whether etcd is closed to strangers (client certificates and users) or open as clusters made before the CA. */
    public boolean closed() {
        return secrets != null;
    }

    public String scheme() {
        return closed() ? "https" : "http";
    }

    /** {@code scheme://host:port}, an IPv6 literal bracketed. */
    public String url(String host, int port) {
        return Http.base(scheme(), host, port);
    }

    /** TLS trusting the cluster CA alone and presenting a node's certificate; null for an open cluster. */
    public SSLContext tls() {
        return tls;
    }

    /** The user for the cluster's keys; null for an open cluster. */
    public EtcdCredentials clusterUser() {
        return user(Secrets.ETCD_CLUSTER_USER);
    }

    /** etcd's root, for membership changes and auth set-up; null for an open cluster. */
    public EtcdCredentials root() {
        return user(Secrets.ETCD_ROOT_USER);
    }

    /** A store of the keys under {@code prefix}, as {@link #clusterUser}. */
    public ClusterStore keys(List<String> endpoints, String prefix, Duration timeout) {
        return ClusterStore.connect(endpoints, prefix, timeout, clusterUser(), tls);
    }

    /** A store for etcd's membership API, as {@link #root}. */
    public ClusterStore membership(List<String> endpoints, String prefix, Duration timeout) {
        return ClusterStore.connect(endpoints, prefix, timeout, root(), tls);
    }

    private EtcdCredentials user(String name) {
        return closed() ? new EtcdCredentials(name, secrets.etcdPassword(name)) : null;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new TlsException("cannot read " + file + ": " + e.getMessage());
        }
    }
}
