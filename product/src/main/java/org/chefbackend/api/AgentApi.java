package org.chefbackend.api;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.config.Excerpt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the agent's HTTP API answers, apart from the server that carries it. Paths and methods match exactly:
 * {@code GET|HEAD /leader, /status, /position, /cluster} and {@code POST /admin/{action}},
 * {@code /admin/cluster/{action}}, {@code /admin/services/{name}/{action}}; any other path is 404, another method
 * 405 with an Allow header. Which actions exist is the node's to say, after the signature is checked.
 */
public final class AgentApi {
    private static final Logger log = LoggerFactory.getLogger(AgentApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern ADMIN = Pattern.compile(
            "/admin/(?:(?<action>[a-z0-9-]+)|cluster/(?<cluster>[a-z0-9-]+)|services/(?<service>[a-z0-9_-]+)/"
                    + "(?<serviceAction>[a-z0-9-]+))");
    private static final Set<String> READS = Set.of("/status", "/position", "/cluster");
    private static final String READ_METHODS = "GET, HEAD";

    private final AdminAuth auth = new AdminAuth();
    private final AgentHttpServer.Node node;
    private final Reply leaderYes = json(200, Map.of("leader", true));
    private final Reply leaderNo = json(503, Map.of("leader", false));

    public AgentApi(AgentHttpServer.Node node) {
        this.node = node;
    }

    /** A reply, ready to send; {@code allow} (or null) is the Allow header of a 405. */
    public record Reply(int status, String contentType, byte[] body, String allow) {
    }

    /** Where a request goes, decided from its method and path alone (before any body is read). */
    public sealed interface Route {
    }

    /** GET /leader: answered from memory, never blocking. */
    public record LeaderRoute() implements Route {
    }

    /** GET /status, /position or /cluster: may wait on the node (its services, etcd). */
    public record ReadRoute(String path) implements Route {
    }

    /** An admin call: {@code service} null for one on the node or the cluster. */
    public record AdminRoute(String path, String action, String service) implements Route {
    }

    /** No route: the reply says why (404, 405). */
    public record NoRoute(Reply reply) implements Route {
    }

    /** {@code path} is the request's decoded path, without the query (null for a target such as "*"). */
    public Route route(String method, String path) {
        if (path == null) {
            return notFound(path);
        }
        boolean read = method.equals("GET") || method.equals("HEAD");
        if (path.equals("/leader") || READS.contains(path)) {
            if (!read) {
                return new NoRoute(methodNotAllowed(READ_METHODS));
            }
            return path.equals("/leader") ? new LeaderRoute() : new ReadRoute(path);
        }
        Matcher m = ADMIN.matcher(path);
        if (m.matches()) {
            if (!method.equals("POST")) {
                return new NoRoute(methodNotAllowed("POST"));
            }
            if (m.group("action") != null) {
                return new AdminRoute(path, m.group("action"), null);
            }
            if (m.group("cluster") != null) {
                return new AdminRoute(path, "cluster/" + m.group("cluster"), null);
            }
            return new AdminRoute(path, m.group("serviceAction"), m.group("service"));
        }
        return notFound(path);
    }

    public Reply leader() {
        return node.leader() ? leaderYes : leaderNo;
    }

    public Reply read(ReadRoute route) {
        Call read = switch (route.path()) {
            case "/status" -> node::status;
            case "/position" -> node::position;
            default -> node::cluster;
        };
        return handle("GET", route.path(), read);
    }

    /**
     * Runs an admin call: {@code header} gives a request header's value, {@code target} names this agent as the
     * caller had to sign it ({@link AdminAuth#target}).
     */
    public Reply admin(AdminRoute route, UnaryOperator<String> header, byte[] body, String target) {
        return handle("POST", route.path(), () -> {
            auth.refusal(node.adminKeys(), target, "POST", route.path(), body, header.apply(AdminAuth.HEADER),
                    System.currentTimeMillis()).ifPresent(refusal -> {
                        throw refusal;
                    });
            return node.admin(route.action(), route.service(), jsonObject(body));
        });
    }

    /** The whole exchange at once, for servers that read a request's body before they answer it. */
    public Reply answer(String method, String path, UnaryOperator<String> header, Body body, String target)
            throws IOException {
        Route route = route(method, path);
        if (route instanceof LeaderRoute) {
            return leader();
        }
        if (route instanceof ReadRoute read) {
            return read(read);
        }
        if (route instanceof AdminRoute admin) {
            return admin(admin, header, body.read(), target);
        }
        return ((NoRoute) route).reply();
    }

    /** The request's body, read only by the routes that need it. */
    @FunctionalInterface
    public interface Body {
        byte[] read() throws IOException;
    }

    /** A refusal as the API words all of them: {"error": reason}, the reason on one line. */
    public static Reply error(int status, String reason) {
        return json(status, Map.of("error", oneLine(reason)));
    }

    /** What a route runs. */
    @FunctionalInterface
    private interface Call {
        Object run() throws IOException;
    }

    private static JsonNode jsonObject(byte[] body) throws IOException {
        if (body.length == 0) {
            return JSON.createObjectNode();
        }
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            // where, not what: Jackson's own message quotes the body
            JsonLocation at = e.getLocation();
            throw new ApiException(400, "malformed JSON in the request body" + (at == null ? ""
                    : " at line " + at.getLineNr() + ", column " + at.getColumnNr()));
        }
        if (json == null || !json.isObject()) {
            throw new ApiException(400, "the request body must be a JSON object");
        }
        return json;
    }

    private static NoRoute notFound(String path) {
        return new NoRoute(error(404, "no such path: " + (path == null ? "(none)" : Excerpt.of(path))));
    }

    private static Reply methodNotAllowed(String allow) {
        Reply r = error(405, "method not allowed (allowed: " + allow + ")");
        return new Reply(r.status(), r.contentType(), r.body(), allow);
    }

    private static Reply handle(String method, String path, Call route) {
        try {
            return json(200, route.run());
        } catch (ApiException e) {
            return error(e.status(), String.valueOf(e.getMessage()));
        } catch (ServiceSetupException e) {
            return error(409, e.getMessage());
        } catch (IOException | RuntimeException e) {
            log.error("{} {} failed", method, path, e); // not the caller's doing: the agent's, worth its trace
            return error(500, String.valueOf(e.getMessage()));
        }
    }

    private static Reply json(int status, Object body) {
        try {
            return new Reply(status, "application/json", JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(body),
                    null);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a reply as JSON: " + e.getMessage(), e);
        }
    }

    private static String oneLine(String s) {
        return s.replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}
