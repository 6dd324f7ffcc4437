package org.chefbackend.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.ClusterCa;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecurityModeTest {
    static final ClusterCa CA = new ClusterCa("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
            "-----BEGIN PRIVATE KEY-----\ny\n-----END PRIVATE KEY-----\n");

    @TempDir
    Path root;

    NodeContext node(ClusterCa ca) {
        Settings s = Settings.from(ChefBackendRbParser.parse("t.rb", "publish_address '127.0.0.5'\n"),
                new MachineFacts(1L << 32, "n1"));
        return new NodeContext(s, new NodePaths(root), "n1", "g", new Secrets("a", "b", "c", "d", ca));
    }

    @Test
    void noCaIsOpenWhateverTheStepFileSays() throws Exception {
        SecurityMode.record(new NodePaths(root), SecurityMode.CLIENTS);
        assertEquals(SecurityMode.OPEN, SecurityMode.of(node(null)));
    }

    @Test
    void aCaWithoutAStepFileIsClosedAndEachStepIsRecordedUntilClosed() throws Exception {
        NodePaths paths = new NodePaths(root);
        assertEquals(SecurityMode.CLOSED, SecurityMode.of(node(CA)));
        for (SecurityMode m : new SecurityMode[] {SecurityMode.CERTIFICATES, SecurityMode.ETCD_TLS,
            SecurityMode.CLIENTS}) {
            SecurityMode.record(paths, m);
            assertEquals(m, SecurityMode.of(node(CA)));
        }
        SecurityMode.record(paths, SecurityMode.CLOSED);
        assertFalse(Files.exists(paths.resolve(SecurityMode.STEP_FILE)));
        assertEquals(SecurityMode.CLOSED, SecurityMode.of(node(CA)));
    }

    @Test
    void anUnreadableStepFileIsTheMostCautiousStep() throws Exception {
        Path file = new NodePaths(root).resolve(SecurityMode.STEP_FILE);
        Files.createDirectories(file.getParent());
        Files.writeString(file, "half-closed\n");
        assertEquals(SecurityMode.CERTIFICATES, SecurityMode.of(node(CA)));
    }

    @Test
    void whatEachStepTurnsOn() {
        assertFalse(SecurityMode.OPEN.servesClusterCertificates());
        assertTrue(SecurityMode.CERTIFICATES.servesClusterCertificates() && !SecurityMode.CERTIFICATES.etcdTls());
        assertTrue(SecurityMode.ETCD_TLS.etcdTls() && !SecurityMode.ETCD_TLS.clientsVerify());
        assertTrue(SecurityMode.CLIENTS.clientsVerify() && SecurityMode.CLOSED.clientsVerify());
        assertEquals(SecurityMode.ETCD_TLS, SecurityMode.parse("etcd-tls"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SecurityMode.parse("x"));
        assertEquals("unknown security step 'x': open, certificates, etcd-tls, clients or closed", e.getMessage());
    }
}
