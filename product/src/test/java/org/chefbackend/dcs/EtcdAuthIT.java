package org.chefbackend.dcs;

import static org.chefbackend.dcs.ClusterStoreIT.seconds;
import static org.chefbackend.dcs.ClusterStoreIT.stop;
import static org.chefbackend.dcs.ClusterStoreIT.waitFor;
import static org.chefbackend.dcs.ClusterStoreIT.wipe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.chefbackend.dcs.ClusterStore.Versioned;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The store against a real etcd 3.4 on 127.0.0.24 with v3 auth enabled and its client URL on TLS (a self-signed
 * certificate for the address), auth tokens living 2 s: what the security issue will turn on.
 */
class EtcdAuthIT {
    static final Path ROOT = Path.of("/tmp/cbt-dcs-auth");
    static final String CLIENT = "https://127.0.0.24:2379";
    static final Duration TIMEOUT = Duration.ofSeconds(2);
    static final EtcdCredentials ROOT_USER = new EtcdCredentials("root", "r00t-pw");

    static Process etcd;
    static SSLContext tls;

    @BeforeAll
    static void startEtcdWithAuthAndTls() throws Exception {
        wipe(ROOT);
        Files.createDirectories(ROOT);
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.24",
                "-addext", "subjectAltName=IP:127.0.0.24", "-keyout", key().toString(), "-out", cert().toString());
        tls = trusting(cert());
        File log = ROOT.resolve("etcd.log").toFile();
        etcd = new ProcessBuilder("etcd", "--name", "a1", "--data-dir", ROOT.resolve("data").toString(),
                "--listen-client-urls", CLIENT, "--advertise-client-urls", CLIENT,
                "--cert-file", cert().toString(), "--key-file", key().toString(),
                "--listen-peer-urls", "http://127.0.0.24:2380",
                "--initial-advertise-peer-urls", "http://127.0.0.24:2380",
                "--initial-cluster", "a1=http://127.0.0.24:2380", "--initial-cluster-state", "new",
                "--auth-token-ttl", "2", "--bcrypt-cost", "4")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
        if (!waitFor(() -> etcdctl("endpoint", "health").contains("is healthy"), System.nanoTime() + seconds(30))) {
            fail("etcd not healthy; see " + log);
        }
        for (List<String> step : List.of(List.of("role", "add", "root"),
                List.of("user", "add", "root", "--new-user-password", ROOT_USER.password()),
                List.of("user", "grant-role", "root", "root"),
                List.of("role", "add", "reader"),
                List.of("role", "grant-permission", "reader", "read", "/cbt-auth/", "--prefix"),
                List.of("user", "add", "reader", "--new-user-password", "reader-pw"),
                List.of("user", "grant-role", "reader", "reader"),
                List.of("auth", "enable"))) {
            String out = etcdctl(step.toArray(String[]::new));
            assertFalse(out.contains("Error"), step + ": " + out);
        }
    }

    @AfterAll
    static void stopEtcd() throws Exception {
        stop(etcd);
    }

    @Test
    void withCredentialsEverythingWorks() throws Exception {
        try (ClusterStore store = ClusterStore.connect(List.of(CLIENT), "/cbt-auth/all/", TIMEOUT, ROOT_USER, tls)) {
            BlockingQueue<Optional<Versioned>> changes = new LinkedBlockingQueue<>();
            ClusterStore.Subscription watch = store.watch("leader", changes::add);
            try {
                store.put("plain", "v");
                assertEquals("v", store.get("plain").orElseThrow().value());
                assertEquals(List.of("plain"), List.copyOf(store.getPrefix("").keySet()));
                List<String> losses = new ArrayList<>();
                LeaseKeeper keeper = LeaseKeeper.start(store, 2, losses::add);
                assertTrue(store.putIfAbsentWithLease("leader", "me", keeper.leaseId()));
                assertEquals("me", changes.poll(2, TimeUnit.SECONDS).orElseThrow().value());
                assertTrue(store.putIfLease("history", "h", "leader", keeper.leaseId()));
                assertTrue(store.keepAliveOnce(keeper.leaseId()));
                assertTrue(store.deleteIfLease("leader", keeper.leaseId()));
                assertEquals(Optional.empty(), changes.poll(2, TimeUnit.SECONDS));
                keeper.close(true);
                assertTrue(losses.isEmpty(), losses::toString);
                assertEquals(1, store.etcdMembers().size());
            } finally {
                watch.close();
            }
        }
    }

    @Test
    void withoutCredentialsEveryCallFailsSayingSo() {
        try (ClusterStore store = ClusterStore.connect(List.of(CLIENT), "/cbt-auth/", TIMEOUT, null, tls)) {
            DcsException e = assertThrows(DcsException.class, () -> store.get("plain"));
            assertEquals("get plain: etcdserver: user name is empty (etcd requires credentials; none given)",
                    e.getMessage());
            assertThrows(DcsException.class, () -> store.put("plain", "v"));
            assertThrows(DcsException.class, () -> store.watch("leader", v -> { }));
        }
        EtcdCredentials wrong = new EtcdCredentials("root", "wrong");
        try (ClusterStore store = ClusterStore.connect(List.of(CLIENT), "/cbt-auth/", TIMEOUT, wrong, tls)) {
            DcsException e = assertThrows(DcsException.class, () -> store.get("plain"));
            assertEquals("get plain: etcd refused user root: etcdserver: authentication failed, invalid user ID or"
                    + " password", e.getMessage());
        }
        EtcdCredentials reader = new EtcdCredentials("reader", "reader-pw");
        try (ClusterStore store = ClusterStore.connect(List.of(CLIENT), "/cbt-auth/", TIMEOUT, reader, tls)) {
            store.get("plain");
            DcsException e = assertThrows(DcsException.class, () -> store.put("plain", "v"));
            assertEquals("put plain: etcdserver: permission denied", e.getMessage());
        }
    }

    @Test
    void anExpiredTokenIsReplacedOnce() throws Exception {
        EtcdGateway gateway = new EtcdGateway(List.of(CLIENT), ROOT_USER, tls);
        range(gateway);
        String first = gateway.token();
        assertTrue(first != null && !first.isEmpty());
        Thread.sleep(3000); // etcd forgets a token unused for its TTL (2 s)
        String stale = run("curl", "-s", "--cacert", cert().toString(), "-H", "Authorization: " + first,
                "-XPOST", CLIENT + "/v3/kv/range", "-d", EtcdJson.key("/cbt-auth/plain").toString());
        assertTrue(stale.contains("etcdserver: invalid auth token"), "the old token is gone: " + stale);
        range(gateway);
        assertNotEquals(first, gateway.token(), "authenticated again");
    }

    @Test
    void aWatchWhoseTokenExpiredAuthenticatesAgain() throws Exception {
        EtcdGateway gateway = new EtcdGateway(List.of(CLIENT), ROOT_USER, tls);
        BlockingQueue<Optional<Versioned>> changes = new LinkedBlockingQueue<>();
        long next = EtcdJson.int64(range(gateway).path("header").path("revision")) + 1;
        String first = gateway.token();
        // idle for longer than the token lives: each new subscription finds its token expired
        EtcdWatch watch = new EtcdWatch(gateway, "rewatch", EtcdJson.b64("/cbt-auth/rewatch"), next, TIMEOUT,
                Duration.ofSeconds(3), changes::add).start();
        try (ClusterStore store = ClusterStore.connect(List.of(CLIENT), "/cbt-auth/", TIMEOUT, ROOT_USER, tls)) {
            Thread.sleep(4000); // one idle re-subscription, with an expired token
            store.put("rewatch", "seen");
            assertEquals("seen", changes.poll(10, TimeUnit.SECONDS).orElseThrow().value());
            assertNotEquals(first, gateway.token(), "the watch authenticated again");
        } finally {
            watch.close();
        }
    }

    @Test
    void tlsNeedsTheCertificateTrusted() {
        try (ClusterStore store = ClusterStore.connect(List.of(CLIENT), "/cbt-auth/", TIMEOUT, ROOT_USER, null)) {
            DcsException e = assertThrows(DcsException.class, () -> store.get("plain"));
            assertTrue(e.getMessage().contains("PKIX path building failed"), e.getMessage());
        }
    }

    static JsonNode range(EtcdGateway gateway) {
        return gateway.post("get", "/v3/kv/range", EtcdJson.key("/cbt-auth/plain"), TIMEOUT);
    }

    static Path cert() {
        return ROOT.resolve("cert.pem");
    }

    static Path key() {
        return ROOT.resolve("key.pem");
    }

    static SSLContext trusting(Path pem) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(pem)) {
            trust.setCertificateEntry("etcd", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    /** etcdctl, used only before auth is on. */
    static String etcdctl(String... args) {
        List<String> command = new ArrayList<>(List.of("etcdctl", "--endpoints=" + CLIENT, "--cacert=" + cert()));
        command.addAll(List.of(args));
        return run(command.toArray(String[]::new));
    }

    static String run(String... command) {
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().put("ETCDCTL_API", "3");
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), String.join(" ", command));
            return out;
        } catch (Exception e) {
            throw new IllegalStateException(String.join(" ", command) + ": " + e.getMessage(), e);
        }
    }
}
