package org.chefbackend.dcs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The keeper's timing and loss rules, with a scripted refresher instead of etcd. */
class LeaseKeeperTest {
    static final long TTL = TimeUnit.MILLISECONDS.toNanos(300);

    final List<String> losses = new CopyOnWriteArrayList<>();
    final AtomicInteger attempts = new AtomicInteger();

    LeaseKeeper keeper(LeaseKeeper.Refresher refresher) {
        LeaseKeeper k = new LeaseKeeper(refresher, id -> { }, 42, TTL, System.nanoTime(), losses::add);
        k.startThread();
        return k;
    }

    @Test
    void refreshesEveryThirdOfTheTtlAndMovesTheDeadline() throws Exception {
        LeaseKeeper k = keeper((id, wait) -> {
            attempts.incrementAndGet();
            return true;
        });
        long firstDeadline = k.deadlineNanos();
        Thread.sleep(3 * TimeUnit.NANOSECONDS.toMillis(TTL));
        assertTrue(k.alive());
        assertTrue(k.deadlineNanos() > firstDeadline);
        assertEquals(k.lastRefreshNanos() + TTL, k.deadlineNanos());
        assertTrue(attempts.get() >= 3 && attempts.get() <= 10, "attempts: " + attempts.get());
        k.close();
        assertTrue(losses.isEmpty(), losses::toString);
        Thread.sleep(2 * TimeUnit.NANOSECONDS.toMillis(TTL));
        assertFalse(k.alive(), "a closed keeper's lease runs out at its deadline");
        assertTrue(losses.isEmpty(), "closing is not losing: " + losses);
    }

    @Test
    void aGoneLeaseIsReportedOnceAtTheFirstAnswer() throws Exception {
        LeaseKeeper k = keeper((id, wait) -> {
            attempts.incrementAndGet();
            return false;
        });
        Thread.sleep(2 * TimeUnit.NANOSECONDS.toMillis(TTL));
        assertEquals(1, attempts.get());
        assertEquals(List.of("lease 2a expired or was revoked"), losses);
        assertFalse(k.alive());
        k.close();
    }

    @Test
    void errorsAreRetriedUntilTheDeadlineThenReportedOnTime() throws Exception {
        AtomicBoolean etcdDown = new AtomicBoolean(false);
        long[] lostAt = new long[1];
        LeaseKeeper k = new LeaseKeeper((id, wait) -> {
            attempts.incrementAndGet();
            if (wait <= 0 || wait > TTL) {
                losses.add("asked to wait " + wait + " ns, past the deadline");
            }
            if (etcdDown.get()) {
                throw new DcsException("etcd did not answer");
            }
            return true;
        }, id -> { }, 7, TTL, System.nanoTime(), reason -> {
            lostAt[0] = System.nanoTime();
            losses.add(reason);
        });
        k.startThread();
        Thread.sleep(150);
        etcdDown.set(true);
        int before = attempts.get();
        Thread.sleep(3 * TimeUnit.NANOSECONDS.toMillis(TTL));
        long deadline = k.deadlineNanos(); // the last success + TTL
        assertEquals(1, losses.size(), losses::toString);
        assertTrue(losses.get(0).contains("not refreshed within its 300 ms TTL"), losses::toString);
        assertTrue(attempts.get() - before >= 2, "retried: " + (attempts.get() - before));
        long late = TimeUnit.NANOSECONDS.toMillis(lostAt[0] - deadline);
        assertTrue(late >= 0 && late < 250, "reported " + late + " ms after the deadline");
        assertFalse(k.alive());
        etcdDown.set(false);
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(TTL));
        assertEquals(1, losses.size(), "reported once, and no refresh after the loss");
    }

    @Test
    void closeWithRevokeRevokesAndEndsAliveAtOnce() {
        List<Long> revoked = new CopyOnWriteArrayList<>();
        LeaseKeeper k = new LeaseKeeper((id, wait) -> true, revoked::add, 9, TTL, System.nanoTime(), losses::add);
        k.startThread();
        assertTrue(k.alive());
        k.close(true);
        assertEquals(List.of(9L), revoked);
        assertFalse(k.alive());
        assertTrue(losses.isEmpty());
    }

    @Test
    void anOwnerThatStoppedCheckingInLosesTheLeaseAtItsDeadline() throws Exception {
        AtomicBoolean ownerAlive = new AtomicBoolean(true);
        LeaseKeeper k = new LeaseKeeper((id, wait) -> {
            attempts.incrementAndGet();
            return true;
        }, id -> { }, 7, TTL, System.nanoTime(), losses::add, ownerAlive::get);
        k.startThread();
        long deadline = System.nanoTime() + 5 * TTL;
        while (attempts.get() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(attempts.get() >= 2, "no refreshes while the owner checked in");
        ownerAlive.set(false);
        int refreshed = attempts.get();
        long lostBy = System.nanoTime() + 5 * TTL;
        while (losses.isEmpty() && System.nanoTime() < lostBy) {
            Thread.sleep(10);
        }
        assertFalse(k.alive());
        assertEquals(1, losses.size(), losses::toString);
        assertTrue(losses.get(0).contains("not refreshed"), losses.get(0));
        assertTrue(attempts.get() <= refreshed + 1, "refreshed for an owner that stopped checking in");
        k.close();
    }
}
