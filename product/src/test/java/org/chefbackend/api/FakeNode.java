package org.chefbackend.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/** A leader whose admin calls echo what they ran; "fail" is refused, "slow" takes 2.5 s. */
final class FakeNode implements AgentHttpServer.Node {
    @Override
    public Map<String, Object> status() {
        return Map.of("ok", true);
    }

    @Override
    public boolean leader() {
        return true;
    }

    @Override
    public Map<String, Object> position() {
        return Map.of();
    }

    @Override
    public Map<String, Object> cluster() {
        return Map.of();
    }

    @Override
    public Map<String, Object> admin(String action, String service, JsonNode body) throws IOException {
        if (action.equals("fail")) {
            throw new ApiException(422, "refused");
        }
        if (action.equals("slow")) {
            try {
                Thread.sleep(2500); // the work of a long admin call, not a wait for a condition
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }
        return Map.of("ran", action + " " + service + " " + body.path("a").asInt());
    }

    @Override
    public List<byte[]> adminKeys() {
        return List.of(AdminAuthTest.KEY);
    }
}
