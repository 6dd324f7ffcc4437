package org.chefbackend.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.chefbackend.system.Http;

/** Reading another member's agent over its HTTP API. */
public final class RemoteAgent {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RemoteAgent() {
    }

    public static Optional<JsonNode> status(String address, int port) {
        try {
            Http.Response r = Http.get(Http.base(address, port) + "/status", Duration.ofSeconds(2), Duration.ofSeconds(5));
            return r.status() == 200 ? Optional.of(JSON.readTree(r.body())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Services the agent at address reports running; empty when no agent answers (powered off or stopped). */
    static List<String> runningServices(String address, int port) {
        List<String> running = new ArrayList<>();
        status(address, port).ifPresent(s -> {
            for (JsonNode svc : s.path("services")) {
                if (svc.path("running").asBoolean()) {
                    running.add(svc.path("name").asText());
                }
            }
        });
        return running;
    }
}
