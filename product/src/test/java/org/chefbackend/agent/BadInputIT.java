package org.chefbackend.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.chefbackend.testing.TestNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Starting a node that cannot run: one clear line, a non-zero exit, and no process of the node left behind. */
class BadInputIT {
    static final Path ROOT = Path.of("/tmp/cbit/bad");
    TestNode node;

    @AfterEach
    void cleanUp() {
        if (node != null) {
            node.destroy();
        }
    }

    void assertRefused(TestNode.Run r, String... fragments) {
        assertNotEquals(0, r.code(), r.out() + r.err());
        assertEquals(1, r.err().lines().count(), "not one line: " + r.err());
        assertTrue(r.err().startsWith("chef-backend-ctl: "), r.err());
        for (String f : fragments) {
            assertTrue(r.err().contains(f), "'" + f + "' missing in: " + r.err());
        }
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(10), () -> node.processes().isEmpty()),
                "left running: " + node.processes());
    }

    @Test
    void aPortInUse() throws Exception {
        node = TestNode.create("127.0.0.5", ROOT, TestNode.secrets());
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.5", 5432));
            assertRefused(node.ctl("start"), "127.0.0.5:5432", "already in use", "postgresql");
        }
    }

    @Test
    void aMissingBinaryNamesItsDebianPackage() throws Exception {
        node = TestNode.create("127.0.0.5", ROOT, TestNode.secrets());
        assertRefused(node.ctl(Map.of("CHEF_BACKEND_PG_BINDIR", "/nonexistent/bin"), "start"), "postgresql-15");
    }

    @Test
    void aDataDirectoryOwnedBySomeoneElse() throws Exception {
        node = TestNode.create("127.0.0.5", ROOT, TestNode.secrets());
        Path data = ROOT.resolve("var/opt/chef-backend/etcd/data");
        Files.createDirectories(data);
        new ProcessBuilder("chown", "nobody", data.toString()).start().waitFor();
        assertRefused(node.ctl("start"), "owned by user nobody");
    }

    @Test
    void anUnknownServiceName() throws Exception {
        node = TestNode.create("127.0.0.5", ROOT, TestNode.secrets());
        TestNode.Run r = node.ctl("start", "nosuch");
        assertEquals(2, r.code());
        assertEquals("chef-backend-ctl: unknown service 'nosuch'; services are elasticsearch, etcd, leaderl, postgresql\n",
                r.err());
        assertTrue(node.processes().isEmpty());
    }

    @Test
    void aPublishAddressThatIsNotOnThisHost() throws Exception {
        node = TestNode.create("127.0.0.5", ROOT, TestNode.secrets());
        Files.writeString(node.configFile(), "publish_address '192.0.2.77'\nfqdn 'x'\n");
        TestNode.Run r = node.ctl("create-cluster", "-y");
        assertEquals(2, r.code(), r.err());
        assertEquals("chef-backend-ctl: publish address 192.0.2.77 is not an address of this machine\n", r.err());
        assertTrue(node.processes().isEmpty());
    }

    @Test
    void aMissingPublishAddress() throws Exception {
        node = TestNode.create("127.0.0.5", ROOT, TestNode.secrets());
        Files.writeString(node.configFile(), "fqdn 'x'\n");
        TestNode.Run r = node.ctl("start");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("publish_address is not set"), r.err());
    }
}
