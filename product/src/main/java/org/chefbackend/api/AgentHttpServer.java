package org.chefbackend.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The agent's HTTP API on {@code leaderl.http_address:http_port}. Reads ({@code GET /status}) are open, as health
 * checks need; {@code /admin/…} calls must carry an {@link AdminAuth} signature. The JDK's server, with
 * {@code leaderl.http_acceptors} threads, is all this needs.
 */
public final class AgentHttpServer {
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

    private final HttpServer server;
    private final ExecutorService executor;

    public AgentHttpServer(InetSocketAddress address, int threads, Node node) throws IOException {
        AgentApi api = new AgentApi(node);
        this.server = HttpServer.create(address, 64);
        this.executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", ex -> send(ex, api.answer(ex.getRequestMethod(), ex.getRequestURI().getPath(),
                ex.getRequestHeaders()::getFirst, () -> ex.getRequestBody().readAllBytes())));
    }

    public void start() {
        server.start();
    }

    /** The port it listens on (the configured one, or the one the system chose for port 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    public void stop() {
        server.stop(2); // lets a reply in flight (e.g. to the shutdown call itself) finish
        executor.shutdownNow();
    }

    private static void send(HttpExchange ex, AgentApi.Reply reply) throws IOException {
        ex.getResponseHeaders().set("Content-Type", reply.contentType());
        if ("close".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Connection"))) {
            // the JDK's server closes such a connection but does not say so; a client that believes it open sends
            // its next request into the closing socket and gets a reset (RFC 9112 9.6: say close)
            ex.getResponseHeaders().set("Connection", "close");
        }
        ex.sendResponseHeaders(reply.status(), reply.body().length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(reply.body());
        }
    }
}
