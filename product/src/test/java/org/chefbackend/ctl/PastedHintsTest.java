package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.OperatorException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hint to run on this node names chef-backend-ctl as the operator ran it (bin/chef-backend-ctl passes its absolute
 * path) and this node's root, so it runs as pasted from any directory; a hint for another host names it bare, as a
 * package install puts it on PATH there.
 */
class PastedHintsTest {
    static final String SCRIPT = "/home/me/chef-backend/bin/chef-backend-ctl";
    static final Path ROOT = Path.of("/tmp/chef-backend-demo/node1");
    static final String HERE = "CHEF_BACKEND_ROOT=/tmp/chef-backend-demo/node1 " + SCRIPT + " ";

    @BeforeEach
    void ranByTheScript() {
        System.setProperty(CtlCommand.PROPERTY, SCRIPT);
    }

    @AfterEach
    void clear() {
        System.clearProperty(CtlCommand.PROPERTY);
    }

    @Test
    void statusWarningsNameThisNodesCommands() {
        ObjectNode status = new ObjectMapper().createObjectNode().put("security", "open");
        status.putArray("certificates").addObject().put("name", "node certificate").put("file", "/n1/node.crt")
                .put("not_after", "2026-12-08T00:00:00Z");
        List<String> warnings = StatusCommand.warnings(status,
                Instant.parse("2026-12-06T00:00:00Z").toEpochMilli(), ROOT);
        assertEquals(2, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).endsWith(": " + HERE + "reconfigure issues a new one"), warnings.get(0));
        assertTrue(warnings.get(1).contains("close it with " + HERE + "secure-cluster (docs/SECURITY.md)"),
                warnings.get(1));
    }

    @Test
    void anAgentThatDoesNotAnswerIsStartedHereOrOnItsOwnHost(@TempDir Path root) throws IOException {
        int port = freePort();
        Settings settings = Settings.defaults(MachineFacts.detect()).with("publish_address", "127.0.0.1")
                .with("leaderl.http_port", (long) port);
        AgentClient here = new AgentClient(new NodePaths(root), settings);
        AgentClient there = new AgentClient("127.0.0.1", port, new NodePaths(root));
        assertTrue(silent(here).endsWith("(is it running? CHEF_BACKEND_ROOT=" + root + " " + SCRIPT + " start)"),
                silent(here));
        assertTrue(silent(there).endsWith("(is it running? chef-backend-ctl start on that node)"), silent(there));
    }

    @Test
    void aCommandForAnotherHostIsBare() {
        assertEquals("chef-backend-ctl tail leaderl", CtlCommand.elsewhere("tail leaderl"));
        assertEquals(HERE + "tail leaderl", CtlCommand.forRoot(ROOT, "tail leaderl"));
    }

    private static String silent(AgentClient client) {
        return assertThrows(OperatorException.class,
                () -> client.admin("/admin/restart", new byte[0], new byte[32], Duration.ofSeconds(2))).getMessage();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort(); // closed again: nothing answers there
        }
    }
}
