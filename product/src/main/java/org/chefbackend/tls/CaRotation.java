package org.chefbackend.tls;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.chefbackend.config.ClusterCa;
import org.chefbackend.config.Secrets;

/**
 * Replacing the cluster CA in three phases, each on every node before the next starts, so that at every moment every
 * certificate in use is trusted by every node: (1) trust the new CA beside the old, the old still signing; (2) the new
 * CA signs, each node's certificate is issued from it, both still trusted; (3) only the new CA is trusted. During the
 * transition the secrets' {@code ca.certificate} holds both certificates, the signing one first (everything that
 * trusts the CA reads every certificate of it; everything that signs or names the CA, the first).
 *
 * <p>Pure: a node's phase is read from its current CA and the next one, and the secrets of a phase computed from them.
 */
public final class CaRotation {
    /** The last phase: only the new CA. */
    public static final int DONE = 3;

    private CaRotation() {
    }

    /** The operator's copy of the next CA, beside the secrets file: {@code chef-backend-secrets.json.next-ca}. */
    public static Path nextFile(Path secretsFile) {
        return secretsFile.resolveSibling(secretsFile.getFileName() + ".next-ca");
    }

    /**
     * Where {@code current} stands on the way to {@code next} (a CA of one certificate): 0 before, 1 both trusted with
     * the old signing, 2 both trusted with the new signing, 3 done; -1 when {@code current} is on no such way.
     */
    public static int phase(ClusterCa current, ClusterCa next) {
        List<String> have = fingerprints(current);
        String n = fingerprints(next).get(0);
        if (have.size() == 1) {
            return have.get(0).equals(n) ? 3 : 0;
        }
        if (have.size() == 2 && !have.get(0).equals(have.get(1))) {
            if (have.get(1).equals(n)) {
                return 1;
            }
            if (have.get(0).equals(n)) {
                return 2;
            }
        }
        return -1;
    }

    /** Why {@code next} cannot replace {@code current}'s CA; empty when it can. */
    public static Optional<String> problem(Secrets current, Secrets next) {
        if (current.ca() == null) {
            return Optional.of("this cluster is open (no cluster CA); close it with secure-cluster first");
        }
        if (next.ca() == null || fingerprints(next.ca()).size() != 1) {
            return Optional.of("the next CA file must hold exactly one CA certificate");
        }
        if (!current.withCa(null).equals(next.withCa(null))) {
            return Optional.of("the next CA file holds other secrets than this node's; make it with rotate-ca --prepare");
        }
        if (phase(current.ca(), next.ca()) < 0) {
            return Optional.of("this node's cluster CA is on the way to another CA");
        }
        return Optional.empty();
    }

    /** The secrets of {@code phase} (1–3), from a node at phase {@code phase - 1} or {@code phase}. */
    public static Secrets at(Secrets current, Secrets next, int phase) {
        int now = phase(current.ca(), next.ca());
        if (now != phase && now != phase - 1) {
            throw new IllegalArgumentException("phase " + phase + " needs a node at phase " + (phase - 1) + ", not " + now);
        }
        List<X509Certificate> have = Pem.certificates(current.ca().certificatePem(), "the cluster CA certificate");
        X509Certificate newCa = Pem.certificates(next.ca().certificatePem(), "the next CA certificate").get(0);
        String n = fingerprint(newCa);
        X509Certificate oldCa = have.stream().filter(c -> !fingerprint(c).equals(n)).findFirst().orElse(null);
        return switch (phase) {
            case 1 -> current.withCa(new ClusterCa(Pem.encode(oldCa) + Pem.encode(newCa), current.ca().keyPem()));
            case 2 -> current.withCa(new ClusterCa(Pem.encode(newCa) + Pem.encode(oldCa), next.ca().keyPem()));
            case 3 -> next;
            default -> throw new IllegalArgumentException("no CA rotation phase " + phase);
        };
    }

    /**
     * What a node trusts, as one PEM text whose order does not depend on which CA signs: phase 2 then changes no byte
     * of it, and etcd, which reads the CAs it trusts only when it starts, need not restart for it.
     */
    public static String trustBundle(ClusterCa ca) {
        return Pem.certificates(ca.certificatePem(), "the cluster CA certificate").stream()
                .sorted(Comparator.comparing(CaRotation::fingerprint)).map(Pem::encode).collect(Collectors.joining());
    }

    static List<String> fingerprints(ClusterCa ca) {
        return Pem.certificates(ca.certificatePem(), "the cluster CA certificate").stream()
                .map(CaRotation::fingerprint).toList();
    }

    static String fingerprint(X509Certificate c) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new TlsException("cannot fingerprint " + c.getSubjectX500Principal() + ": " + e.getMessage());
        }
    }
}
