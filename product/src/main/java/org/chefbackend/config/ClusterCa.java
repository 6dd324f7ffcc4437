package org.chefbackend.config;

/**
 * The cluster's certificate authority, as chef-backend-secrets.json keeps it (section {@code ca}): made once by
 * {@code create-cluster}, carried to every node the way the documents carry the other secrets (the operator copies
 * the file for {@code join-cluster}). Each node issues its own certificate from it; peers trust nothing else.
 *
 * @param certificatePem the CA certificate (public)
 * @param keyPem its unencrypted PKCS#8 key (secret)
 */
public record ClusterCa(String certificatePem, String keyPem) {
    public ClusterCa {
        if (certificatePem == null || !certificatePem.contains("-----BEGIN CERTIFICATE-----")) {
            throw new IllegalArgumentException("ca.certificate must be a PEM certificate");
        }
        if (keyPem == null || !keyPem.contains("-----BEGIN PRIVATE KEY-----")) {
            throw new IllegalArgumentException("ca.key must be an unencrypted PKCS#8 PEM key (BEGIN PRIVATE KEY)");
        }
    }

    /** Never the key: this may end up in logs. */
    @Override
    public String toString() {
        return "ClusterCa[<redacted>]";
    }
}
