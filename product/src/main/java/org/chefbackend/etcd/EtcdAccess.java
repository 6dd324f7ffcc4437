package org.chefbackend.etcd;

import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.config.ClusterCa;
import org.chefbackend.config.Secrets;
import org.chefbackend.dcs.ClusterStore;
import org.chefbackend.dcs.EtcdCredentials;
import org.chefbackend.system.Http;
import org.chefbackend.tls.Pem;
import org.chefbackend.tls.SecurityMode;

/**
 * How chef-backend reaches its etcd, decided by the cluster's secrets alone, so every node and command agrees. A
 * cluster whose secrets hold a CA is closed: https verified against that CA (nothing else is trusted), peers on
 * mutual TLS, and etcd users, {@value Secrets#ETCD_CLUSTER_USER} for the keys under /chef-backend/ and
 * {@value Secrets#ETCD_ROOT_USER} only for membership changes and auth set-up. A cluster made before the CA existed
 * is open, as before: plain http, no users.
 */
public final class EtcdAccess {
    private static final EtcdAccess OPEN = new EtcdAccess(null, null, null);
    /** The last closed access made: a TLS context costs a certificate parse, and the health check asks every second. */
    private static volatile EtcdAccess last = OPEN;

    private final ClusterCa ca; // null: open
    private final SSLContext tls;
    private final Secrets secrets;

    private EtcdAccess(ClusterCa ca, SSLContext tls, Secrets secrets) {
        this.ca = ca;
        this.tls = tls;
        this.secrets = secrets;
    }

    /**
     * This node's clients: closed as soon as its etcd serves TLS (every cluster with a CA; while {@code secure-cluster}
     * runs, from this node's etcd-tls step on). Each agent talks to its own member only, so it moves to https when its
     * member does; and it must: on a port serving both, etcd 3.4's plain-HTTP JSON gateway can come up wired to the
     * TLS gRPC server (a race in its serve loop) and then answers every plain request "connection closed". The
     * users' passwords go along from then on; until auth is on, etcd takes requests without a token.
     */
    public static EtcdAccess of(NodeContext node) {
        return SecurityMode.of(node).etcdTls() ? of(node.secrets()) : OPEN;
    }

    /** The scheme etcd peers speak to this node's etcd in: https once its etcd runs with peer TLS. */
    public static String peerScheme(NodeContext node) {
        return SecurityMode.of(node).etcdTls() ? "https" : "http";
    }

    /** {@code scheme://host:port} for an etcd peer URL, in this node's {@link #peerScheme}. */
    public static String peerUrl(NodeContext node, String host, int port) {
        String plain = Http.base(host, port);
        return peerScheme(node) + plain.substring("http".length());
    }

    public static EtcdAccess of(Secrets secrets) {
        if (secrets.ca() == null) {
            return OPEN;
        }
        EtcdAccess cached = last;
        if (cached.ca != null && cached.ca.equals(secrets.ca()) && cached.secrets.equals(secrets)) {
            return cached;
        }
        EtcdAccess made = new EtcdAccess(secrets.ca(), Pem.context(secrets.ca().certificatePem(), null, null), secrets);
        last = made;
        return made;
    }

    /** Whether etcd is closed to strangers (TLS and users) or open as clusters made before the CA were. */
    public boolean closed() {
        return ca != null;
    }

    public String scheme() {
        return closed() ? "https" : "http";
    }

    /** {@code scheme://host:port}, an IPv6 literal bracketed. */
    public String url(String host, int port) {
        String plain = Http.base(host, port);
        return closed() ? "https" + plain.substring("http".length()) : plain;
    }

    /** TLS trusting the cluster CA alone; null for an open cluster. */
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
}
