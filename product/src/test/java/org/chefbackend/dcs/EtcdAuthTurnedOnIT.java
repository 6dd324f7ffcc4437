package org.chefbackend.dcs;

import static org.chefbackend.dcs.ClusterStoreIT.seconds;
import static org.chefbackend.dcs.ClusterStoreIT.stop;
import static org.chefbackend.dcs.ClusterStoreIT.waitFor;
import static org.chefbackend.dcs.ClusterStoreIT.wipe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.chefbackend.dcs.ClusterStore.Versioned;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A client with credentials against an etcd whose auth is turned on while it runs, as {@code secure-cluster} does to
 * an open cluster: before, it works without a token (etcd has no users to log in as); after, its next request and its
 * watch log in on their own, while a client without credentials is refused (the control). etcd 3.4 on 127.0.0.154.
 */
class EtcdAuthTurnedOnIT {
    static final Path ROOT = Path.of("/tmp/cbt-dcs-auth-on");
    static final String CLIENT = "http://127.0.0.154:2379";
    static final Duration TIMEOUT = Duration.ofSeconds(2);
    static final EtcdCredentials ROOT_USER = new EtcdCredentials("root", "r00t-pw");
    static final EtcdCredentials CLUSTER_USER = new EtcdCredentials("chef-backend", "cb-pw");
    static Process etcd;

    @BeforeAll
    static void startEtcdWithoutAuth() throws Exception {
        wipe(ROOT);
        Files.createDirectories(ROOT);
        File log = ROOT.resolve("etcd.log").toFile();
        etcd = new ProcessBuilder("etcd", "--name", "a1", "--data-dir", ROOT.resolve("data").toString(),
                "--listen-client-urls", CLIENT, "--advertise-client-urls", CLIENT,
                "--listen-peer-urls", "http://127.0.0.154:2380", "--initial-advertise-peer-urls",
                "http://127.0.0.154:2380", "--initial-cluster", "a1=http://127.0.0.154:2380",
                "--initial-cluster-state", "new", "--enable-v2", "--bcrypt-cost", "4")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
        if (!waitFor(() -> {
            try (ClusterStore s = ClusterStore.connect(List.of(CLIENT), "/x/", TIMEOUT)) {
                s.get("probe");
                return true;
            } catch (DcsException e) {
                return false;
            }
        }, System.nanoTime() + seconds(30))) {
            fail("etcd did not answer; see " + log);
        }
    }

    @AfterAll
    static void stopEtcd() throws Exception {
        stop(etcd);
    }

    @Test
    void aClientWithCredentialsGoesOnWhenAuthIsTurnedOn() throws Exception {
        try (ClusterStore withUser = ClusterStore.connect(List.of(CLIENT), "/chef-backend/", TIMEOUT, CLUSTER_USER,
                null)) {
            BlockingQueue<Optional<Versioned>> changes = new LinkedBlockingQueue<>();
            ClusterStore.Subscription watch = withUser.watch("leader", changes::add);
            try {
                withUser.put("leader", "before");
                assertEquals("before", changes.poll(5, TimeUnit.SECONDS).orElseThrow().value());

                List<String> done = EtcdAuthSetup.ensure(CLIENT, null, ROOT_USER, CLUSTER_USER, "/chef-backend/",
                        TIMEOUT);
                assertFalse(done.isEmpty(), "auth was already on");
                // the control: without credentials, etcd now refuses
                try (ClusterStore anonymous = ClusterStore.connect(List.of(CLIENT), "/chef-backend/", TIMEOUT)) {
                    DcsException e = assertThrows(DcsException.class, () -> anonymous.get("leader"));
                    assertTrue(e.getMessage().contains("user name is empty"), e.getMessage());
                }
                withUser.put("leader", "after");
                assertEquals("after", withUser.get("leader").orElseThrow().value());
                // the watch was refused on its next subscription, or goes on: either way it sees the change
                assertTrue(waitFor(() -> {
                    Optional<Versioned> v = changes.poll();
                    return v != null && v.isPresent() && v.get().value().equals("after");
                }, System.nanoTime() + seconds(15)), "the watch did not see the write made after auth went on");
            } finally {
                watch.close();
            }
        }
    }
}
