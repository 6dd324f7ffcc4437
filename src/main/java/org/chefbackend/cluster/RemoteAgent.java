package org.chefbackend.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reading another member's agent over its HTTP API. */
final class RemoteAgent {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private RemoteAgent() {
    }

    static Optional<JsonNode> status(String address, int port) {
        try {
            String host = address.contains(":") ? "[" + address + "]" : address;
            HttpResponse<byte[]> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/status"))
                    .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            return r.statusCode() == 200 ? Optional.of(JSON.readTree(r.body())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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
