package org.chefbackend.recovery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A backup's {@code manifest.json}: what made it (versions, node, role), the moment it stands for (the base backup's
 * WAL end position: the restored database holds exactly what was committed up to there) and every file's size and
 * SHA-256, so a restore proves the archive whole before it deletes anything.
 */
public final class Manifest {
    public static final String FILE = "manifest.json";
    public static final String FORMAT = "chef-backend-backup";
    public static final int FORMAT_VERSION = 1;
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Entries a usable backup cannot lack. */
    static final List<String> REQUIRED = List.of("pgsql/PG_VERSION", "pgsql/backup_label", "pgsql/global/pg_control",
            "config/chef-backend-secrets.json");

    /** size and sha256 of one file, by its path relative to the archive's top. */
    public record Entry(long size, String sha256) {
    }

    private Manifest() {
    }

    /** Every regular file under {@code top} (the manifest itself excepted), with size and checksum. */
    public static Map<String, Entry> checksums(Path top) throws IOException {
        Map<String, Entry> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(top)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                String rel = top.relativize(p).toString();
                if (rel.equals(FILE)) {
                    continue;
                }
                out.put(rel, new Entry(Files.size(p), sha256(p)));
            }
        }
        return out;
    }

    public static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
            while (in.read(buf) >= 0) {
                // digest as we go
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Writes the manifest: {@code info} (versions, node, LSNs…) plus the files' checksums. */
    public static void write(Path top, Map<String, Object> info, Map<String, Entry> files) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("format_version", FORMAT_VERSION);
        root.setAll((ObjectNode) JSON.valueToTree(info));
        ObjectNode f = root.putObject("files");
        files.forEach((k, v) -> f.putObject(k).put("size", v.size()).put("sha256", v.sha256()));
        JSON.writeValue(top.resolve(FILE).toFile(), root);
    }

    public static JsonNode read(Path top) throws IOException {
        Path file = top.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new IOException("the archive has no " + FILE + "; it is not a chef-backend backup");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(FILE + " is damaged: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (!FORMAT.equals(root.path("format").asText()) || root.path("format_version").asInt() != FORMAT_VERSION) {
            throw new IOException(FILE + " is not a chef-backend backup manifest of format " + FORMAT_VERSION);
        }
        return root;
    }

    /**
     * Compares what was unpacked under {@code top} with the manifest: every listed file present with its size and
     * checksum, nothing unlisted, the required entries there. Returns the problems (empty when the backup is whole).
     */
    public static List<String> verify(Path top, JsonNode manifest) throws IOException {
        List<String> problems = new ArrayList<>();
        Map<String, Entry> actual = checksums(top);
        JsonNode files = manifest.path("files");
        for (String required : REQUIRED) {
            if (!files.has(required)) {
                problems.add("the manifest lists no " + required);
            }
        }
        for (var it = files.fields(); it.hasNext(); ) {
            var e = it.next();
            Entry a = actual.get(e.getKey());
            if (a == null) {
                problems.add("missing " + e.getKey());
            } else if (a.size() != e.getValue().path("size").asLong()) {
                problems.add(e.getKey() + " has " + a.size() + " bytes, the manifest says " + e.getValue().path("size").asLong());
            } else if (!a.sha256().equals(e.getValue().path("sha256").asText())) {
                problems.add(e.getKey() + " does not match its checksum");
            }
        }
        for (String name : actual.keySet()) {
            if (!files.has(name)) {
                problems.add("unlisted file " + name);
            }
        }
        return problems;
    }
}
