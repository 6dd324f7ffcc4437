package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.chefbackend.api.AgentHttpServer;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's admin calls, signed for the agent they go to, against a real agent API on a free port. */
class AgentClientTest {
    static final byte[] KEY = "k".repeat(32).getBytes(StandardCharsets.UTF_8);
    AgentHttpServer agent;

    @BeforeEach
    void start() throws IOException {
        agent = new AgentHttpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 2, new Accepting());
        agent.start();
    }

    @AfterEach
    void stop() {
        agent.stop();
    }

    @Test
    void theAgentOfThisNodeAcceptsTheCallsSignedForIt(@TempDir Path root) {
        Settings settings = Settings.defaults(MachineFacts.detect()).with("publish_address", "127.0.0.1")
                .with("leaderl.http_port", (long) agent.port());
        AgentClient client = new AgentClient(new NodePaths(root), settings);
        assertEquals(200, client.post("/admin/cluster/failover", new ObjectMapper().createObjectNode(), KEY,
                Duration.ofSeconds(10)).status());
    }

    @Test
    void anotherMembersAgentAcceptsTheCallsSignedForIt(@TempDir Path root) {
        AgentClient client = new AgentClient("127.0.0.1", agent.port(), new NodePaths(root));
        assertEquals(200, client.post("/admin/cluster/failover", new ObjectMapper().createObjectNode(), KEY,
                Duration.ofSeconds(10)).status());
    }

    /** An agent on every address (0.0.0.0) accepted the call on publish_address: that is where it is called. */
    @Test
    void anAgentOnEveryAddressIsCalledAtThePublishAddress(@TempDir Path root) {
        Settings settings = Settings.defaults(MachineFacts.detect()).with("publish_address", "127.0.0.1")
                .with("leaderl.http_address", "0.0.0.0").with("leaderl.http_port", 7331L);
        assertEquals("http://127.0.0.1:7331", new AgentClient(new NodePaths(root), settings).base().toString());
    }

    /** An agent that runs every admin call it is sent with KEY. */
    private static final class Accepting implements AgentHttpServer.Node {
        @Override
        public Map<String, Object> status() {
            return Map.of();
        }

        @Override
        public boolean leader() {
            return false;
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
        public Map<String, Object> admin(String action, String service, JsonNode body) {
            return Map.of("done", true);
        }

        @Override
        public List<byte[]> adminKeys() {
            return List.of(KEY);
        }
    }
}
