package org.chefbackend.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceUsers;
import org.chefbackend.config.ClusterCa;
import org.chefbackend.tls.NodeCertificates.CertificateFiles;

/**
 * The certificate this node's pgBackRest presents, as TLS server to the other nodes and as their client, issued from
 * the cluster CA into {@code ssl.data_dir/pgbackrest/} and owned by the PostgreSQL user that runs pgBackRest. It differs
 * from the node's own certificate in two ways pgBackRest 2.45 needs: a common name ({@link #CLIENT_NAME}), by which the
 * server authorizes its clients ({@code tls-server-auth}), and the address also as a DNS name, since pgBackRest checks
 * the host it dialed against DNS names only. The node certificate cannot carry a common name (etcd 3.4's gateway
 * refuses such clients), hence a second one.
 */
public final class PgBackRestCertificate {
    /** The common name every node's pgBackRest certificate carries, and the only client its server accepts. */
    public static final String CLIENT_NAME = "chef-backend-pgbackrest";
    static final String DIR = "pgbackrest";

    private PgBackRestCertificate() {
    }

    /** Issued or renewed first when needed; empty for a node without a cluster CA (it has no TLS server). */
    public static synchronized Optional<CertificateFiles> ensure(NodeContext node, String owner) {
        ClusterCa ca = node.secrets().ca();
        if (ca == null) {
            return Optional.empty();
        }
        CertificateFiles f = files(node);
        String subject = Subject.of(node.settings()).withCommonName(CLIENT_NAME);
        String san = "DNS:" + node.publishAddress() + "," + NodeCertificates.subjectAltName(node);
        String inputs = NodeCertificates.inputs(node, ca) + "pgbackrest=" + subject + " " + san + "\n";
        try {
            if (!NodeCertificates.current(f, inputs)) {
                NodeCertificates.issue(node, ca, f, inputs, subject, san);
            }
            ServiceUsers.chown(f.dir(), owner);
            for (Path p : new Path[] {f.caCertificate(), f.certificate(), f.key(), f.inputs()}) {
                if (Files.exists(p)) {
                    ServiceUsers.chown(p, owner);
                }
            }
        } catch (IOException e) {
            throw new TlsException("cannot write the pgBackRest certificate into " + f.dir() + ": " + e.getMessage());
        }
        return Optional.of(f);
    }

    public static CertificateFiles files(NodeContext node) {
        return new CertificateFiles(node.path("ssl.data_dir").resolve(DIR));
    }
}
