package org.chefbackend.postgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.agent.ServiceUsers;
import org.chefbackend.config.ClusterCa;
import org.chefbackend.tls.Pem;
import org.chefbackend.tls.SecurityMode;
import org.chefbackend.tls.TlsException;

/**
 * How this node's clients of another node's PostgreSQL (streaming, pg_basebackup, pg_rewind, the agent's JDBC
 * connections) check whom they reach. A node whose secrets hold the cluster CA asks for {@code verify-full}: the
 * server's certificate must chain to {@link #BUNDLE} and name the address connected to (every node's certificate
 * carries its publish_address, and nodes connect by it). The bundle is the cluster CA plus the certificates in the
 * operator's ssl.certificate, so a node serving the operator's certificate verifies when that file holds its chain up
 * to the root. A node of a cluster made before the CA existed keeps {@code require}: encrypted, whoever answers;
 * so does a node that {@code secure-cluster} has not yet brought to its clients step.
 *
 * @param sslmode libpq's and pgjdbc's sslmode
 * @param rootCertificate the CA bundle clients trust (sslrootcert), null when nothing is verified
 */
public record PeerTls(String sslmode, Path rootCertificate) {
    /** Root's and readable by all: the service user's clients read it, only root changes whom they trust. */
    static final String BUNDLE = "/var/opt/chef-backend/postgresql/root.crt";

    /** This node's settings, without touching a file. */
    public static PeerTls of(NodeContext node) {
        // while secure-cluster closes an open cluster, every node serves a CA certificate before any client checks
        return !SecurityMode.of(node).clientsVerify() ? new PeerTls("require", null)
                : new PeerTls("verify-full", node.paths().resolve(BUNDLE));
    }

    /**
     * This node's settings, with the bundle written first when it is missing or stale. Synchronized: the HA loop and
     * the cluster agent connect to the leader on threads of their own, and both would write the same file.
     */
    public static synchronized PeerTls ensure(NodeContext node) throws IOException {
        PeerTls tls = of(node);
        if (tls.rootCertificate != null) {
            PostgresRecipe.traversableParents(tls.rootCertificate);
            ServiceUsers.writeOwned(tls.rootCertificate, bundle(node).getBytes(StandardCharsets.US_ASCII), "root",
                    "rw-r--r--");
        }
        return tls;
    }

    /** The conninfo keywords (primary_conninfo, pg_rewind's --source-server). */
    public Map<String, String> conninfo() {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("sslmode", sslmode);
        if (rootCertificate != null) {
            k.put("sslrootcert", rootCertificate.toString());
        }
        return k;
    }

    /** The same as libpq's environment variables, for pg_basebackup. */
    public Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PGSSLMODE", sslmode);
        if (rootCertificate != null) {
            env.put("PGSSLROOTCERT", rootCertificate.toString());
        }
        return env;
    }

    /** The same as pgjdbc properties (pgjdbc reads every certificate of a PEM sslrootcert and checks IP SANs). */
    public void addTo(Properties jdbc) {
        conninfo().forEach(jdbc::setProperty);
    }

    /**
     * The bundle's text: the cluster CA, then every certificate in the operator's ssl.certificate (when set), each
     * once, as PEM.
     */
    static String bundle(NodeContext node) {
        ClusterCa ca = node.secrets().ca();
        List<X509Certificate> trusted = new ArrayList<>(Pem.certificates(ca.certificatePem(), "the cluster CA certificate"));
        if (node.settings().string("ssl.certificate") != null) {
            Path file = node.path("ssl.certificate");
            try {
                trusted.addAll(Pem.certificates(Files.readString(file, StandardCharsets.US_ASCII), "ssl.certificate " + file));
            } catch (IOException e) {
                throw new ServiceSetupException("ssl.certificate " + file + " cannot be read: " + e.getMessage());
            } catch (TlsException e) {
                throw new ServiceSetupException(e.getMessage());
            }
        }
        Set<String> pems = new LinkedHashSet<>();
        for (X509Certificate c : trusted) {
            pems.add(pem(c));
        }
        return String.join("", pems);
    }

    static String pem(X509Certificate c) {
        try {
            return "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(c.getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
        } catch (CertificateEncodingException e) {
            throw new ServiceSetupException("cannot encode the certificate of " + c.getSubjectX500Principal() + ": "
                    + e.getMessage());
        }
    }
}
