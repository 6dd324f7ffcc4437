package org.chefbackend.tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.chefbackend.agent.NodeContext;

/**
 * When this node's certificates expire: the cluster CA, the node certificate issued from it, and the operator's
 * ssl.certificate. {@code status} warns {@link #WARN_BEFORE} ahead; the node certificate renews itself at the same
 * distance on the agent's next start or reconfigure, the other two need the operator (docs/SECURITY.md).
 */
public final class CertificateExpiry {
    public static final Duration WARN_BEFORE = NodeCertificates.RENEW_BEFORE;

    private CertificateExpiry() {
    }

    /** One certificate: what it is, where it is, until when it is valid; {@code problem} when it cannot be read. */
    public record Entry(String name, String file, Instant notAfter, String problem) {
        Map<String, Object> json(Instant now) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("file", file);
            if (notAfter != null) {
                m.put("not_after", notAfter.toString());
                m.put("days_left", Duration.between(now, notAfter).toDays());
            }
            if (problem != null) {
                m.put("problem", problem);
            }
            return m;
        }
    }

    /** This node's certificates as /status reports them. */
    public static List<Map<String, Object>> report(NodeContext node, Instant now) {
        return entries(node).stream().map(e -> e.json(now)).toList();
    }

    static List<Entry> entries(NodeContext node) {
        List<Entry> out = new ArrayList<>();
        if (node.secrets().ca() != null) {
            out.add(new Entry("cluster CA", node.paths().secretsFile().toString(),
                    Authority.notAfter(node.secrets().ca()), null));
            out.add(read("node certificate", node.path("ssl.data_dir").resolve(NodeCertificates.DIR).resolve("node.crt")));
        }
        if (node.settings().string("ssl.certificate") != null) {
            out.add(read("ssl.certificate", node.path("ssl.certificate")));
        }
        return out;
    }

    private static Entry read(String name, Path file) {
        try {
            return new Entry(name, file.toString(), Pem.certificates(Files.readString(file, StandardCharsets.US_ASCII),
                    file.toString()).get(0).getNotAfter().toInstant(), null);
        } catch (IOException | TlsException e) {
            return new Entry(name, file.toString(), null, Files.exists(file) ? "unreadable: " + e.getMessage()
                    : "not issued yet");
        }
    }

    /**
     * The warnings {@code status} prints for a /status {@code certificates} list: one line per certificate that
     * expires within {@link #WARN_BEFORE} or has expired; {@code reconfigure} is this node's reconfigure command as
     * the operator can paste it.
     */
    public static List<String> warnings(List<Entry> entries, Instant now, String reconfigure) {
        List<String> out = new ArrayList<>();
        for (Entry e : entries) {
            if (e.notAfter() == null) {
                continue;
            }
            String date = e.notAfter().atZone(ZoneOffset.UTC).toLocalDate().toString();
            if (!e.notAfter().isAfter(now)) {
                out.add(e.name() + " " + e.file() + " expired on " + date + ": " + remedy(e.name(), reconfigure));
            } else if (e.notAfter().isBefore(now.plus(WARN_BEFORE))) {
                long days = Duration.between(now, e.notAfter()).toDays();
                out.add(e.name() + " " + e.file() + " expires on " + date + " (in " + days + (days == 1 ? " day" : " days")
                        + "): " + remedy(e.name(), reconfigure));
            }
        }
        return out;
    }

    private static String remedy(String name, String reconfigure) {
        return switch (name) {
            case "cluster CA" -> "see docs/SECURITY.md, \"Certificates\"";
            case "node certificate" -> reconfigure + " issues a new one";
            default -> "replace the file ssl.certificate names and run " + reconfigure;
        };
    }
}
