package org.chefbackend.etcd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.system.Http;

/**
 * Read-only checks of an etcd member over its HTTP API, for status and health checks: https verified against the
 * cluster CA in a closed cluster ({@link EtcdAccess}). Never throws: a member that cannot be reached, answers late or
 * answers nonsense is unhealthy and has no members.
 */
public final class EtcdProbe {
    static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One entry of {@code GET /v2/members}, as Chef Server frontends read it. {@code name} is empty for a member
     * that was added but has not started yet.
     */
    public record Member(String id, String name, List<String> peerURLs, List<String> clientURLs) {
        public Member {
            peerURLs = List.copyOf(peerURLs);
            clientURLs = List.copyOf(clientURLs);
        }
    }

    private EtcdProbe() {
    }

    /** Whether this node's etcd reports itself healthy (it has a leader and its cluster has quorum). */
    public static boolean health(NodeContext node) {
        return health(EtcdRecipe.clientUrl(node), EtcdAccess.of(node).tls());
    }

    /** {@link #health(String, SSLContext)} of a plain http URL. */
    public static boolean health(String clientUrl) {
        return health(clientUrl, null);
    }

    /**
     * {@code GET <clientUrl>/health} answers 200 with {"health":"true"}; {@code tls} trusts the member's certificate
     * for an https URL (null: plain http).
     */
    public static boolean health(String clientUrl, SSLContext tls) {
        return get(clientUrl + "/health", tls)
                .map(body -> "true".equals(body.path("health").asText()))
                .orElse(false);
    }

    /** The cluster's members as this node's etcd sees them; empty when it cannot be asked. */
    public static List<Member> members(NodeContext node) {
        return members(EtcdRecipe.clientUrl(node), EtcdAccess.of(node).tls());
    }

    /** {@link #members(String, SSLContext)} of a plain http URL: what Chef Server frontends read. */
    public static List<Member> members(String clientUrl) {
        return members(clientUrl, null);
    }

    public static List<Member> members(String clientUrl, SSLContext tls) {
        return get(clientUrl + "/v2/members", tls).map(EtcdProbe::parseMembers).orElse(List.of());
    }

    static List<Member> parseMembers(JsonNode body) {
        List<Member> members = new ArrayList<>();
        for (JsonNode m : body.path("members")) {
            members.add(new Member(m.path("id").asText(), m.path("name").asText(),
                    texts(m.path("peerURLs")), texts(m.path("clientURLs"))));
        }
        return members;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** The JSON body of a 200 answer. */
    private static Optional<JsonNode> get(String url, SSLContext tls) {
        try {
            Http.Response response = Http.get(url, TIMEOUT, TIMEOUT, tls);
            return response.status() == 200 ? Optional.of(JSON.readTree(response.body())) : Optional.empty();
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
