package org.chefbackend.tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.config.ClusterCa;
import org.chefbackend.config.Settings;

/**
 * This node's certificate, issued from the cluster CA into {@code ssl.data_dir/cluster/} (root only): serverAuth and
 * clientAuth for its publish_address and node name (in subjectAltName; no common name, see
 * {@link Subject#withoutCommonName}), so PostgreSQL and etcd serve it, etcd peers present it to each other and the
 * agent presents it to etcd's client port. Issued again when what shapes it changes (the CA, ssl.key_length, ssl.duration, the subject fields, the
 * address) or when it has less than {@link #RENEW_BEFORE} left. A node whose secrets hold no CA (a cluster made before
 * the CA existed) has none.
 */
public final class NodeCertificates {
    /** Renewed this long before it expires; {@code status} warns at the same distance for what it cannot renew. */
    public static final Duration RENEW_BEFORE = Duration.ofDays(30);
    static final String DIR = "cluster";

    private NodeCertificates() {
    }

    /**
     * Where a node's certificate and the CA certificate live.
     *
     * @param dir ssl.data_dir/cluster, 0700 root
     */
    public record CertificateFiles(Path dir) {
        public Path caCertificate() {
            return dir.resolve("ca.crt");
        }

        public Path certificate() {
            return dir.resolve("node.crt");
        }

        public Path key() {
            return dir.resolve("node.key");
        }

        Path inputs() {
            return dir.resolve("node.inputs");
        }

    }

    /**
     * This node's certificate files, issued or renewed first when needed; empty for a node without a cluster CA.
     * Synchronized: services prepare on threads of their own (PostgreSQL and etcd serve the same files), and two
     * issues at once would leave one's key beside the other's certificate.
     */
    public static synchronized Optional<CertificateFiles> ensure(NodeContext node) {
        ClusterCa ca = node.secrets().ca();
        if (ca == null) {
            return Optional.empty();
        }
        CertificateFiles f = new CertificateFiles(node.path("ssl.data_dir").resolve(DIR));
        String inputs = inputs(node, ca);
        try {
            if (!current(f, inputs)) {
                issue(node, ca, f, inputs, Subject.of(node.settings()).withoutCommonName(), subjectAltName(node));
            } else if (!Files.readString(f.caCertificate(), StandardCharsets.US_ASCII).equals(trusted(ca))) {
                replace(f.caCertificate(), trusted(ca), "rw-r--r--"); // rotate-ca: a CA trusted beside, or no longer
            }
        } catch (IOException e) {
            throw new TlsException("cannot write this node's certificate into " + f.dir() + ": " + e.getMessage());
        }
        return Optional.of(f);
    }

    /**
     * What ca.crt holds: the CA certificate as the secrets keep it; while rotate-ca runs, both CAs in an order that
     * does not depend on which one signs ({@link CaRotation#trustBundle}).
     */
    static String trusted(ClusterCa ca) {
        return Pem.certificates(ca.certificatePem(), "the cluster CA certificate").size() == 1 ? ca.certificatePem()
                : CaRotation.trustBundle(ca);
    }

    /**
     * Issues this node's certificate again now, whatever is left of the current one (rotate-certificates): a new key
     * and serial. The services pick it up when they next render (PostgreSQL by reload, etcd at its next handshake).
     */
    public static synchronized CertificateFiles reissue(NodeContext node) {
        ClusterCa ca = node.secrets().ca();
        if (ca == null) {
            throw new TlsException("this node has no cluster CA (an open cluster); close it with secure-cluster first");
        }
        CertificateFiles f = new CertificateFiles(node.path("ssl.data_dir").resolve(DIR));
        try {
            issue(node, ca, f, inputs(node, ca), Subject.of(node.settings()).withoutCommonName(), subjectAltName(node));
        } catch (IOException e) {
            throw new TlsException("cannot write this node's certificate into " + f.dir() + ": " + e.getMessage());
        }
        return f;
    }

    /** The files of a node with a cluster CA, without issuing anything (for clients such as chef-backend-ctl). */
    public static Optional<CertificateFiles> existing(NodeContext node) {
        return node.secrets().ca() == null ? Optional.empty()
                : Optional.of(new CertificateFiles(node.path("ssl.data_dir").resolve(DIR)));
    }

    /** What the certificate depends on; a change of any of it issues a new one. */
    static String inputs(NodeContext node, ClusterCa ca) {
        Settings s = node.settings();
        return "ca=" + fingerprint(ca.certificatePem()) + "\n"
                + "key_length=" + s.integer("ssl.key_length") + "\n"
                + "duration=" + s.integer("ssl.duration") + "\n"
                + "subject=" + Subject.of(s).withoutCommonName() + "\n"
                + "san=" + subjectAltName(node) + "\n";
    }

    static String subjectAltName(NodeContext node) {
        return "DNS:" + node.nodeName() + ",IP:" + node.publishAddress();
    }

    static boolean current(CertificateFiles f, String inputs) throws IOException {
        if (!Files.exists(f.certificate()) || !Files.exists(f.key()) || !Files.exists(f.caCertificate())
                || !Files.exists(f.inputs()) || !Files.readString(f.inputs()).equals(inputs)) {
            return false;
        }
        Instant notAfter = Pem.certificates(Files.readString(f.certificate(), StandardCharsets.US_ASCII),
                f.certificate().toString()).get(0).getNotAfter().toInstant();
        return Instant.now().plus(RENEW_BEFORE).isBefore(notAfter);
    }

    /** Issues a certificate from the cluster CA into {@code f}: serverAuth and clientAuth, for {@code subjectAltName}. */
    static void issue(NodeContext node, ClusterCa ca, CertificateFiles f, String inputs, String subject,
            String subjectAltName) throws IOException {
        Files.createDirectories(f.dir());
        Files.setPosixFilePermissions(f.dir(), PosixFilePermissions.fromString("rwx------"));
        Settings s = node.settings();
        try (Openssl.Scratch scratch = Openssl.scratch()) {
            scratch.write("ca.crt", Pem.encode(Authority.certificate(ca))); // the signing CA: the first
            scratch.write("ca.key", ca.keyPem());
            scratch.write("ext.cnf", "basicConstraints=critical,CA:FALSE\n"
                    + "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    + "extendedKeyUsage=serverAuth,clientAuth\n"
                    + "subjectAltName=" + subjectAltName + "\n");
            Openssl.run(scratch.dir(), "req", "-new", "-newkey", "rsa:" + s.integer("ssl.key_length"), "-nodes",
                    "-subj", subject, "-keyout", "node.key", "-out", "node.csr");
            Openssl.run(scratch.dir(), "x509", "-req", "-in", "node.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                    "-set_serial", "0x" + HexFormat.of().formatHex(new SecureRandom().generateSeed(16)),
                    "-days", String.valueOf(s.integer("ssl.duration")), "-extfile", "ext.cnf", "-out", "node.crt");
            replace(f.key(), scratch.read("node.key"), "rw-------");
            replace(f.certificate(), scratch.read("node.crt"), "rw-r--r--");
            replace(f.caCertificate(), trusted(ca), "rw-r--r--");
            replace(f.inputs(), inputs, "rw-------"); // last: a crash before this issues again next time
        }
    }

    private static void replace(Path file, String content, String mode) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".new");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, content, StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(mode));
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static String fingerprint(String pem) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(Pem.certificates(pem, "the cluster CA certificate").get(0).getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new TlsException("cannot fingerprint the cluster CA certificate: " + e.getMessage());
        }
    }
}
