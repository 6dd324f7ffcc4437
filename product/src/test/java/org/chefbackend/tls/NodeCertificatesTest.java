package org.chefbackend.tls;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SignatureException;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.ClusterCa;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.Settings;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Certificates made by the real openssl, checked with the JDK's X.509 code. */
class NodeCertificatesTest {
    static final MachineFacts MACHINE = new MachineFacts(4L * 1024 * 1024 * 1024, "n1");
    static ClusterCa ca;
    static ClusterCa otherCa;

    @TempDir
    Path root;

    @BeforeAll
    static void authorities() {
        Subject subject = new Subject("DE", "Acme/Labs", "Ops");
        ca = Authority.generate(subject, 2048, 30);
        otherCa = Authority.generate(subject, 2048, 30);
    }

    NodeContext node(String rb, ClusterCa with) {
        Settings settings = Settings.from(ChefBackendRbParser.parse("t.rb", "publish_address '127.0.0.5'\n" + rb),
                MACHINE);
        return new NodeContext(settings, new NodePaths(root), "n-127-0-0-5", "guid",
                new Secrets("pw", "repl", "token", "chef-backend-x", with));
    }

    static X509Certificate read(Path file) throws Exception {
        return Pem.certificates(Files.readString(file), file.toString()).get(0);
    }

    @Test
    void theCaIsACaWithTheDocumentsSubjectFields() {
        X509Certificate c = Authority.certificate(ca);
        assertTrue(c.getBasicConstraints() >= 0, "not a CA");
        String subject = c.getSubjectX500Principal().getName();
        assertTrue(subject.contains("C=DE") && subject.contains("O=Acme/Labs") && subject.contains("OU=Ops"), subject);
        assertTrue(Authority.notAfter(ca).isBefore(Instant.now().plus(Duration.ofDays(31))));
    }

    @Test
    void aNodeCertificateIsSignedByTheCaForTheNodesAddressAndSettings() throws Exception {
        NodeContext n = node("ssl.key_length = 3072\nssl.duration = 400\nssl.company_name = 'Example'\n", ca);
        NodeCertificates.CertificateFiles f = NodeCertificates.ensure(n).orElseThrow();
        X509Certificate cert = read(f.certificate());
        cert.verify(Authority.certificate(ca).getPublicKey());
        assertThrows(SignatureException.class, () -> cert.verify(Authority.certificate(otherCa).getPublicKey()));
        assertTrue(cert.getSubjectAlternativeNames().stream().anyMatch(san -> san.get(1).equals("127.0.0.5")));
        assertTrue(cert.getSubjectAlternativeNames().stream().anyMatch(san -> san.get(1).equals("n-127-0-0-5")));
        assertTrue(cert.getSubjectX500Principal().getName().contains("O=Example"));
        // no common name: etcd's JSON gateway refuses a client certificate with one once auth is on
        assertFalse(cert.getSubjectX500Principal().getName().contains("CN="), cert.getSubjectX500Principal().getName());
        assertEquals(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"), cert.getExtendedKeyUsage());
        assertEquals(-1, cert.getBasicConstraints());
        long days = Duration.between(Instant.now(), cert.getNotAfter().toInstant()).toDays();
        assertTrue(days >= 398 && days <= 400, days + " days");
        assertEquals(3072, ((RSAPublicKey) cert.getPublicKey()).getModulus().bitLength());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f.key())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f.dir())));
        assertDoesNotThrow(() -> Pem.privateKey(Files.readString(f.key()), "node key"));
    }

    @Test
    void issuedOnceAndAgainOnlyWhenWhatShapesItChanges() throws Exception {
        NodeCertificates.CertificateFiles f = NodeCertificates.ensure(node("", ca)).orElseThrow();
        X509Certificate first = read(f.certificate());
        NodeCertificates.ensure(node("", ca));
        assertEquals(first, read(f.certificate()), "issued again with nothing changed");

        NodeCertificates.ensure(node("ssl.duration = 100\n", ca));
        X509Certificate second = read(f.certificate());
        assertNotEquals(first, second, "ssl.duration changed, the certificate did not");

        NodeCertificates.ensure(node("ssl.duration = 100\n", otherCa));
        read(f.certificate()).verify(Authority.certificate(otherCa).getPublicKey());
        assertEquals(Authority.certificate(otherCa), read(f.caCertificate()));
    }

    @Test
    void aCertificateAboutToExpireIsRenewed() throws Exception {
        NodeCertificates.CertificateFiles f = NodeCertificates.ensure(node("ssl.duration = 10\n", ca)).orElseThrow();
        X509Certificate first = read(f.certificate());
        // ten days left is inside the renewal window: every ensure issues a fresh one
        NodeCertificates.ensure(node("ssl.duration = 10\n", ca));
        assertNotEquals(first.getSerialNumber(), read(f.certificate()).getSerialNumber());
    }

    @Test
    void aNodeWithoutACaHasNone() {
        assertTrue(NodeCertificates.ensure(node("", null)).isEmpty());
        assertTrue(Files.notExists(root.resolve("var/opt/chef-backend/ssl/cluster")));
    }
}
