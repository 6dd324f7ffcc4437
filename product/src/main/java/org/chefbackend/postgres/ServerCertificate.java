package org.chefbackend.postgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.config.Settings;
import org.chefbackend.tls.NodeCertificates;

/**
 * The certificate and key PostgreSQL serves TLS with (replication is hostssl-only): the operator's
 * ssl.certificate/ssl.certificate_key when both are set, else this node's certificate from the cluster CA (which
 * peers verify, {@link PeerTls}), else, in a cluster made before the CA existed, a self-signed pair generated once into
 * ssl.data_dir and regenerated only when the settings that shape it change.
 *
 * @param certificate PEM certificate
 * @param key PEM private key
 */
record ServerCertificate(byte[] certificate, byte[] key) {
    static ServerCertificate forNode(NodeContext node) throws IOException {
        Settings s = node.settings();
        String cert = s.string("ssl.certificate");
        String key = s.string("ssl.certificate_key");
        if (cert != null || key != null) {
            if (cert == null || key == null) {
                throw new ServiceSetupException("set both ssl.certificate and ssl.certificate_key, or neither");
            }
            return new ServerCertificate(read(node.path("ssl.certificate"), "ssl.certificate"),
                    read(node.path("ssl.certificate_key"), "ssl.certificate_key"));
        }
        Optional<NodeCertificates.CertificateFiles> issued = NodeCertificates.ensure(node);
        if (issued.isPresent()) {
            return new ServerCertificate(Files.readAllBytes(issued.get().certificate()),
                    Files.readAllBytes(issued.get().key()));
        }
        return generated(node, PostgresLayout.of(node).sslDir());
    }

    /** What the generated certificate depends on; a change of any of it makes a new one. */
    static String inputs(NodeContext node) {
        Settings s = node.settings();
        return "key_length=" + s.integer("ssl.key_length") + "\n"
                + "duration=" + s.integer("ssl.duration") + "\n"
                + "subject=" + subject(node) + "\n"
                + "san=" + subjectAltName(node) + "\n";
    }

    static String subject(NodeContext node) {
        Settings s = node.settings();
        return "/C=" + escape(s.string("ssl.country_name"))
                + "/O=" + escape(s.string("ssl.company_name"))
                + "/OU=" + escape(s.string("ssl.organizational_unit_name"))
                + "/CN=" + escape(node.nodeName());
    }

    /** So clients can use sslmode=verify-full against the address they connect to. */
    static String subjectAltName(NodeContext node) {
        return "subjectAltName=DNS:" + node.nodeName() + ",IP:" + node.publishAddress();
    }

    private static ServerCertificate generated(NodeContext node, Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        Path cert = dir.resolve(node.nodeName() + ".crt");
        Path key = dir.resolve(node.nodeName() + ".key");
        Path inputsFile = dir.resolve(node.nodeName() + ".inputs");
        String inputs = inputs(node);
        boolean current = Files.exists(cert) && Files.exists(key) && Files.exists(inputsFile)
                && Files.readString(inputsFile).equals(inputs);
        if (!current) {
            Path newCert = dir.resolve(cert.getFileName() + ".new");
            Path newKey = dir.resolve(key.getFileName() + ".new");
            Files.deleteIfExists(newKey);
            Settings s = node.settings();
            Commands.run(List.of("openssl", "req", "-x509", "-newkey", "rsa:" + s.integer("ssl.key_length"),
                    "-days", String.valueOf(s.integer("ssl.duration")), "-nodes", "-subj", subject(node),
                    "-addext", subjectAltName(node), "-keyout", newKey.toString(), "-out", newCert.toString()),
                    dir, null, null);
            Files.setPosixFilePermissions(newKey, PosixFilePermissions.fromString("rw-------"));
            Files.move(newKey, key, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.move(newCert, cert, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.writeString(inputsFile, inputs); // last: a crash before this regenerates next time
        }
        return new ServerCertificate(Files.readAllBytes(cert), Files.readAllBytes(key));
    }

    private static byte[] read(Path file, String setting) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ServiceSetupException(setting + " " + file + " cannot be read: "
                    + (Files.exists(file) ? e.getMessage() : "no such file"));
        }
    }

    /** openssl -subj separates fields with '/', so a value must escape it. */
    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("/", "\\/");
    }
}
