package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.chefbackend.agent.NodeState;
import org.chefbackend.api.AdminAuth;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.Http;
import org.chefbackend.system.OperatorException;

/**
 * The CLI's way into a node agent: its HTTP API ({@link Http}: no TLS set-up, a third of a short command's run time
 * with java.net.http; never re-sent), admin calls signed with the node-local admin key.
 */
final class AgentClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    private final URI base;
    private final String host;
    private final int port;
    private final NodePaths paths;
    /** This node's agent, rather than another member's: where a hint to start it can be pasted. */
    private final boolean local;

    /** This node's agent: where the running one listens, else where chef-backend.rb says it will. */
    AgentClient(NodePaths paths, Settings settings) {
        this(localEndpoint(paths, settings), paths);
    }

    private AgentClient(URI endpoint, NodePaths paths) {
        this(endpoint.getHost(), endpoint.getPort(), paths, true);
    }

    private static URI localEndpoint(NodePaths paths, Settings settings) {
        return runningAgentBase(paths).map(URI::create).orElseGet(() -> {
            String address = settings.optionalString("leaderl.http_address").filter(a -> !wildcard(a))
                    .or(() -> settings.optionalString("publish_address"))
                    .orElseThrow(() -> NodeHints.noPublishAddress(paths.configFile(), ""));
            return URI.create(Http.base(address, settings.intValue("leaderl.http_port")));
        });
    }

    /**
     * The running agent's own record of its HTTP API: an edited chef-backend.rb (a new leaderl.http_address or
     * publish_address, not yet applied) must not make the CLI look for the agent where it is not.
     */
    private static Optional<String> runningAgentBase(NodePaths paths) {
        if (AgentProcess.running(paths).isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Files.readString(NodeState.agentEndpointFile(paths)).strip()).filter(b -> !b.isEmpty());
        } catch (IOException e) {
            return Optional.empty(); // an agent from before the file existed
        }
    }

    /** The agent's /status, or empty when no agent answers. */
    Optional<JsonNode> status() {
        return get("/status").filter(r -> r.status() == 200).map(Response::body);
    }

    /** A remote agent (another member), whose admin calls are signed with the cluster secrets' key. */
    AgentClient(String address, int port, NodePaths paths) {
        this(address, port, paths, false);
    }

    private AgentClient(String address, int port, NodePaths paths, boolean local) {
        this.paths = paths;
        this.local = local;
        this.host = address;
        this.port = port;
        this.base = URI.create(Http.base(address, port));
    }

    /** An agent listening on every address (0.0.0.0, ::) is called at its publish_address, the one it signs for. */
    private static boolean wildcard(String address) {
        try {
            return InetAddress.getByName(address).isAnyLocalAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** The agent as admin calls are signed for it: a call signed for one agent is refused by every other. */
    private String target() {
        try {
            return AdminAuth.target(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw OperatorException.failure("cannot resolve the node agent's address " + host + ": " + e.getMessage());
        }
    }

    URI base() {
        return base;
    }

    /** The local node's paths (also for a remote agent: its admin key is this node's). */
    NodePaths paths() {
        return paths;
    }

    /** GET path: the status code and JSON body, or empty when no agent answers. */
    Optional<Response> get(String path) {
        try {
            Http.Response r = Http.get(base.resolve(path).toString(), CONNECT_TIMEOUT, Duration.ofSeconds(10));
            return Optional.of(new Response(r.status(), JSON.readTree(r.body())));
        } catch (IOException e) {
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
        try {
            Http.Response r = Http.send("POST", base.resolve(path).toString(), Map.of("Content-Type", "application/json",
                    AdminAuth.HEADER, AdminAuth.sign(key, target(), "POST", path, body,
                            System.currentTimeMillis())), body,
                    CONNECT_TIMEOUT, timeout);
            return new Response(r.status(), JSON.readTree(r.body()));
        } catch (IOException e) {
            throw OperatorException.failure("the node agent at " + base + " did not answer: " + e.getMessage());
        }
    }

    JsonNode admin(String path, byte[] body, byte[] key, Duration timeout) {
        try {
            Http.Response r = Http.send("POST", base.resolve(path).toString(), Map.of("Content-Type", "application/json",
                    AdminAuth.HEADER, AdminAuth.sign(key, target(), "POST", path, body,
                            System.currentTimeMillis())), body,
                    CONNECT_TIMEOUT, timeout);
            JsonNode json = JSON.readTree(r.body());
            if (r.status() != 200) {
                String error = json.path("error").asText("HTTP " + r.status());
                throw r.status() == 409 ? OperatorException.usage(error) : OperatorException.failure(error);
            }
            return json;
        } catch (IOException e) {
            throw OperatorException.failure("the node agent at " + base + " did not answer: " + e.getMessage()
                    + " (is it running? " + startHint() + ")");
        }
    }

    /** This node's start as it can be pasted here; another member's is run on its own host. */
    private String startHint() {
        return local ? CtlCommand.forRoot(paths.root(), "start") : CtlCommand.elsewhere("start") + " on that node";
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
