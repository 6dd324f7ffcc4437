package org.chefbackend.api;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Closes a connection whose request line and headers take longer than the deadline to arrive, for every request
 * on it, not only the first: the idle timeout alone lets a client that sends a byte now and then (or blank lines
 * between requests) keep a connection and its buffer for ever. A new connection's first request counts from the
 * connection's opening; a connection idle between requests is left to the idle timeout.
 * <p>
 * One tick, a quarter of the deadline, looks at every open connection's HTTP parser (Jetty's HTTP/1.1 connection,
 * whose parser says whether a request head is under way): no timer per request, nothing when no connection is open.
 */
final class RequestHeadDeadline implements Connection.Listener {
    private static final long NONE = Long.MIN_VALUE;
    private final Scheduler scheduler;
    private final long deadlineNanos;
    private final long tickMillis;
    private final Map<HttpConnection, Watch> watched = new ConcurrentHashMap<>();
    private final AtomicBoolean ticking = new AtomicBoolean();

    RequestHeadDeadline(Scheduler scheduler, Duration deadline) {
        this.scheduler = scheduler;
        this.deadlineNanos = deadline.toNanos();
        this.tickMillis = Math.max(50, deadline.toMillis() / 4);
    }

    @Override
    public void onOpened(Connection connection) {
        if (connection instanceof HttpConnection http) {
            watched.put(http, new Watch(System.nanoTime()));
            tickLater();
        }
    }

    @Override
    public void onClosed(Connection connection) {
        watched.remove(connection);
    }

    private void tickLater() {
        if (ticking.compareAndSet(false, true)) {
            scheduler.schedule(this::tick, tickMillis, TimeUnit.MILLISECONDS);
        }
    }

    private void tick() {
        long now = System.nanoTime();
        watched.forEach((connection, watch) -> {
            if (watch.overdue(connection, now, deadlineNanos)) {
                connection.getEndPoint().close();
            }
        });
        ticking.set(false);
        if (!watched.isEmpty()) {
            tickLater();
        }
    }

    /** What the last tick saw of one connection (only the tick reads and writes it, one tick at a time). */
    private static final class Watch {
        private long headSince;
        private long lastHeads;
        private long lastBytes;
        private boolean lastAtStart = true;

        Watch(long openedAt) {
            headSince = openedAt;
        }

        /** True when a request head has been under way for longer than {@code deadline}. */
        boolean overdue(HttpConnection connection, long now, long deadline) {
            long heads = connection.getMessagesIn(); // requests whose line and headers were complete
            long bytes = connection.getBytesIn();
            HttpParser parser = connection.getParser();
            boolean atStart = parser.isStart();
            if (heads != lastHeads || !parser.inHeaderState()) {
                headSince = NONE; // a head came whole, or the connection is busy with a request's body or reply
            } else if (headSince == NONE && (!atStart || (lastAtStart && bytes != lastBytes))) {
                headSince = now; // a head begun; or bytes that begin none (blank lines), still a head's time
            }
            lastHeads = heads;
            lastBytes = bytes;
            lastAtStart = atStart;
            return headSince != NONE && now - headSince >= deadline;
        }
    }
}
