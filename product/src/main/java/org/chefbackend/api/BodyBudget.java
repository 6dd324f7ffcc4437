package org.chefbackend.api;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes that admin bodies may hold in the agent's heap at once, reserved before a body is read (its
 * Content-Length, or the most a body may have) and given back once its call is answered: without it, enough
 * connections each sending a body under the size limit would still exhaust the heap.
 */
final class BodyBudget {
    private final long total;
    private final AtomicLong reserved = new AtomicLong();

    BodyBudget(long total) {
        this.total = total;
    }

    boolean tryReserve(long bytes) {
        long now;
        do {
            now = reserved.get();
            if (now + bytes > total) {
                return false;
            }
        } while (!reserved.compareAndSet(now, now + bytes));
        return true;
    }

    void release(long bytes) {
        reserved.addAndGet(-bytes);
    }
}
