package org.chefbackend.etcd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceUsers;
import org.chefbackend.tls.NodeCertificates.CertificateFiles;

/**
 * etcd's own copies of the node's certificate, its key and the cluster CA certificate: the originals live in
 * ssl.data_dir, which only root may enter, and etcd runs as {@value ServiceUsers#CHEF_BACKEND}. The directory is
 * that user's, 0700, the key 0600.
 *
 * @param copies where the copies live, named as the originals
 */
public record EtcdTls(CertificateFiles copies) {
    static final String DIR = "/var/opt/chef-backend/etcd/tls";

    public static EtcdTls of(NodeContext node) {
        return new EtcdTls(new CertificateFiles(node.paths().resolve(DIR)));
    }

    /**
     * The TLS flags: the client port takes only clients that present a certificate from the cluster CA, so a stranger
     * never gets past the handshake (etcd 3.4 serves leases, compaction and alarms to anyone who does, auth or not);
     * behind it, the clients still log in as etcd users (node certificates have no common name, which etcd would
     * otherwise take for the user). Peers talk mutual TLS, each trusting the cluster CA alone,
     * from whatever address.
     */
    Map<String, String> flags() {
        Map<String, String> flags = new LinkedHashMap<>();
        flags.put("cert-file", copies.certificate().toString());
        flags.put("key-file", copies.key().toString());
        flags.put("trusted-ca-file", copies.caCertificate().toString());
        flags.put("client-cert-auth", "true");
        flags.put("peer-cert-file", copies.certificate().toString());
        flags.put("peer-key-file", copies.key().toString());
        flags.put("peer-trusted-ca-file", copies.caCertificate().toString());
        flags.put("peer-client-cert-auth", "true");
        // etcd would also require a peer to connect from an address its certificate names; a host whose route to the
        // others leaves from another address (several interfaces; loopback test clusters) could then never join.
        // Whoever holds a certificate from the cluster CA holds the secrets anyway.
        flags.put("experimental-peer-skip-client-san-verification", "true");
        return flags;
    }

    /**
     * Copies what changed from {@code source}. True when the CA certificate changed: etcd reads its certificate and
     * key at each new connection, but the CA it trusts only when it starts.
     */
    boolean install(CertificateFiles source) throws IOException {
        ServiceUsers.ownedDirectory(copies.dir(), ServiceUsers.CHEF_BACKEND, "rwx------");
        boolean newCa = copy(source.caCertificate(), copies.caCertificate(), "rw-r--r--");
        copy(source.certificate(), copies.certificate(), "rw-r--r--");
        copy(source.key(), copies.key(), "rw-------");
        return newCa;
    }

    private static boolean copy(Path from, Path to, String mode) throws IOException {
        byte[] content = Files.readAllBytes(from);
        if (Files.exists(to) && Arrays.equals(content, Files.readAllBytes(to))) {
            return false;
        }
        Path tmp = to.resolveSibling(to.getFileName() + ".new");
        Files.deleteIfExists(tmp);
        // created private, then given to etcd's user: the key is never readable by anyone else, even for a moment
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(tmp, content);
        ServiceUsers.chown(tmp, ServiceUsers.CHEF_BACKEND);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(mode));
        Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return true;
    }
}
