package org.chefbackend.dcs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.chefbackend.dcs.ClusterStore.EtcdMember;
import org.chefbackend.dcs.ClusterStore.Versioned;
import org.chefbackend.etcd.EtcdProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * ClusterStore and LeaseKeeper against a real one-member etcd 3.4 on 127.0.0.24 (election timeout
 * 1 s). The tests that freeze etcd or break its quorum run last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterStoreIT {
    static final Path ROOT = Path.of("/tmp/cbt-dcs");
    static final String PEER = "http://127.0.0.24:2380";
    static final String CLIENT = "http://127.0.0.24:2379";
    static final String PEER2 = "http://127.0.0.25:2380";
    static final Duration TIMEOUT = Duration.ofSeconds(2);

    static Process etcd;
    static ClusterStore store;
    static ClusterStore other; // a second client, as another node's agent would have

    @BeforeAll
    static void startEtcd() throws Exception {
        wipe(ROOT);
        Files.createDirectories(ROOT);
        etcd = startT1();
        store = ClusterStore.connect(List.of(CLIENT), "/cbt-dcs/", TIMEOUT);
        other = ClusterStore.connect(List.of(CLIENT), "/cbt-dcs", TIMEOUT);
    }

    @AfterAll
    static void stopEtcd() throws Exception {
        for (ClusterStore s : new ClusterStore[] {store, other}) {
            if (s != null) {
                s.close();
            }
        }
        stop(etcd);
    }

    // ---- keys and values

    @Test
    @Order(1)
    void putGetGetPrefixDelete() {
        assertEquals(Optional.empty(), store.get("kv/missing"));
        store.put("kv/members/be1", "{\"address\":\"127.0.0.2\"}");
        store.put("kv/members/be2", "{\"address\":\"127.0.0.3\"}");
        store.put("kv/membersX", "not a member");

        Versioned be1 = store.get("kv/members/be1").orElseThrow();
        assertEquals("{\"address\":\"127.0.0.2\"}", be1.value());
        assertTrue(be1.modRevision() > 0);
        assertEquals(0, be1.leaseId());

        Map<String, Versioned> members = other.getPrefix("kv/members/");
        assertEquals(List.of("kv/members/be1", "kv/members/be2"), List.copyOf(members.keySet()));
        assertEquals(be1, members.get("kv/members/be1"));

        store.put("kv/members/be1", "ünïcödé");
        assertEquals("ünïcödé", other.get("kv/members/be1").orElseThrow().value());
        assertTrue(other.get("kv/members/be1").orElseThrow().modRevision() > be1.modRevision());

        store.delete("kv/members/be1");
        store.delete("kv/members/nonexistent"); // deleting nothing is fine
        assertEquals(Optional.empty(), store.get("kv/members/be1"));
        assertEquals(List.of("kv/members/be2"), List.copyOf(store.getPrefix("kv/members/").keySet()));
    }

    @Test
    @Order(2)
    void keysStayUnderThePrefix() throws Exception {
        store.put("prefix/probe", "x");
        assertTrue(etcdctl("get", "/cbt-dcs/prefix/probe").contains("/cbt-dcs/prefix/probe"));
        try (ClusterStore elsewhere = ClusterStore.connect(List.of(CLIENT), "/cbt-dcs-other/", TIMEOUT)) {
            assertEquals(Optional.empty(), elsewhere.get("prefix/probe"));
            assertTrue(elsewhere.getPrefix("").isEmpty());
        }
    }

    @Test
    @Order(3)
    void putIfAbsentCreatesOnlyOnce() {
        assertTrue(store.putIfAbsent("once/key", "first"));
        assertFalse(other.putIfAbsent("once/key", "second"));
        assertEquals("first", store.get("once/key").orElseThrow().value());
    }

    @Test
    @Order(4)
    void compareAndPutNeedsTheCurrentRevision() {
        store.put("cas/key", "v1");
        long rev1 = store.get("cas/key").orElseThrow().modRevision();
        assertTrue(store.compareAndPut("cas/key", rev1, "v2"));
        assertFalse(other.compareAndPut("cas/key", rev1, "stale"));
        assertEquals("v2", store.get("cas/key").orElseThrow().value());
        assertFalse(store.compareAndPut("cas/absent", 5, "x"));
        assertTrue(store.compareAndPut("cas/absent", 0, "x"), "revision 0 means: only if absent");
    }

    // ---- leases

    @Test
    @Order(10)
    void exactlyOneOfTwoConcurrentHoldersWins() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 20; round++) {
                String key = "race/" + round;
                long leaseA = store.grantLease(10);
                long leaseB = other.grantLease(10);
                CyclicBarrier start = new CyclicBarrier(2);
                Future<Boolean> a = pool.submit(() -> {
                    start.await();
                    return store.putIfAbsentWithLease(key, "a", leaseA);
                });
                Future<Boolean> b = pool.submit(() -> {
                    start.await();
                    return other.putIfAbsentWithLease(key, "b", leaseB);
                });
                boolean aWon = a.get(10, TimeUnit.SECONDS);
                boolean bWon = b.get(10, TimeUnit.SECONDS);
                assertNotEquals(aWon, bWon, "round " + round + ": exactly one wins");
                Versioned held = store.get(key).orElseThrow();
                assertEquals(aWon ? "a" : "b", held.value());
                assertEquals(aWon ? leaseA : leaseB, held.leaseId());
                assertEquals(aWon, store.holds(key, leaseA));
                assertEquals(bWon, other.holds(key, leaseB));
                store.revokeLease(leaseA);
                other.revokeLease(leaseB);
                assertEquals(Optional.empty(), store.get(key), "revoking the lease deletes its key");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    @Order(11)
    void holdsAndDeleteIfLeaseNeverTouchAnotherHoldersKey() {
        long mine = store.grantLease(10);
        long theirs = other.grantLease(10);
        try {
            assertTrue(other.putIfAbsentWithLease("lock/leader", "them", theirs));
            assertFalse(store.putIfAbsentWithLease("lock/leader", "me", mine));
            assertFalse(store.holds("lock/leader", mine));
            assertFalse(store.deleteIfLease("lock/leader", mine));
            assertTrue(other.holds("lock/leader", theirs), "their key is untouched");
            assertFalse(store.holds("lock/leader", 0));
            assertFalse(store.deleteIfLease("lock/leader", 0));

            store.put("lock/plain", "no lease");
            assertFalse(store.deleteIfLease("lock/plain", mine));
            assertTrue(store.get("lock/plain").isPresent());

            assertTrue(other.deleteIfLease("lock/leader", theirs));
            assertEquals(Optional.empty(), store.get("lock/leader"));
            assertFalse(other.deleteIfLease("lock/leader", theirs), "already gone");
            assertFalse(other.holds("lock/leader", theirs));
        } finally {
            store.revokeLease(mine);
            other.revokeLease(theirs);
        }
        store.revokeLease(mine); // revoking twice is not an error
    }

    @Test
    @Order(12)
    void aLeaseThatIsNotKeptAliveTakesItsKeyWithIt() throws Exception {
        long sent = System.nanoTime();
        long lease = store.grantLease(2);
        assertTrue(store.putIfAbsentWithLease("expiry/key", "short-lived", lease));
        Thread.sleep(1000);
        assertTrue(store.holds("expiry/key", lease), "still there half-way through the TTL");
        assertTrue(waitFor(() -> store.get("expiry/key").isEmpty(), sent + seconds(2) + seconds(2)),
                "gone within TTL + 2 s");
        assertTrue(System.nanoTime() - sent >= seconds(2) - TimeUnit.MILLISECONDS.toNanos(100), "not before the TTL");
        assertFalse(store.keepAliveOnce(lease), "an expired lease cannot be kept alive");
        DcsException e = assertThrows(DcsException.class,
                () -> store.putIfAbsentWithLease("expiry/key", "late", lease));
        assertTrue(e.getMessage().contains("lease not found"), e.getMessage());
    }

    @Test
    @Order(13)
    void keepAliveOnceExtendsTheLease() throws Exception {
        long sent = System.nanoTime();
        long lease = store.grantLease(2);
        assertTrue(store.putIfAbsentWithLease("extend/key", "refreshed", lease));
        Thread.sleep(1200);
        assertTrue(store.keepAliveOnce(lease));
        Thread.sleep(1200);
        assertTrue(store.keepAliveOnce(lease));
        Thread.sleep(1200);
        assertTrue(System.nanoTime() - sent > seconds(3), "well past the first TTL");
        assertTrue(store.holds("extend/key", lease));
        store.revokeLease(lease);
        assertFalse(store.keepAliveOnce(lease));
        assertEquals(Optional.empty(), store.get("extend/key"));
    }

    @Test
    @Order(14)
    void leaseKeeperKeepsALeaseAliveUntilClosed() throws Exception {
        List<String> losses = new ArrayList<>();
        LeaseKeeper keeper = LeaseKeeper.start(store, 2, losses::add);
        assertTrue(store.putIfAbsentWithLease("keeper/key", "kept", keeper.leaseId()));
        long until = System.nanoTime() + seconds(6);
        while (System.nanoTime() < until) {
            assertTrue(store.holds("keeper/key", keeper.leaseId()));
            assertTrue(keeper.alive());
            long ahead = keeper.deadlineNanos() - System.nanoTime();
            assertTrue(ahead > 0 && ahead <= seconds(2), "deadline ahead by " + ahead + " ns");
            Thread.sleep(250);
        }
        assertTrue(losses.isEmpty(), losses::toString);

        keeper.close();
        long deadline = keeper.deadlineNanos();
        assertTrue(waitFor(() -> store.get("keeper/key").isEmpty(), deadline + seconds(2)),
                "the key goes once the keeper stops");
        assertTrue(System.nanoTime() - deadline > -TimeUnit.MILLISECONDS.toNanos(100),
                "but not before the keeper's deadline");
        assertFalse(keeper.alive());
        assertTrue(losses.isEmpty(), "closing is not losing: " + losses);
    }

    @Test
    @Order(15)
    void leaseKeeperReportsALeaseRevokedBehindItsBack() throws Exception {
        CountDownLatch lost = new CountDownLatch(1);
        List<String> reasons = new ArrayList<>();
        LeaseKeeper keeper = LeaseKeeper.start(store, 3, reason -> {
            reasons.add(reason);
            lost.countDown();
        });
        try {
            assertTrue(keeper.alive());
            other.revokeLease(keeper.leaseId());
            assertTrue(lost.await(2, TimeUnit.SECONDS), "heard of it at the next refresh (every TTL/3)");
            assertFalse(keeper.alive());
            assertEquals(1, reasons.size());
            assertTrue(reasons.get(0).contains("expired or was revoked"), reasons::toString);
        } finally {
            keeper.close();
        }
    }

    @Test
    @Order(20)
    void watchSeesPutAndDelete() throws Exception {
        BlockingQueue<Optional<Versioned>> changes = new LinkedBlockingQueue<>();
        ClusterStore.Subscription watch = other.watch("watch/key", changes::add);
        try {
            store.put("watch/key", "v1"); // right after watch() returns: must not be missed
            Optional<Versioned> put = changes.poll(2, TimeUnit.SECONDS);
            assertTrue(put != null && put.isPresent(), "put seen: " + put);
            assertEquals("v1", put.get().value());
            store.put("watch/other", "not watched");
            store.delete("watch/key");
            Optional<Versioned> deleted = changes.poll(2, TimeUnit.SECONDS);
            assertEquals(Optional.empty(), deleted, "delete seen as empty");
        } finally {
            watch.close();
        }
        store.put("watch/key", "after close");
        assertNull(changes.poll(500, TimeUnit.MILLISECONDS), "no callbacks after close");
    }

    @Test
    @Order(21)
    void aWatchSubscribesAgainAfterEtcdRestartsAndMissesNothing() throws Exception {
        BlockingQueue<Optional<Versioned>> changes = new LinkedBlockingQueue<>();
        ClusterStore.Subscription watch = other.watch("rewatch/key", changes::add);
        try {
            store.put("rewatch/key", "before");
            assertEquals("before", changes.poll(2, TimeUnit.SECONDS).orElseThrow().value());
            stop(etcd);
            etcd = startT1(); // same data: the revisions go on
            store.put("rewatch/key", "after"); // possibly before the watch is back: it resumes from its revision
            Optional<Versioned> after = changes.poll(15, TimeUnit.SECONDS);
            assertTrue(after != null && after.isPresent(), "seen after the restart: " + after);
            assertEquals("after", after.get().value());
            store.delete("rewatch/key");
            assertEquals(Optional.empty(), changes.poll(2, TimeUnit.SECONDS));
        } finally {
            watch.close();
        }
    }

    @Test
    @Order(22)
    void aWatchWhoseRevisionWasCompactedAwayDeliversTheCurrentValue() throws Exception {
        store.put("compact/key", "v1");
        long old = store.get("compact/key").orElseThrow().modRevision();
        store.put("compact/key", "v2");
        store.put("compact/other", "moves the revision on");
        long now = store.get("compact/other").orElseThrow().modRevision();
        assertTrue(etcdctl("compact", Long.toString(now)).contains("compacted revision " + now));
        BlockingQueue<Optional<Versioned>> changes = new LinkedBlockingQueue<>();
        // as if the watch had been away since v1: etcd no longer has the changes after it
        EtcdWatch watch = new EtcdWatch(new EtcdGateway(List.of(CLIENT), null, null), "compact/key",
                EtcdJson.b64("/cbt-dcs/compact/key"), old + 1, TIMEOUT, EtcdWatch.IDLE, changes::add).start();
        try {
            assertEquals("v2", changes.poll(5, TimeUnit.SECONDS).orElseThrow().value(), "the value now");
            store.put("compact/key", "v3");
            assertEquals("v3", changes.poll(5, TimeUnit.SECONDS).orElseThrow().value(), "and changes after it");
            assertNull(changes.poll(300, TimeUnit.MILLISECONDS), "each change once");
        } finally {
            watch.close();
        }
    }

    @Test
    @Order(23)
    void anEndpointThatRefusesIsSkipped() {
        try (ClusterStore twoEndpoints = ClusterStore.connect(List.of("http://127.0.0.26:2379", CLIENT), "/cbt-dcs/",
                TIMEOUT)) {
            long t0 = System.nanoTime();
            twoEndpoints.put("failover/key", "v");
            assertEquals("v", twoEndpoints.get("failover/key").orElseThrow().value());
            assertTrue(System.nanoTime() - t0 < TIMEOUT.toNanos(), "the refusal costs no timeout");
        }
    }

    // ---- failures

    @Test
    @Order(90)
    void aFrozenEtcdFailsCallsWithinTheTimeout() throws Exception {
        store.put("frozen/before", "x");
        signal("STOP", etcd.pid());
        try {
            for (Runnable call : List.<Runnable>of(
                    () -> store.put("frozen/key", "v"),
                    () -> store.get("frozen/before"),
                    () -> store.putIfAbsent("frozen/txn", "v"),
                    () -> store.grantLease(5))) {
                long t0 = System.nanoTime();
                DcsException e = assertThrows(DcsException.class, call::run);
                long took = System.nanoTime() - t0;
                assertTrue(took <= TIMEOUT.toNanos() + seconds(1), "took " + took / 1_000_000 + " ms");
                assertTrue(e.getMessage().contains("etcd did not answer within 2000 ms"), e.getMessage());
            }
        } finally {
            signal("CONT", etcd.pid());
        }
        assertTrue(waitFor(() -> EtcdProbe.health(CLIENT), System.nanoTime() + seconds(10)));
        assertTrue(waitFor(() -> {
            try {
                store.put("frozen/after", "back");
                return true;
            } catch (DcsException e) {
                return false;
            }
        }, System.nanoTime() + seconds(10)), "the same client works again once etcd is back");
    }

    @Test
    @Order(91)
    void aStoppedEtcdFailsCallsWithinTheTimeoutToo() throws Exception {
        try (ClusterStore nowhere = ClusterStore.connect(List.of("http://127.0.0.26:2379"), "/x/", TIMEOUT)) {
            long t0 = System.nanoTime();
            assertThrows(DcsException.class, () -> nowhere.put("k", "v"));
            assertTrue(System.nanoTime() - t0 <= TIMEOUT.toNanos() + seconds(1));
        }
    }

    // ---- etcd membership (last: these break quorum)

    @Test
    @Order(100)
    void membersListTheOneMember() {
        List<EtcdMember> members = store.etcdMembers();
        assertEquals(1, members.size(), members::toString);
        assertEquals("t1", members.get(0).name());
        assertEquals(List.of(PEER), members.get(0).peerUrls());
        assertEquals(List.of(CLIENT), members.get(0).clientUrls());
    }

    /**
     * Adding a voting member to a one-member cluster makes quorum 2 of 2: until the new member starts, nothing
     * commits, so removing it again cannot commit either. Starting it brings quorum back; then it can be removed.
     */
    @Test
    @Order(101)
    void anUnstartedMemberCostsQuorumUntilItStartsThenCanBeRemoved() throws Exception {
        int stepDowns = stepDowns();
        EtcdMember added = store.addEtcdMember(PEER2);
        assertEquals("", added.name());
        assertEquals(List.of(PEER2), added.peerUrls());
        assertEquals(List.of(), added.clientUrls());
        List<EtcdMember> two = store.etcdMembers(); // served by the member itself, even without quorum
        assertEquals(2, two.size(), two::toString);

        // wait until t1 has stepped down (CheckQuorum, ~1 election timeout): a remove proposed while it still led
        // would sit in its log and commit later, once t2 arrives
        assertTrue(waitFor(() -> stepDowns() > stepDowns, System.nanoTime() + seconds(10)), "quorum is lost");
        long t0 = System.nanoTime();
        assertThrows(DcsException.class, () -> store.removeEtcdMember(added.id()));
        assertTrue(System.nanoTime() - t0 <= TIMEOUT.toNanos() + seconds(1), "fails, does not hang");
        DcsException noQuorum = assertThrows(DcsException.class, () -> store.put("quorum/key", "v"));
        assertTrue(noQuorum.getMessage().endsWith("etcd did not answer within 2000 ms"), noQuorum.getMessage());
        // the deadline went along (Grpc-Timeout): etcd itself gave up on the proposal, just before the client did
        assertEquals(EtcdRefusal.DEADLINE_EXCEEDED, EtcdRefusal.code(noQuorum), noQuorum.getMessage());

        Process t2 = start("t2", ROOT.resolve("data-t2"), "127.0.0.25", "existing",
                "t1=" + PEER + ",t2=" + PEER2);
        try {
            assertTrue(waitFor(() -> EtcdProbe.health(CLIENT), System.nanoTime() + seconds(15)),
                    "quorum is back once t2 runs");
            assertTrue(waitFor(() -> store.etcdMembers().stream().anyMatch(m -> m.name().equals("t2")),
                    System.nanoTime() + seconds(5)));
            // etcd refuses ("unhealthy cluster") until the voters have been connected for 5 s
            long until = System.nanoTime() + seconds(15);
            while (true) {
                try {
                    store.removeEtcdMember(added.id());
                    break;
                } catch (DcsException e) {
                    assertTrue(e.getMessage().endsWith("etcdserver: unhealthy cluster"), e.getMessage());
                    assertTrue(System.nanoTime() < until, "still refused: " + e.getMessage());
                    Thread.sleep(500);
                }
            }
            store.removeEtcdMember(added.id()); // already gone: fine
            List<EtcdMember> one = store.etcdMembers();
            assertEquals(List.of("t1"), one.stream().map(EtcdMember::name).toList());
            assertTrue(waitFor(() -> EtcdProbe.health(CLIENT), System.nanoTime() + seconds(10)));
            store.put("quorum/key", "v");
        } finally {
            stop(t2); // a removed member exits by itself; make sure
        }
    }

    /**
     * A member that never starts: the documented way out is disaster recovery, restarting the survivor with
     * {@code --force-new-cluster}, which keeps its data and drops every other member.
     */
    @Test
    @Order(102)
    void forceNewClusterRecoversFromAMemberThatNeverStarts() throws Exception {
        store.put("recovery/kept", "survives");
        int stepDowns = stepDowns();
        EtcdMember added = store.addEtcdMember(PEER2);
        assertEquals(2, store.etcdMembers().size());
        assertTrue(waitFor(() -> stepDowns() > stepDowns, System.nanoTime() + seconds(10)), "quorum is lost");
        assertFalse(EtcdProbe.health(CLIENT));
        assertThrows(DcsException.class, () -> store.removeEtcdMember(added.id()));

        stop(etcd);
        etcd = startT1("--force-new-cluster");
        List<EtcdMember> one = store.etcdMembers();
        assertEquals(List.of("t1"), one.stream().map(EtcdMember::name).toList());
        assertEquals("survives", store.get("recovery/kept").orElseThrow().value());
        store.put("recovery/new", "writable");
    }

    /**
     * A learner does not count towards quorum, so the cluster stays writable until it starts; it is promoted once
     * it has caught up, and promoting it again (a promote whose answer was lost) counts as done.
     */
    @Test
    @Order(103)
    void aLearnerIsPromotedOnceItHasCaughtUp() throws Exception {
        EtcdMember learner = store.addEtcdLearner(PEER2);
        assertEquals(List.of(PEER2), learner.peerUrls());
        assertFalse(store.promoteEtcdMember(learner.id()), "not started, so not in sync");
        store.put("learner/key", "writable without it");
        Process t2 = start("t2", ROOT.resolve("data-learner"), "127.0.0.25", "existing",
                "t1=" + PEER + ",t2=" + PEER2);
        try {
            assertTrue(waitFor(() -> store.promoteEtcdMember(learner.id()), System.nanoTime() + seconds(20)),
                    "promoted once it caught up");
            assertTrue(store.promoteEtcdMember(learner.id()), "a voter already");
            DcsException unknown = assertThrows(DcsException.class, () -> store.promoteEtcdMember(12345));
            assertTrue(unknown.getMessage().endsWith("etcdserver: member not found"), unknown.getMessage());
            assertEquals(2, store.etcdMembers().stream().filter(m -> !m.name().isEmpty()).count());
        } finally {
            stop(t2);
        }
    }

    // ---- harness

    static Process startT1(String... extra) throws Exception {
        Process p = start("t1", ROOT.resolve("data"), "127.0.0.24", "new", "t1=" + PEER, extra);
        if (!waitFor(() -> EtcdProbe.health(CLIENT), System.nanoTime() + seconds(30))) {
            stop(p);
            fail("etcd not healthy; see " + ROOT.resolve("t1.log"));
        }
        return p;
    }

    static Process start(String name, Path dataDir, String address, String state, String cluster, String... extra)
            throws IOException {
        List<String> command = new ArrayList<>(List.of("etcd", "--name", name, "--data-dir", dataDir.toString(),
                "--listen-client-urls", "http://" + address + ":2379",
                "--advertise-client-urls", "http://" + address + ":2379",
                "--listen-peer-urls", "http://" + address + ":2380",
                "--initial-advertise-peer-urls", "http://" + address + ":2380",
                "--initial-cluster", cluster, "--initial-cluster-state", state,
                "--heartbeat-interval", "100", "--election-timeout", "1000"));
        command.addAll(List.of(extra));
        File log = ROOT.resolve(name + ".log").toFile();
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
        p.getOutputStream().close();
        return p;
    }

    /** TERM, wait, KILL: only the process we started. */
    static void stop(Process p) throws InterruptedException, IOException {
        if (p == null || !p.isAlive()) {
            return;
        }
        new ProcessBuilder("kill", "-CONT", Long.toString(p.pid())).start().waitFor(); // a frozen etcd ignores TERM
        p.destroy();
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    static void signal(String signal, long pid) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
            assertEquals(0, kill.waitFor(), "kill -" + signal + " " + pid);
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** How often t1 logged that it stopped leading for want of a quorum (raft's CheckQuorum). */
    static int stepDowns() {
        try {
            String log = Files.readString(ROOT.resolve("t1.log"));
            return log.split("stepped down to follower since quorum is not active", -1).length - 1;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static String etcdctl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("etcdctl", "--endpoints=" + CLIENT));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("ETCDCTL_API", "3");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        return out;
    }

    static boolean waitFor(BooleanSupplier condition, long deadlineNanos) {
        while (true) {
            try {
                if (condition.getAsBoolean()) {
                    return true;
                }
            } catch (DcsException e) {
                // not yet
            }
            if (System.nanoTime() - deadlineNanos > 0) {
                return false;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    static long seconds(long s) {
        return TimeUnit.SECONDS.toNanos(s);
    }

    static void wipe(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
