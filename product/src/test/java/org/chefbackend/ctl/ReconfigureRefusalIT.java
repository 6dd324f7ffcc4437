package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.chefbackend.testing.NodeSnapshot;
import org.chefbackend.testing.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A reconfigure the machine cannot carry out is refused before anything changes: one line naming what is wrong, a
 * non-zero exit, and the running leader exactly as it was (same pids, same rendered files, same role). One node,
 * shared by every case: each restores the original chef-backend.rb afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReconfigureRefusalIT {
    static final String ADDRESS = "127.0.0.120";
    /** TEST-NET-1 (RFC 5737): never an address of this machine. */
    static final String FOREIGN = "192.0.2.10";
    TestNode node;
    String original;
    NodeSnapshot before;

    @BeforeAll
    void createCluster() throws Exception {
        node = TestNode.create(ADDRESS, Path.of("/tmp/cbit-h19a/reconf"), TestNode.secrets());
        node.ctlOk("create-cluster", "-y");
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(120),
                () -> node.status().map(s -> s.path("leaderl").path("leader_endpoint").asBoolean()).orElse(false)),
                "the node did not become leader");
        original = Files.readString(node.configFile());
    }

    @AfterAll
    void destroy() {
        if (node != null) {
            node.destroy();
        }
    }

    @BeforeEach
    void snapshot() throws Exception {
        before = NodeSnapshot.of(node);
    }

    @AfterEach
    void restoreConfig() throws Exception {
        Files.writeString(node.configFile(), original);
    }

    void assertRefusedAndUnchanged(TestNode.Run r, String... fragments) throws Exception {
        assertTrue(r.code() != 0, "reconfigure exited 0: " + r.out() + r.err());
        assertEquals(1, r.err().lines().count(), "not one line: " + r.err());
        for (String f : fragments) {
            assertTrue(r.err().contains(f), "'" + f + "' missing in: " + r.err());
        }
        assertEquals(before, NodeSnapshot.of(node));
    }

    @Test
    @Order(1)
    void aPublishAddressNotOnThisMachine() throws Exception {
        Files.writeString(node.configFile(), original.replace("publish_address '" + ADDRESS + "'",
                "publish_address '" + FOREIGN + "'"));
        TestNode.Run r = node.ctl("reconfigure");
        assertEquals(2, r.code(), r.out() + r.err());
        assertRefusedAndUnchanged(r, "chef-backend.rb:1:", "publish_address", FOREIGN, "not an address of this machine");
    }

    @Test
    @Order(2)
    void aPublishAndHttpAddressNotOnThisMachine() throws Exception {
        Files.writeString(node.configFile(), original.replace("publish_address '" + ADDRESS + "'",
                "publish_address '" + FOREIGN + "'") + "leaderl.http_address = '" + FOREIGN + "'\n");
        TestNode.Run r = node.ctl("reconfigure");
        assertEquals(2, r.code(), r.out() + r.err());
        assertRefusedAndUnchanged(r, "publish_address", "leaderl.http_address", FOREIGN);
    }

    @Test
    @Order(3)
    void aNewlineInArchiveCommand() throws Exception {
        Files.writeString(node.configFile(), original + "postgresql.archive_command = \"cp %p /tmp/%f\\nrm -f %p\"\n");
        int line = (int) original.lines().count() + 1;
        TestNode.Run r = node.ctl("reconfigure");
        assertEquals(2, r.code(), r.out() + r.err());
        assertRefusedAndUnchanged(r, "chef-backend.rb:" + line + ":", "postgresql.archive_command", "\\n");
    }

    @Test
    @Order(4)
    void aPortInUse() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(ADDRESS, 5433));
            Files.writeString(node.configFile(), original + "postgresql.port = 5433\n");
            TestNode.Run r = node.ctl("reconfigure");
            assertEquals(2, r.code(), r.out() + r.err());
            assertRefusedAndUnchanged(r, "postgresql.port", ADDRESS + ":5433", "in use");
        }
    }

    @Test
    @Order(5)
    void aNewHttpAddressWaitsForTheAgentsRestartAndTheCliStillFindsTheAgent() throws Exception {
        Files.writeString(node.configFile(), original + "leaderl.http_address = '127.0.0.121'\n");
        TestNode.Run r = node.ctl("reconfigure");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("ok: leaderl: the HTTP API stays on " + ADDRESS + ":7331 until the agent restarts"),
                r.out());
        TestNode.Run status = node.ctl("status", "postgresql");
        assertEquals(0, status.code(), status.out() + status.err());
        assertEquals(before.pids(), NodeSnapshot.of(node).pids());
    }

    @Test
    @Order(6)
    void theOriginalFileStillAppliesWithNothingToDo() throws Exception {
        TestNode.Run r = node.ctl("reconfigure");
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals("ok: elasticsearch: unchanged\nok: etcd: unchanged\nok: postgresql: unchanged\n", r.out());
        NodeSnapshot after = NodeSnapshot.of(node);
        // (opensearch.yml loses its bootstrap line, which needs no restart: files may change here)
        assertEquals(before.pids(), after.pids());
        assertEquals(before.role(), after.role());
    }
}
