package org.chefbackend.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.chefbackend.agent.ServiceSetupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's HTTP API on {@code leaderl.http_address:http_port}. Reads ({@code GET /status}) are open, as health
 * checks need; {@code /admin/…} calls must carry an {@link AdminAuth} signature. The JDK's server, with
 * {@code leaderl.http_acceptors} threads, is all this needs.
 */
public final class AgentHttpServer {
    private static final Logger log = LoggerFactory.getLogger(AgentHttpServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

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
        Map<String, Object> admin(String action, String service, com.fasterxml.jackson.databind.JsonNode body)
                throws IOException;

        /** Keys that may sign admin calls. */
        List<byte[]> adminKeys();
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final AdminAuth auth = new AdminAuth();
    private final Node node;

    public AgentHttpServer(InetSocketAddress address, int threads, Node node) throws IOException {
        this.node = node;
        this.server = HttpServer.create(address, 64);
        this.executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/status", ex -> handle(ex, () -> {
            requireMethod(ex, "GET");
            return new Reply(200, node.status());
        }));
        server.createContext("/leader", ex -> handle(ex, () -> {
            boolean ok = node.leader();
            return new Reply(ok ? 200 : 503, Map.of("leader", ok));
        }));
        server.createContext("/position", ex -> handle(ex, () -> {
            requireMethod(ex, "GET");
            return new Reply(200, node.position());
        }));
        server.createContext("/cluster", ex -> handle(ex, () -> {
            requireMethod(ex, "GET");
            return new Reply(200, node.cluster());
        }));
        server.createContext("/admin/", this::admin);
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

    /** POST /admin/{action} or /admin/services/{name}/{action}. */
    private void admin(HttpExchange ex) throws IOException {
        byte[] body = ex.getRequestBody().readAllBytes();
        handle(ex, () -> {
            requireMethod(ex, "POST");
            String path = ex.getRequestURI().getPath();
            if (!auth.verify(node.adminKeys(), "POST", path, body, ex.getRequestHeaders().getFirst(AdminAuth.HEADER),
                    System.currentTimeMillis())) {
                return new Reply(401, Map.of("error", "admin call not signed with this node's admin key or the cluster secrets"));
            }
            String[] parts = path.substring("/admin/".length()).split("/");
            var json = body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
            if (parts.length == 1) {
                return new Reply(200, node.admin(parts[0], null, json));
            }
            if (parts.length == 2 && parts[0].equals("cluster")) {
                return new Reply(200, node.admin("cluster/" + parts[1], null, json));
            }
            if (parts.length == 3 && parts[0].equals("services")) {
                return new Reply(200, node.admin(parts[2], parts[1], json));
            }
            return new Reply(404, Map.of("error", "no such admin call: " + path));
        });
    }

    private record Reply(int code, Object body) {
    }

    private interface Handler {
        Reply handle() throws IOException;
    }

    private static final class MethodNotAllowed extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }

    private static void requireMethod(HttpExchange ex, String method) {
        if (!ex.getRequestMethod().equals(method)) {
            throw new MethodNotAllowed();
        }
    }

    private static void handle(HttpExchange ex, Handler handler) throws IOException {
        Reply reply;
        try {
            reply = handler.handle();
        } catch (MethodNotAllowed e) {
            reply = new Reply(405, Map.of("error", "method not allowed"));
        } catch (ApiException e) {
            reply = new Reply(e.status(), Map.of("error", String.valueOf(e.getMessage())));
        } catch (ServiceSetupException e) {
            reply = new Reply(409, Map.of("error", e.getMessage()));
        } catch (IOException | RuntimeException e) {
            log.error("{} {} failed", ex.getRequestMethod(), ex.getRequestURI(), e);
            reply = new Reply(500, Map.of("error", String.valueOf(e.getMessage())));
        }
        byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(reply.body());
        ex.getResponseHeaders().set("Content-Type", "application/json");
        if ("close".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Connection"))) {
            // the JDK's server closes such a connection but does not say so; a client that believes it open sends
            // its next request into the closing socket and gets a reset (RFC 9112 9.6: say close)
            ex.getResponseHeaders().set("Connection", "close");
        }
        ex.sendResponseHeaders(reply.code(), bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
