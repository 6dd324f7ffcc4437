package org.chefbackend.system;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * version-manifest.json at the distribution's root: what the build bundles (the search engine, every jar in lib/,
 * the CLI's class-data archive), each read from the files actually there so it cannot drift from them, and
 * separately what it requires from Debian without bundling it. Written by {@code mvn package} ({@link #main}),
 * read by {@code chef-backend-ctl version}. The shape follows the original product's manifest: manifest_format,
 * build_version, software with locked_version and source.
 */
public final class VersionManifest {
    public static final String FILE = "version-manifest.json";
    public static final int FORMAT = 2;
    static final String CDS_ARCHIVE = "ctl.jsa";
    static final String AGENT_OPTIONS = "agent.jvm-options";
    /** copy-dependencies names a jar artifactId-version.jar. */
    static final Pattern VERSIONED_JAR = Pattern.compile("^(.+?)-(\\d[^-]*(?:-[A-Za-z0-9.]+)?)\\.jar$");
    private static final Pattern OPENSEARCH_JAR = Pattern.compile("^opensearch-(\\d[^-]*)\\.jar$");

    private VersionManifest() {
    }

    /** One jar's identity: Maven coordinates when the jar records them, else what its file name says. */
    record JarIdentity(String groupId, String artifactId, String version) {
    }

    /** Writes DIST/version-manifest.json. Arguments: DIST, the unpacked OpenSearch zip, the zip's coordinates. */
    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: VersionManifest DIST OPENSEARCH_UNPACKED_ZIP ZIP_COORDINATES");
            System.exit(2);
        }
        Path dist = Path.of(args[0]);
        Map<String, Object> manifest = describe(dist, Path.of(args[1]), args[2]);
        Path file = dist.resolve(FILE);
        Path tmp = dist.resolve(FILE + ".tmp");
        Files.writeString(tmp, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValueAsString(manifest) + "\n");
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        System.out.println("version-manifest: " + file + " (" + ((Map<?, ?>) manifest.get("software")).size()
                + " bundled, " + ((Map<?, ?>) manifest.get("requires")).size() + " from Debian)");
    }

    /** The manifest of the distribution at {@code dist}. */
    static Map<String, Object> describe(Path dist, Path unpackedZip, String zipCoordinates) throws IOException {
        Map<String, Object> software = new LinkedHashMap<>();
        software.put("opensearch", opensearch(dist.resolve("opensearch"), unpackedZip, zipCoordinates));
        Path lib = dist.resolve("lib");
        for (Path jar : list(lib, ".jar")) {
            JarIdentity id = identify(jar);
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("locked_version", id.version());
            boolean ours = id.artifactId().equals("chef-backend");
            entry.put("source", ours ? "this build" : id.groupId() == null ? "Maven Central"
                    : "Maven Central: " + id.groupId() + ":" + id.artifactId() + ":" + id.version());
            entry.put("path", dist.relativize(jar).toString());
            entry.put("bundled", true);
            // two versions of one library (ProductJarsIT forbids it) would both show, under their file names
            software.put(software.containsKey(id.artifactId()) ? jar.getFileName().toString() : id.artifactId(), entry);
        }
        buildFile(software, lib, CDS_ARCHIVE, "this build: class-data archive of chef-backend-ctl's classes"
                + " (src/build/cds-archive.sh); a JVM it does not match ignores it");
        buildFile(software, lib, AGENT_OPTIONS, "this build: the node agent's JVM options (chef-backend-ctl agent,"
                + " chef-backend.service)");
        Map<String, Object> requires = new LinkedHashMap<>();
        for (DebianComponents.Required r : DebianComponents.REQUIRED) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("version_constraint", r.versionConstraint());
            entry.put("source", "Debian package, upgraded by apt; its version is read at run time (chef-backend-ctl version)");
            entry.put("program", r.program());
            entry.put("bundled", false);
            requires.put(r.name(), entry);
        }
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("manifest_format", FORMAT);
        manifest.put("build_version", Distribution.version());
        manifest.put("software", software);
        manifest.put("requires", requires);
        return manifest;
    }

    /** A file of lib/ that this build made rather than a library, listed when present. */
    private static void buildFile(Map<String, Object> software, Path lib, String name, String source) {
        if (Files.isRegularFile(lib.resolve(name))) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("locked_version", Distribution.version());
            entry.put("source", source);
            entry.put("path", "lib/" + name);
            entry.put("bundled", true);
            software.put(name, entry);
        }
    }

    /** The search engine: its version from its own core jar, and the modules added to the zip's. */
    private static Map<String, Object> opensearch(Path home, Path unpackedZip, String zipCoordinates) throws IOException {
        String version = list(home.resolve("lib"), ".jar").stream()
                .map(j -> OPENSEARCH_JAR.matcher(j.getFileName().toString()))
                .filter(Matcher::matches).map(m -> m.group(1)).findFirst()
                .orElseThrow(() -> new IOException("no opensearch-VERSION.jar in " + home.resolve("lib")));
        Map<String, Object> added = new LinkedHashMap<>();
        for (Path module : list(home.resolve("modules"), "")) {
            if (Files.isDirectory(module) && !Files.exists(unpackedZip.resolve("modules").resolve(module.getFileName()))) {
                added.put(module.getFileName().toString(), list(module, ".jar").stream()
                        .map(j -> j.getFileName().toString()).toList());
            }
        }
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("locked_version", version);
        entry.put("source", "Maven Central: " + zipCoordinates + ", with the modules " + String.join(", ", added.keySet())
                + " (modules_added)");
        entry.put("path", "opensearch");
        entry.put("modules_added", added);
        entry.put("bundled", true);
        return entry;
    }

    /**
     * A jar's coordinates from the pom.properties Maven put in it (the one whose artifactId its file name starts
     * with), else artifactId and version from its file name; a jar with neither is "unknown".
     */
    static JarIdentity identify(Path jar) throws IOException {
        String file = jar.getFileName().toString();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (ZipEntry e : zip.stream().filter(e -> e.getName().startsWith("META-INF/maven/")
                    && e.getName().endsWith("/pom.properties")).toList()) {
                Properties p = new Properties();
                try (InputStream in = zip.getInputStream(e)) {
                    p.load(in);
                }
                String artifact = p.getProperty("artifactId", "");
                if (!artifact.isEmpty() && (file.equals(artifact + ".jar") || file.startsWith(artifact + "-"))
                        && p.getProperty("version") != null) {
                    return new JarIdentity(p.getProperty("groupId"), artifact, p.getProperty("version"));
                }
            }
        }
        return fromFileName(file);
    }

    static JarIdentity fromFileName(String file) {
        Matcher m = VERSIONED_JAR.matcher(file);
        return m.matches() ? new JarIdentity(null, m.group(1), m.group(2))
                : new JarIdentity(null, file.replaceFirst("\\.jar$", ""), "unknown");
    }

    private static List<Path> list(Path dir, String suffix) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
        }
    }

    /** The installed manifest, or why there is none (a build tree before `mvn package`, an unreadable file). */
    public static Result read(Path dist) {
        Path file = dist.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return new Result(file, null, "no " + FILE + " at " + dist + " (a build tree before `mvn package`?)");
        }
        try {
            JsonNode doc = new ObjectMapper().readTree(file.toFile());
            if (doc == null || !doc.path("software").isObject()) {
                return new Result(file, null, file + " has no \"software\" section");
            }
            return new Result(file, doc, null);
        } catch (IOException e) {
            return new Result(file, null, "cannot read " + file + ": " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    /** @param problem why {@code manifest} is null */
    public record Result(Path file, JsonNode manifest, String problem) {
        public Optional<JsonNode> document() {
            return Optional.ofNullable(manifest);
        }
    }
}
