package org.chefbackend.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * The agent's HTTP API on {@code leaderl.http_address:http_port}. Reads ({@code GET /status}) are open, as health
 * checks need; {@code /admin/…} calls must carry an {@link AdminAuth} signature.
 * <p>
 * Jetty's core server: one selector thread reads every connection without blocking, so a client that sends half a
 * request holds no thread and HAProxy's {@code GET /leader} is not kept waiting by it (the JDK's server gave each
 * connection a thread of {@code leaderl.http_acceptors} until its request had arrived). Up to
 * {@code leaderl.http_acceptors} threads run the routes. A connection must complete its first request's line and
 * headers within {@link #HEAD_DEADLINE} and may wait at most {@link #READ_TIMEOUT} for any next bytes.
 */
public final class AgentHttpServer {
    /** Longest wait for the next bytes of a request, and longest idle time between requests on a connection. */
    static final Duration READ_TIMEOUT = Duration.ofSeconds(10);
    /** A new connection's first request line and headers must have arrived by then, however they trickle. */
    static final Duration HEAD_DEADLINE = Duration.ofSeconds(5);
    /** How long stop() waits for replies in flight (the shutdown call's own among them). */
    private static final long STOP_TIMEOUT_MS = 2000;
    private static final int SELECTORS = 1;

    /** What the server exposes; the agent implements it. */
    public interface Node {
        Map<String, Object> status();

        /** GET /leader: answered from memory, never blocking (HAProxy checks it every 2 s). */
        boolean leader();

        /** GET /position: this node's last known WAL position and eligibility, for peers' elections. */
        Map<String, Object> position();

        /** The cluster view (GET /cluster). */
        Map<String, Object> cluster();

        /**
         * Runs an admin action ("start", "stop", "restart", "reconfigure", "shutdown", "cluster/join",
         * "cluster/remove") on one service, or all (null); {@code body} is the request's JSON (may be empty).
         */
        Map<String, Object> admin(String action, String service, JsonNode body) throws IOException;

        /** Keys that may sign admin calls. */
        List<byte[]> adminKeys();
    }

    private final Server server;
    private final ServerConnector connector;

    /** Binds {@code address} at once (port 0: a free port, see {@link #port()}); serves from {@link #start()}. */
    public AgentHttpServer(InetSocketAddress address, int threads, Node node) throws IOException {
        this(address, threads, node, READ_TIMEOUT, HEAD_DEADLINE);
    }

    AgentHttpServer(InetSocketAddress address, int threads, Node node, Duration readTimeout, Duration headDeadline)
            throws IOException {
        QueuedThreadPool pool = new QueuedThreadPool(threads + SELECTORS, 1 + SELECTORS);
        pool.setName("http");
        pool.setDaemon(true);
        pool.setReservedThreads(0); // no threads kept spinning for a burst the API never sees
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
        connector.addEventListener(new HeadDeadline(scheduler, headDeadline));
        GracefulHandler graceful = new GracefulHandler();
        graceful.setHandler(new Routes(new AgentApi(node)));
        server.setHandler(graceful);
        server.addConnector(connector);
        connector.open();
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

    /** Stops listening, lets replies in flight finish (up to 2 s), then closes every connection. */
    public void stop() {
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException("the HTTP API did not stop: " + e.getMessage(), e);
        } finally {
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

    /** Every request goes to {@link AgentApi}; its reply goes out as it is. */
    private static final class Routes extends Handler.Abstract {
        private final AgentApi api;

        Routes(AgentApi api) {
            this.api = api;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            AgentApi.Reply reply = api.answer(request.getMethod(), Request.getPathInContext(request),
                    request.getHeaders()::get, () -> BufferUtil.toArray(Content.Source.asByteBuffer(request)));
            response.setStatus(reply.status());
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, reply.contentType());
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, reply.body().length);
            response.write(true, ByteBuffer.wrap(reply.body()), callback);
            return true;
        }
    }

    /**
     * Closes a connection whose first request line and headers are not complete by the deadline: the read timeout
     * alone lets a client that sends a byte now and then keep a connection forever.
     */
    private static final class HeadDeadline implements Connection.Listener {
        private final Scheduler scheduler;
        private final Duration deadline;

        HeadDeadline(Scheduler scheduler, Duration deadline) {
            this.scheduler = scheduler;
            this.deadline = deadline;
        }

        @Override
        public void onOpened(Connection connection) {
            scheduler.schedule(() -> {
                if (connection.getMessagesIn() == 0) { // counts requests whose headers were complete
                    connection.getEndPoint().close();
                }
            }, deadline.toMillis(), TimeUnit.MILLISECONDS);
        }
    }
}
