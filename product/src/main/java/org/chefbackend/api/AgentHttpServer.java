package org.chefbackend.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's HTTP API on {@code leaderl.http_address:http_port}. Reads ({@code GET /status}) are open, as health
 * checks need; {@code /admin/…} calls must carry an {@link AdminAuth} signature.
 * <p>
 * Jetty's core server, built so that no client can keep HAProxy's {@code GET /leader} from its answer: one
 * selector thread reads every connection without blocking and answers /leader itself ({@link ApiHandler}); a
 * request's line and headers must arrive within {@link #REQUEST_DEADLINE} ({@link RequestHeadDeadline}, every
 * request), an admin body too, and is read as it comes, without a thread ({@link BodyReader}); a body over
 * {@link #MAX_BODY} is refused (413) on its Content-Length, before it is read, or as soon as it passes the limit;
 * and all bodies in flight together hold at most {@link #BODY_BUDGET} bytes. Up to {@code leaderl.http_acceptors}
 * worker threads run what may wait: /status, /position, /cluster and admin calls. A connection may wait at most
 * {@link #READ_TIMEOUT} for any next bytes.
 */
public final class AgentHttpServer {
    private static final Logger log = LoggerFactory.getLogger(AgentHttpServer.class);
    /** Longest wait for the next bytes of a request, and longest idle time between requests on a connection. */
    static final Duration READ_TIMEOUT = Duration.ofSeconds(10);
    /** A request's line and headers must have arrived by then, however they trickle; its body by as long after. */
    static final Duration REQUEST_DEADLINE = Duration.ofSeconds(5);
    /**
     * The largest request body read. Admin bodies are small JSON objects (the largest, join-cluster's, is a few
     * hundred bytes); 1 MiB leaves them room to grow a thousandfold and is still nothing to a 128 MB heap.
     */
    static final int MAX_BODY = 1 << 20;
    /** What all bodies being read or run hold at once: 8 of the largest, 6 % of the agent's heap. */
    static final long BODY_BUDGET = 8L << 20;
    /** Admin calls and reads that wait for a worker at most; beyond, 503 (each waits with its body). */
    private static final int WORK_QUEUE = 256;
    /** How long stop() waits for replies in flight (the shutdown call's own among them). */
    private static final long STOP_TIMEOUT_MS = 2000;
    private static final int SELECTORS = 1;
    /** Beside the selector, Jetty's threads only resume a connection after a reply or end a failed one. */
    private static final int JETTY_THREADS = 2;

    /** What the server exposes; the agent implements it. */
    public interface Node {
        Map<String, Object> status();

        /**
         * GET /leader (HAProxy checks it every 2 s): called on the server's selector thread, so it must answer from
         * memory and never block, or every connection waits.
         */
        boolean leader();

        /** GET /position: this node's last known WAL position and eligibility, for peers' elections. */
        Map<String, Object> position();

        /** The cluster view (GET /cluster). */
        Map<String, Object> cluster();

        /**
         * Runs an admin action ("start", "stop", "restart", "reconfigure", "shutdown", "cluster/join",
         * "cluster/remove") on one service, or all (null); {@code body} is the request's JSON object (empty when
         * it had none). Called once the call's signature is checked, on a worker thread.
         */
        Map<String, Object> admin(String action, String service, JsonNode body) throws IOException;

        /** Keys that may sign admin calls. */
        List<byte[]> adminKeys();
    }

    private final Server server;
    private final ServerConnector connector;
    private final ThreadPoolExecutor workers;

    /** Binds {@code address} at once (port 0: a free port, see {@link #port()}); serves from {@link #start()}. */
    public AgentHttpServer(InetSocketAddress address, int threads, Node node) throws IOException {
        this(address, threads, node, READ_TIMEOUT, REQUEST_DEADLINE);
    }

    AgentHttpServer(InetSocketAddress address, int threads, Node node, Duration readTimeout, Duration requestDeadline)
            throws IOException {
        QueuedThreadPool pool = new QueuedThreadPool(SELECTORS + JETTY_THREADS, SELECTORS + 1);
        pool.setName("http");
        pool.setDaemon(true);
        pool.setReservedThreads(0); // no threads kept spinning for a burst the API never sees
        workers = workers(threads);
        Scheduler scheduler = new ScheduledExecutorScheduler("http-timeouts", true);
        server = new Server(pool, scheduler, null);
        server.setStopTimeout(STOP_TIMEOUT_MS);
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        // no acceptor thread: the selector accepts too
        connector = new ServerConnector(server, null, null, null, 0, SELECTORS, new HttpConnectionFactory(config));
        // the address as given, never a name that could resolve to another (localhost: ::1)
        connector.setHost(address.isUnresolved() ? address.getHostString() : address.getAddress().getHostAddress());
        connector.setPort(address.getPort());
        connector.setIdleTimeout(readTimeout.toMillis());
        connector.addEventListener(new RequestHeadDeadline(scheduler, requestDeadline));
        GracefulHandler graceful = new GracefulHandler();
        graceful.setHandler(new ApiHandler(new AgentApi(node), workers, scheduler, BODY_BUDGET, requestDeadline));
        server.setHandler(graceful);
        server.addConnector(connector);
        connector.open();
    }

    private static ThreadPoolExecutor workers(int threads) {
        AtomicInteger count = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(WORK_QUEUE), r -> {
                    Thread t = new Thread(r, "http-worker-" + count.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true); // an idle agent keeps none
        return pool;
    }

    public void start() throws IOException {
        try {
            server.start();
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("the HTTP API did not start: " + e.getMessage(), e);
        }
    }

    /** The port it listens on (the configured one, or the one the system chose for port 0). */
    public int port() {
        return connector.getLocalPort();
    }

    /**
     * Stops listening, lets replies in flight finish (up to 2 s), then closes every connection. A failure of one part
     * is logged, not thrown: Jetty stops every other part first (a connection's idle timeout firing during the stop has
     * made Jetty 12.0 throw a NullPointerException from it), and the port is closed below either way.
     */
    public void stop() {
        try {
            server.stop();
        } catch (Exception e) {
            log.warn("the HTTP API stopped with an error: {}", e.toString());
        } finally {
            workers.shutdown(); // calls under way finish; their replies have nowhere to go
            // the port bound at construction: without acceptor threads only a started selector would close it
            if (connector.getTransport() instanceof ServerSocketChannel channel) {
                try {
                    channel.close();
                } catch (IOException e) {
                    // closed either way
                }
            }
        }
    }
}
