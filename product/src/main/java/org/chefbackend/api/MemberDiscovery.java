package org.chefbackend.api;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chef Server frontends' member discovery in a closed cluster: {@code GET http://NODE:2379/v2/members}, plain and
 * without credentials (chef-server's chef_backend.rb reads it on {@code haproxy['etcd_port']}). A closed cluster's
 * etcd takes only clients with a certificate from the cluster CA, on another port, so the agent answers this one read
 * in its place, with etcd's own answer: fetched from this node's etcd every {@link #REFRESH} and served from memory,
 * so a stranger's requests never reach etcd. Anything else is 404 (405 for another method on the path).
 *
 * <p>The port is bound while {@code where} names an endpoint (a closed node's) and released when it stops naming it
 * (retried each {@link #REFRESH} while something else, such as etcd before its restart, still holds it).
 */
public final class MemberDiscovery {
    public static final String PATH = "/v2/members";
    static final Duration REFRESH = Duration.ofSeconds(2);
    /** An answer older than this is not served (503): the members may have changed since. */
    static final Duration STALE = Duration.ofSeconds(30);
    private static final Logger log = LoggerFactory.getLogger(MemberDiscovery.class);

    private final Supplier<Optional<InetSocketAddress>> where;
    private final Callable<byte[]> fetch;
    private final ScheduledExecutorService timer;
    private volatile Snapshot snapshot;
    // touched by the timer's thread only (and by stop, after the timer ended)
    private Server server;
    private volatile InetSocketAddress bound;
    private String lastProblem;

    /** etcd's answer and when it was fetched (System.nanoTime). */
    private record Snapshot(byte[] body, long fetchedAt) {
    }

    /**
     * @param where the endpoint to serve on, empty while etcd serves it (or nobody should)
     * @param fetch etcd's answer to GET /v2/members, from this node's etcd
     */
    public MemberDiscovery(Supplier<Optional<InetSocketAddress>> where, Callable<byte[]> fetch) {
        this.where = where;
        this.fetch = fetch;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "member-discovery");
            t.setDaemon(true);
            return t;
        });
    }

    public void start() {
        timer.scheduleWithFixedDelay(this::tick, 0, REFRESH.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Where it listens now. */
    public Optional<InetSocketAddress> endpoint() {
        return Optional.ofNullable(bound);
    }

    public void stop() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        unbind();
    }

    private void tick() {
        try {
            Optional<InetSocketAddress> wanted = where.get();
            if (wanted.isEmpty() || !wanted.get().equals(bound)) {
                unbind();
            }
            if (wanted.isEmpty()) {
                snapshot = null;
                return;
            }
            refresh();
            if (bound == null) {
                bind(wanted.get());
            }
        } catch (RuntimeException e) {
            problem("member discovery: " + e.getMessage());
        }
    }

    private void refresh() {
        try {
            snapshot = new Snapshot(fetch.call(), System.nanoTime());
        } catch (Exception e) {
            problem("member discovery: cannot read the members from etcd: " + e.getMessage());
        }
    }

    private void bind(InetSocketAddress address) {
        QueuedThreadPool pool = new QueuedThreadPool(3, 2);
        pool.setName("member-discovery-http");
        pool.setDaemon(true);
        pool.setReservedThreads(0);
        ScheduledExecutorScheduler scheduler = new ScheduledExecutorScheduler("member-discovery-timeouts", true);
        Server s = new Server(pool, scheduler, null);
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        ServerConnector connector = new ServerConnector(s, null, null, null, 0, 1, new HttpConnectionFactory(config));
        connector.setHost(address.getHostString());
        connector.setPort(address.getPort());
        connector.setIdleTimeout(AgentHttpServer.READ_TIMEOUT.toMillis());
        connector.addEventListener(new RequestHeadDeadline(scheduler, AgentHttpServer.REQUEST_DEADLINE));
        s.addConnector(connector);
        s.setHandler(new Handler.Abstract.NonBlocking() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                answer(request, response, callback);
                return true;
            }
        });
        try {
            s.start();
        } catch (Exception e) {
            stopQuietly(s);
            problem("member discovery: cannot listen on " + address.getHostString() + ":" + address.getPort() + ": "
                    + e.getMessage());
            return;
        }
        server = s;
        bound = address;
        lastProblem = null;
        log.info("member discovery: answering GET {} on {}:{} for Chef Server frontends", PATH,
                address.getHostString(), address.getPort());
    }

    private void unbind() {
        Server s = server;
        if (s != null) {
            server = null;
            bound = null;
            stopQuietly(s);
            log.info("member discovery: stopped");
        }
    }

    void answer(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        if (!PATH.equals(path)) {
            send(response, callback, 404, json("404 page not found"), null);
        } else if (!method.equals("GET") && !method.equals("HEAD")) {
            send(response, callback, 405, json("only GET is served here"), "GET, HEAD");
        } else {
            Snapshot current = snapshot;
            if (current == null || System.nanoTime() - current.fetchedAt() > STALE.toNanos()) {
                send(response, callback, 503, json("this node's etcd has not answered for "
                        + STALE.toSeconds() + " s"), null);
            } else {
                send(response, callback, 200, current.body(), null);
            }
        }
    }

    private static void send(Response response, Callback callback, int status, byte[] body, String allow) {
        response.setStatus(status);
        HttpFields.Mutable headers = response.getHeaders();
        headers.put(HttpHeader.CONTENT_TYPE, "application/json");
        headers.put(HttpHeader.CONTENT_LENGTH, body.length);
        if (allow != null) {
            headers.put(HttpHeader.ALLOW, allow);
        }
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    private static byte[] json(String message) {
        return ("{\"message\":\"" + message + "\"}\n").getBytes(StandardCharsets.UTF_8);
    }

    /** Logged once until it changes: retried every two seconds, it would fill the log. */
    private void problem(String message) {
        if (!Objects.equals(message, lastProblem)) {
            log.warn("{}", message);
            lastProblem = message;
        }
    }

    private static void stopQuietly(Server s) {
        try {
            s.stop();
        } catch (Exception e) {
            log.debug("member discovery: stopped with an error: {}", e.toString());
        }
    }
}
