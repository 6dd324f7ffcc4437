package org.chefbackend.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.chefbackend.agent.ServiceSetupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the agent's HTTP API answers, apart from the server that carries it, so that any server answers alike. A
 * path goes to the route it starts with ({@code /status}, {@code /leader}, {@code /position}, {@code /cluster},
 * {@code /admin/}), as the JDK's server matched its contexts; exact matching is left to the hardening of the API.
 */
public final class AgentApi {
    private static final Logger log = LoggerFactory.getLogger(AgentApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** What the JDK's server answered a path no route starts with. */
    private static final Reply NO_ROUTE = new Reply(404, "text/html",
            "<h1>404 Not Found</h1>No context found for request".getBytes(StandardCharsets.ISO_8859_1));

    private final AdminAuth auth = new AdminAuth();
    private final AgentHttpServer.Node node;

    public AgentApi(AgentHttpServer.Node node) {
        this.node = node;
    }

    /** A reply, ready to send. */
    public record Reply(int status, String contentType, byte[] body) {
    }

    /** The request's body, read only by the routes that need it. */
    @FunctionalInterface
    public interface Body {
        byte[] read() throws IOException;
    }

    /** {@code path} is the request's decoded path, without the query; {@code header} gives a header's first value. */
    public Reply answer(String method, String path, UnaryOperator<String> header, Body body) throws IOException {
        if (path == null) { // a request-target without a path, e.g. "*"
            return NO_ROUTE;
        }
        if (path.startsWith("/status")) {
            return handle(method, path, () -> {
                requireMethod(method, "GET");
                return new Result(200, node.status());
            });
        }
        if (path.startsWith("/leader")) {
            return handle(method, path, () -> {
                boolean ok = node.leader();
                return new Result(ok ? 200 : 503, Map.of("leader", ok));
            });
        }
        if (path.startsWith("/position")) {
            return handle(method, path, () -> {
                requireMethod(method, "GET");
                return new Result(200, node.position());
            });
        }
        if (path.startsWith("/cluster")) {
            return handle(method, path, () -> {
                requireMethod(method, "GET");
                return new Result(200, node.cluster());
            });
        }
        if (path.startsWith("/admin/")) {
            return admin(method, path, header, body.read());
        }
        return NO_ROUTE;
    }

    /** POST /admin/{action} or /admin/services/{name}/{action}. */
    private Reply admin(String method, String path, UnaryOperator<String> header, byte[] body) throws IOException {
        return handle(method, path, () -> {
            requireMethod(method, "POST");
            if (!auth.verify(node.adminKeys(), "POST", path, body, header.apply(AdminAuth.HEADER),
                    System.currentTimeMillis())) {
                return new Result(401, Map.of("error", "admin call not signed with this node's admin key or the cluster secrets"));
            }
            String[] parts = path.substring("/admin/".length()).split("/");
            var json = body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
            if (parts.length == 1) {
                return new Result(200, node.admin(parts[0], null, json));
            }
            if (parts.length == 2 && parts[0].equals("cluster")) {
                return new Result(200, node.admin("cluster/" + parts[1], null, json));
            }
            if (parts.length == 3 && parts[0].equals("services")) {
                return new Result(200, node.admin(parts[2], parts[1], json));
            }
            return new Result(404, Map.of("error", "no such admin call: " + path));
        });
    }

    private record Result(int code, Object body) {
    }

    private interface Route {
        Result run() throws IOException;
    }

    private static final class MethodNotAllowed extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }

    private static void requireMethod(String method, String allowed) {
        if (!method.equals(allowed)) {
            throw new MethodNotAllowed();
        }
    }

    private static Reply handle(String method, String path, Route route) throws IOException {
        Result result;
        try {
            result = route.run();
        } catch (MethodNotAllowed e) {
            result = new Result(405, Map.of("error", "method not allowed"));
        } catch (ApiException e) {
            result = new Result(e.status(), Map.of("error", String.valueOf(e.getMessage())));
        } catch (ServiceSetupException e) {
            result = new Result(409, Map.of("error", e.getMessage()));
        } catch (IOException | RuntimeException e) {
            log.error("{} {} failed", method, path, e);
            result = new Result(500, Map.of("error", String.valueOf(e.getMessage())));
        }
        return new Reply(result.code(), "application/json",
                JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(result.body()));
    }
}
