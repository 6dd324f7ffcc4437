package org.chefbackend.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeIdentityTest {
    static final MachineFacts MACHINE = new MachineFacts(1L << 30, "host1");

    static Settings settings(String rb) {
        return Settings.from(ChefBackendRbParser.parse("t.rb", rb), MACHINE);
    }

    @Test
    void nameIsFqdnWhenSet() {
        assertEquals("be1", NodeIdentity.name(new NodePaths(Path.of("/tmp/x")), settings("fqdn 'be1'\npublish_address '127.0.0.2'")));
    }

    @Test
    void nameIsTheHostNameOnARealHost() {
        assertEquals("host1", NodeIdentity.name(new NodePaths(Path.of("/")), settings("publish_address '10.0.0.5'")));
    }

    @Test
    void nodesSharingAMachineGetTheirAddressInTheName() {
        assertEquals("host1-127-0-0-3", NodeIdentity.name(new NodePaths(Path.of("/tmp/n2")), settings("publish_address '127.0.0.3'")));
    }

    @Test
    void guidIsMadeOnceAndKept(@TempDir Path root) throws Exception {
        NodePaths paths = new NodePaths(root);
        String first = NodeIdentity.guid(paths);
        assertTrue(first.matches("[0-9a-f]{32}"));
        assertEquals(first, NodeIdentity.guid(paths));
    }
}
