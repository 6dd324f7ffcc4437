package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.chefbackend.agent.NodeState;
import org.chefbackend.api.AdminAuth;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;

/** The CLI's way into a node agent: its HTTP API, admin calls signed with the node-local admin key. */
final class AgentClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
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
        try {
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(base.resolve("/status"))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            return r.statusCode() == 200 ? Optional.of(JSON.readTree(r.body())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
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
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(base.resolve(path))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            return Optional.of(new Response(r.statusCode(), JSON.readTree(r.body())));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    record Response(int status, JsonNode body) {
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
        HttpRequest request = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout)
                .header("Content-Type", "application/json")
                .header(AdminAuth.HEADER, AdminAuth.sign(key, "POST", path, body, System.currentTimeMillis()))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        try {
            HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            return new Response(r.statusCode(), JSON.readTree(r.body()));
        } catch (IOException e) {
            throw OperatorException.failure("the node agent at " + base + " did not answer: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw OperatorException.failure("interrupted");
        }
    }

    JsonNode admin(String path, byte[] body, byte[] key, Duration timeout) {
        HttpRequest request = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout)
                .header(AdminAuth.HEADER, AdminAuth.sign(key, "POST", path, body, System.currentTimeMillis()))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        try {
            HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            JsonNode json = JSON.readTree(r.body());
            if (r.statusCode() != 200) {
                String error = json.path("error").asText("HTTP " + r.statusCode());
                throw r.statusCode() == 409 ? OperatorException.usage(error) : OperatorException.failure(error);
            }
            return json;
        } catch (IOException e) {
            throw OperatorException.failure("the node agent at " + base + " did not answer: " + e.getMessage()
                    + " (is it running? chef-backend-ctl start)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw OperatorException.failure("interrupted");
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
