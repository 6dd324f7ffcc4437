package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.chefbackend.agent.NodeState;
import org.chefbackend.api.AdminAuth;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;

/**
 * The CLI's way into a node agent: its HTTP API, admin calls signed with the node-local admin key. Plain
 * HttpURLConnection, not java.net.http: the latter sets up TLS when it is built, a third of a short command's run
 * time, and the agent speaks plain HTTP on loopback or the cluster network. Requests are never retried (fixed-length
 * streaming and no kept-alive connections): an admin call repeated by the transport could act twice.
 */
final class AgentClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CONNECT_TIMEOUT_MS = 2000;
    private final URI base;
    private final NodePaths paths;

    AgentClient(NodePaths paths, Settings settings) {
        this.paths = paths;
        String address = settings.optionalString("leaderl.http_address")
                .or(() -> settings.optionalString("publish_address"))
                .orElseThrow(() -> OperatorException.usage("publish_address is not set in chef-backend.rb"));
        this.base = URI.create("http://" + (address.contains(":") ? "[" + address + "]" : address) + ":"
                + settings.integer("leaderl.http_port"));
    }

    /** The agent's /status, or empty when no agent answers. */
    Optional<JsonNode> status() {
        return get("/status").filter(r -> r.status() == 200).map(Response::body);
    }

    /** A remote agent (another member), whose admin calls are signed with the cluster secrets' key. */
    AgentClient(String address, int port, NodePaths paths) {
        this.paths = paths;
        this.base = URI.create("http://" + (address.contains(":") ? "[" + address + "]" : address) + ":" + port);
    }

    URI base() {
        return base;
    }

    /** GET path: the status code and JSON body, or empty when no agent answers. */
    Optional<Response> get(String path) {
        try {
            Raw r = exchange("GET", path, null, null, Duration.ofSeconds(10));
            return Optional.of(new Response(r.status(), JSON.readTree(r.body())));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    record Response(int status, JsonNode body) {
    }

    private record Raw(int status, byte[] body) {
    }

    /** One HTTP request on a fresh connection; {@code body} null for none. */
    private Raw exchange(String method, String path, String signature, byte[] body, Duration timeout) throws IOException {
        HttpURLConnection c = (HttpURLConnection) base.resolve(path).toURL().openConnection();
        try {
            c.setRequestMethod(method);
            c.setConnectTimeout(CONNECT_TIMEOUT_MS);
            c.setReadTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            c.setUseCaches(false);
            c.setRequestProperty("Connection", "close");
            if (signature != null) {
                c.setRequestProperty(AdminAuth.HEADER, signature);
            }
            if (body != null) {
                c.setRequestProperty("Content-Type", "application/json");
                c.setDoOutput(true);
                c.setFixedLengthStreamingMode(body.length); // streamed, so never re-sent by the transport
                try (OutputStream out = c.getOutputStream()) {
                    out.write(body);
                }
            }
            int status = c.getResponseCode();
            try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
                return new Raw(status, in == null ? new byte[0] : in.readAllBytes());
            }
        } finally {
            c.disconnect();
        }
    }

    /** POST /admin/…, signed; a refusal from the agent becomes the operator's one-line error. */
    JsonNode admin(String path, Duration timeout) {
        return admin(path, new byte[0], adminKey(), timeout);
    }

    /** A signed POST with a JSON body; answers other than 200 come back as they are, for the caller to judge. */
    Response post(String path, JsonNode json, byte[] key, Duration timeout) {
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(json);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        try {
            Raw r = exchange("POST", path, AdminAuth.sign(key, "POST", path, body, System.currentTimeMillis()), body, timeout);
            return new Response(r.status(), JSON.readTree(r.body()));
        } catch (IOException e) {
            throw OperatorException.failure("the node agent at " + base + " did not answer: " + e.getMessage());
        }
    }

    JsonNode admin(String path, byte[] body, byte[] key, Duration timeout) {
        try {
            Raw r = exchange("POST", path, AdminAuth.sign(key, "POST", path, body, System.currentTimeMillis()), body, timeout);
            JsonNode json = JSON.readTree(r.body());
            if (r.status() != 200) {
                String error = json.path("error").asText("HTTP " + r.status());
                throw r.status() == 409 ? OperatorException.usage(error) : OperatorException.failure(error);
            }
            return json;
        } catch (IOException e) {
            throw OperatorException.failure("the node agent at " + base + " did not answer: " + e.getMessage()
                    + " (is it running? chef-backend-ctl start)");
        }
    }

    byte[] adminKey() {
        Path file = NodeState.adminKeyFile(paths);
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw OperatorException.failure("cannot read the node's admin key " + file
                    + " (run chef-backend-ctl as root on the node): " + e.getMessage());
        }
    }
}
