package org.chefbackend.bench.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.chefbackend.api.AdminAuth;
import org.chefbackend.api.AgentApi;
import org.chefbackend.api.AgentHttpServer;

/**
 * The JDK's server as the agent had it (a fixed pool of {@code threads}) or made as unstarvable as Java 17 allows:
 * a pool that grows past the connection count, with {@code sun.net.httpserver.maxReqTime} (and, where the JDK reads
 * it, {@code jdk.httpserver.maxConnections}) given as system properties before the server's classes load.
 */
final class JdkCandidate implements ProbedServer {
    private final HttpServer server;
    private final ExecutorService executor;

    JdkCandidate(InetSocketAddress address, int threads, AgentHttpServer.Node node, boolean growing) throws IOException {
        AgentApi api = new AgentApi(node);
        server = HttpServer.create(address, 64);
        ThreadFactory daemons = r -> {
            Thread t = new Thread(r, "http");
            t.setDaemon(true);
            return t;
        };
        executor = growing
                ? new ThreadPoolExecutor(threads, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), daemons)
                : Executors.newFixedThreadPool(threads, daemons);
        server.setExecutor(executor);
        server.createContext("/", ex -> send(ex, api.answer(ex.getRequestMethod(), ex.getRequestURI().getPath(),
                ex.getRequestHeaders()::getFirst, () -> ex.getRequestBody().readAllBytes(),
                AdminAuth.target(ex.getLocalAddress()))));
    }

    @Override
    public int start() {
        server.start();
        return server.getAddress().getPort();
    }

    @Override
    public void stop() {
        server.stop(2);
        executor.shutdownNow();
    }

    private static void send(HttpExchange ex, AgentApi.Reply reply) throws IOException {
        ex.getResponseHeaders().set("Content-Type", reply.contentType());
        if ("close".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Connection"))) {
            ex.getResponseHeaders().set("Connection", "close");
        }
        ex.sendResponseHeaders(reply.status(), reply.body().length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(reply.body());
        }
    }
}
