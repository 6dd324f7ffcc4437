package org.chefbackend.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
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
import org.chefbackend.dcs.EtcdCredentials;
import org.chefbackend.tls.Authority;
import org.chefbackend.tls.NodeCertificates.CertificateFiles;
import org.chefbackend.tls.NodeCertificates;
import org.chefbackend.tls.Subject;
import org.chefbackend.tls.TlsException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scheme, trust, client certificate and users a node reaches etcd with follow from its secrets and its files. */
class EtcdAccessTest {
    static final Secrets OPEN = new Secrets("pw", "repl", "token123", "chef-backend-x");
    static final MachineFacts MACHINE = new MachineFacts(4L * 1024 * 1024 * 1024, "n1");
    static ClusterCa ca;

    @TempDir
    Path root;

    @BeforeAll
    static void authority() {
        ca = Authority.generate(new Subject("US", "YouCorp", "Operations"), 2048, 2);
    }

    CertificateFiles issued(Secrets secrets) {
        Settings settings = Settings.from(ChefBackendRbParser.parse("t.rb", "publish_address '127.0.0.5'\n"
                + "ssl.key_length = 2048\n"), MACHINE);
        return NodeCertificates.ensure(new NodeContext(settings, new NodePaths(root), "n1", "guid", secrets))
                .orElseThrow();
    }

    @Test
    void aClusterMadeBeforeTheCaStaysOpenPlainHttpAndNoUsers() {
        EtcdAccess a = EtcdAccess.of(OPEN, new CertificateFiles(root.resolve("none")));
        assertFalse(a.closed());
        assertEquals("http", a.scheme());
        assertEquals("http://10.0.0.1:2379", a.url("10.0.0.1", 2379));
        assertNull(a.tls());
        assertNull(a.clusterUser());
        assertNull(a.root());
    }

    @Test
    void aClusterWithACaIsReachedOverHttpsWithTheNodesCertificateAsTwoUsersWithDerivedPasswords() throws Exception {
        Secrets closed = OPEN.withCa(ca);
        CertificateFiles files = issued(closed);
        EtcdAccess a = EtcdAccess.of(closed, files);
        assertTrue(a.closed());
        assertEquals("https", a.scheme());
        assertEquals("https://[fd00::5]:2378", a.url("fd00::5", 2378));
        assertNotNull(a.tls());
        assertEquals(new EtcdCredentials("chef-backend", closed.etcdPassword("chef-backend")), a.clusterUser());
        assertEquals(new EtcdCredentials("root", closed.etcdPassword("root")), a.root());
        assertSame(a, EtcdAccess.of(closed, files), "the TLS context is made once, not at every health check");
        Secrets other = new Secrets("pw2", "repl", "token123", "chef-backend-x", ca);
        assertEquals(other.etcdPassword("root"), EtcdAccess.of(other, files).root().password(),
                "other secrets, other users");
        // a renewed certificate is presented from then on
        Files.delete(files.dir().resolve("node.inputs"));
        issued(closed);
        assertNotSame(a, EtcdAccess.of(closed, files));
    }

    @Test
    void aClosedClusterWithoutTheNodesCertificateSaysWhichFileIsMissing() {
        CertificateFiles missing = new CertificateFiles(root.resolve("nowhere"));
        TlsException e = assertThrows(TlsException.class, () -> EtcdAccess.of(OPEN.withCa(ca), missing));
        assertTrue(e.getMessage().startsWith("cannot read " + missing.certificate()), e.getMessage());
    }
}
