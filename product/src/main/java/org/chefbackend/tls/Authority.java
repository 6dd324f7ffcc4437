package org.chefbackend.tls;

import java.security.cert.X509Certificate;
import java.time.Instant;
import org.chefbackend.config.ClusterCa;

/** Makes and reads the cluster CA ({@link ClusterCa}, kept in chef-backend-secrets.json). */
public final class Authority {
    private Authority() {
    }

    /** A new CA named after the cluster's subject fields; valid {@code days}, an RSA key of {@code keyLength} bits. */
    public static ClusterCa generate(Subject subject, int keyLength, int days) {
        try (Openssl.Scratch s = Openssl.scratch()) {
            Openssl.run(s.dir(), "req", "-x509", "-newkey", "rsa:" + keyLength, "-nodes", "-days", String.valueOf(days),
                    "-subj", subject.withCommonName("chef-backend cluster CA"),
                    "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                    "-keyout", "ca.key", "-out", "ca.crt");
            return new ClusterCa(s.read("ca.crt"), s.read("ca.key"));
        }
    }

    public static X509Certificate certificate(ClusterCa ca) {
        return Pem.certificates(ca.certificatePem(), "the cluster CA certificate").get(0);
    }

    /** SHA-256 of the CA certificate, hex: how nodes tell they hold the same CA. */
    public static String fingerprint(ClusterCa ca) {
        return NodeCertificates.fingerprint(ca.certificatePem());
    }

    public static Instant notAfter(ClusterCa ca) {
        return certificate(ca).getNotAfter().toInstant();
    }
}
