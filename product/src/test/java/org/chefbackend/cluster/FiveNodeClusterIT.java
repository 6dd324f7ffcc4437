package org.chefbackend.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.chefbackend.testing.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** A 5-node cluster (the original supported only 3): every member joins, streams and is counted. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FiveNodeClusterIT {
    static final ObjectMapper JSON = new ObjectMapper();
    final List<TestNode> nodes = new ArrayList<>();

    @BeforeAll
    void build() throws Exception {
        for (int i = 0; i < 5; i++) {
            nodes.add(TestNode.create("127.0.0." + (11 + i), Path.of("/tmp/cbit/f" + (i + 1)), TestNode.secrets(),
                    "elasticsearch.heap_size = 384"));
        }
        TestNode.Run create = nodes.get(0).ctl("create-cluster", "-y");
        assertEquals(0, create.code(), create.out() + create.err());
        String secrets = nodes.get(0).root.resolve("etc/chef-backend/chef-backend-secrets.json").toString();
        for (TestNode n : nodes.subList(1, 5)) {
            TestNode.Run join = n.ctl("join-cluster", nodes.get(0).address, "-s", secrets, "-y");
            assertEquals(0, join.code(), join.out() + join.err());
        }
    }

    @AfterAll
    void destroy() {
        nodes.forEach(TestNode::destroy);
    }

    @Test
    void fiveMembersStreamAndAreCounted() throws Exception {
        TestNode any = nodes.get(3);
        List<String> last = new ArrayList<>();
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(180), () -> {
            try {
                TestNode.Run s = any.ctl("status");
                last.clear();
                last.add(s.out());
                return s.out().contains("health: green; healthy nodes: 5/5")
                        && s.out().contains("leader: 1; offline: 0; syncing: 0; synced: 4")
                        && s.out().contains("state: green; nodes online: 5/5");
            } catch (Exception e) {
                return false;
            }
        }), "status:\n" + last);
        JsonNode view = JSON.readTree(any.ctl("cluster-status", "--json").out());
        assertEquals(5, view.at("/cluster/members").asInt());
        assertEquals(nodes.get(0).name, view.at("/cluster/leader").asText());
    }
}
