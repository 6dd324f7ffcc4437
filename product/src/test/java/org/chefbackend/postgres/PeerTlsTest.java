package org.chefbackend.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.ClusterCa;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.Settings;
import org.chefbackend.tls.Authority;
import org.chefbackend.tls.NodeCertificates;
import org.chefbackend.tls.Pem;
import org.chefbackend.tls.SecurityMode;
import org.chefbackend.tls.Subject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What this node's clients of other nodes' PostgreSQL trust, with CAs made by the real openssl. */
class PeerTlsTest {
    static ClusterCa ca;
    static ClusterCa operatorsCa;

    @TempDir
    Path root;

    @BeforeAll
    static void authorities() {
        ca();
        operatorsCa = Authority.generate(new Subject("US", "Operator", "IT"), 2048, 30);
    }

    /** One test CA for this package's tests (made once: an RSA key takes a moment). */
    static synchronized ClusterCa ca() {
        if (ca == null) {
            ca = Authority.generate(new Subject("US", "Chef", "Ops"), 2048, 30);
        }
        return ca;
    }

    static NodeContext node(Path root, String rb, ClusterCa with) {
        Settings settings = Settings.from(ChefBackendRbParser.parse("t.rb", "publish_address '127.0.0.26'\n" + rb),
                new MachineFacts(4L << 30, "n1"));
        return new NodeContext(settings, new NodePaths(root), "n1", "0123456789abcdef0123456789abcdef",
                new Secrets("pw", "repl", "token", "chef-backend-x", with));
    }

    static List<X509Certificate> certificates(String pem) {
        return Pem.certificates(pem, "test");
    }

    @Test
    void aClusterWithoutCaOnlyEncryptsAndWritesNoBundle() throws Exception {
        PeerTls tls = PeerTls.ensure(node(root, "", null));
        assertEquals("require", tls.sslmode());
        assertNull(tls.rootCertificate());
        assertEquals(Map.of("sslmode", "require"), tls.conninfo());
        assertEquals(Map.of("PGSSLMODE", "require"), tls.environment());
        assertFalse(Files.exists(root.resolve("var/opt/chef-backend/postgresql/root.crt")));
    }

    @Test
    void aClusterWithCaVerifiesTheServerAgainstABundleOnlyRootChanges() throws Exception {
        PeerTls tls = PeerTls.ensure(node(root, "", ca));
        Path bundle = root.resolve("var/opt/chef-backend/postgresql/root.crt");
        assertEquals(new PeerTls("verify-full", bundle), tls);
        assertEquals(Map.of("sslmode", "verify-full", "sslrootcert", bundle.toString()), tls.conninfo());
        assertEquals(Map.of("PGSSLMODE", "verify-full", "PGSSLROOTCERT", bundle.toString()), tls.environment());
        Properties jdbc = new Properties();
        tls.addTo(jdbc);
        assertEquals("verify-full", jdbc.getProperty("sslmode"));
        assertEquals(bundle.toString(), jdbc.getProperty("sslrootcert"));

        assertEquals(List.of(Authority.certificate(ca)), certificates(Files.readString(bundle)));
        assertEquals("root", Files.getOwner(bundle, LinkOption.NOFOLLOW_LINKS).getName());
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(bundle)));
    }

    @Test
    void theOperatorsCertificatesAreTrustedBesideTheClusterCaEachOnce() throws Exception {
        // the operator's certificate for this node, issued by the operator's own CA, with that CA in the file
        NodeCertificates.CertificateFiles leaf = NodeCertificates.ensure(node(root.resolve("issuer"), "", operatorsCa))
                .orElseThrow();
        Path etc = Files.createDirectories(root.resolve("etc/ssl"));
        Files.writeString(etc.resolve("pg.crt"), Files.readString(leaf.certificate()) + operatorsCa.certificatePem()
                + ca.certificatePem());
        Files.copy(leaf.key(), etc.resolve("pg.key"));
        NodeContext n = node(root, "ssl.certificate = '/etc/ssl/pg.crt'\nssl.certificate_key = '/etc/ssl/pg.key'\n", ca);

        List<X509Certificate> trusted = certificates(PeerTls.bundle(n));
        assertEquals(List.of(Authority.certificate(ca), certificates(Files.readString(leaf.certificate())).get(0),
                Authority.certificate(operatorsCa)), trusted);
        // and the server serves the operator's file as it is
        assertEquals(Files.readString(etc.resolve("pg.crt")), new String(ServerCertificate.forNode(n).certificate()));
    }

    @Test
    void anOperatorsFileWithoutCertificateIsNamedOnOneLine() throws Exception {
        Path etc = Files.createDirectories(root.resolve("etc/ssl"));
        Files.writeString(etc.resolve("pg.crt"), "not a certificate\n");
        NodeContext n = node(root, "ssl.certificate = '/etc/ssl/pg.crt'\nssl.certificate_key = '/etc/ssl/pg.key'\n", ca);
        ServiceSetupException e = assertThrows(ServiceSetupException.class, () -> PeerTls.ensure(n));
        assertTrue(e.getMessage().startsWith("ssl.certificate " + etc.resolve("pg.crt")), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void whileSecureClusterRunsClientsVerifyOnlyFromTheClientsStepOn() throws Exception {
        NodeContext n = node(root, "", ca());
        for (SecurityMode step : new SecurityMode[] {SecurityMode.CERTIFICATES, SecurityMode.ETCD_TLS}) {
            SecurityMode.record(n.paths(), step);
            assertEquals("require", PeerTls.of(n).sslmode(), step.jsonName());
            assertNull(PeerTls.of(n).rootCertificate(), step.jsonName());
        }
        SecurityMode.record(n.paths(), SecurityMode.CLIENTS);
        assertEquals("verify-full", PeerTls.of(n).sslmode());
        SecurityMode.record(n.paths(), SecurityMode.CLOSED);
        assertEquals("verify-full", PeerTls.of(n).sslmode());
    }
}
