package org.chefbackend.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VersionManifestTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String ZIP = "org.opensearch.distribution.integ-test-zip:opensearch:2.19.1:zip";

    @TempDir
    Path tmp;

    @Test
    void aJarIsNamedByTheCoordinatesItRecordsElseByItsFileName() throws IOException {
        Path jar = jar(tmp.resolve("jackson-core-2.17.2.jar"), "com.fasterxml.jackson.core", "jackson-core", "2.17.2");
        assertEquals(new VersionManifest.JarIdentity("com.fasterxml.jackson.core", "jackson-core", "2.17.2"),
                VersionManifest.identify(jar));
        // a shaded jar's pom.properties of another library do not name it
        Path shaded = jar(tmp.resolve("picocli-4.7.6.jar"), "org.other", "embedded", "9.9");
        assertEquals(new VersionManifest.JarIdentity(null, "picocli", "4.7.6"), VersionManifest.identify(shaded));
        String[][] names = {
            {"postgresql-42.7.4.jar", "postgresql", "42.7.4"},
            {"jetty-server-12.0.39.jar", "jetty-server", "12.0.39"},
            {"chef-backend-0.1.0-SNAPSHOT.jar", "chef-backend", "0.1.0-SNAPSHOT"},
            {"netty-codec-4.1.118.Final.jar", "netty-codec", "4.1.118.Final"},
            {"chef-backend.jar", "chef-backend", "unknown"},
        };
        for (String[] row : names) {
            assertEquals(new VersionManifest.JarIdentity(null, row[1], row[2]), VersionManifest.fromFileName(row[0]),
                    row[0]);
        }
    }

    @Test
    void theManifestListsWhatTheDistributionHoldsAndWhatDebianMustSupply() throws IOException {
        Path dist = tmp.resolve("dist");
        Path lib = Files.createDirectories(dist.resolve("lib"));
        jar(lib.resolve("chef-backend.jar"), "org.chefbackend", "chef-backend", "0.1.0-SNAPSHOT");
        jar(lib.resolve("jackson-core-2.17.2.jar"), "com.fasterxml.jackson.core", "jackson-core", "2.17.2");
        jar(lib.resolve("picocli-4.7.6.jar"), null, null, null);
        Files.writeString(lib.resolve("ctl.jsa"), "archive");
        Path opensearch = dist.resolve("opensearch");
        jar(Files.createDirectories(opensearch.resolve("lib")).resolve("opensearch-2.19.1.jar"), null, null, null);
        Files.createDirectories(opensearch.resolve("modules/transport-netty4"));
        jar(Files.createDirectories(opensearch.resolve("modules/reindex")).resolve("reindex-client-2.19.1.jar"),
                null, null, null);
        Path zip = Files.createDirectories(tmp.resolve("unpacked/modules/transport-netty4")).getParent().getParent();

        JsonNode m = JSON.valueToTree(VersionManifest.describe(dist, zip, ZIP));

        assertEquals(2, m.path("manifest_format").asInt());
        assertEquals(Distribution.version(), m.path("build_version").asText());
        assertEquals(List.of("opensearch", "chef-backend", "jackson-core", "picocli", "ctl.jsa"), keys(m.path("software")));
        JsonNode os = m.at("/software/opensearch");
        assertEquals("2.19.1", os.path("locked_version").asText());
        assertEquals("Maven Central: " + ZIP + ", with the modules reindex (modules_added)", os.path("source").asText());
        assertEquals(List.of("reindex"), keys(os.path("modules_added")), "the zip's own modules are not added ones");
        assertEquals("0.1.0-SNAPSHOT", m.at("/software/chef-backend/locked_version").asText());
        assertEquals("this build", m.at("/software/chef-backend/source").asText());
        assertEquals("Maven Central: com.fasterxml.jackson.core:jackson-core:2.17.2",
                m.at("/software/jackson-core/source").asText());
        assertEquals("lib/picocli-4.7.6.jar", m.at("/software/picocli/path").asText());
        assertEquals("4.7.6", m.at("/software/picocli/locked_version").asText());
        assertEquals("lib/ctl.jsa", m.at("/software/ctl.jsa/path").asText());
        m.path("software").forEach(s -> assertTrue(s.path("bundled").asBoolean(), s.toString()));
        assertEquals(List.of("postgresql-15", "etcd-server", "etcd-client", "java17-runtime-headless", "pgbackrest"),
                keys(m.path("requires")));
        m.path("requires").forEach(r -> {
            assertFalse(r.path("bundled").asBoolean(true), r.toString());
            assertTrue(r.path("version_constraint").asText().startsWith(">= "), r.toString());
        });
        assertEquals(">= 15, < 16", m.at("/requires/postgresql-15/version_constraint").asText());
    }

    @Test
    void mainWritesTheManifestAtTheRootAndReadFindsIt() throws IOException {
        Path dist = tmp.resolve("dist");
        jar(Files.createDirectories(dist.resolve("lib")).resolve("chef-backend.jar"), "org.chefbackend",
                "chef-backend", "1.2.3");
        jar(Files.createDirectories(dist.resolve("opensearch/lib")).resolve("opensearch-2.19.1.jar"), null, null, null);
        VersionManifest.main(new String[] {dist.toString(), tmp.resolve("none").toString(), ZIP});
        VersionManifest.Result read = VersionManifest.read(dist);
        assertNull(read.problem());
        assertEquals(dist.resolve("version-manifest.json"), read.file());
        assertEquals("1.2.3", read.manifest().at("/software/chef-backend/locked_version").asText());
    }

    @Test
    void aMissingOrBrokenManifestIsOneLineNotAnException() throws IOException {
        VersionManifest.Result missing = VersionManifest.read(tmp);
        assertNull(missing.manifest());
        assertEquals("no version-manifest.json at " + tmp + " (a build tree before `mvn package`?)", missing.problem());
        Files.writeString(tmp.resolve("version-manifest.json"), "{\"software\": [");
        VersionManifest.Result broken = VersionManifest.read(tmp);
        assertNull(broken.manifest());
        assertTrue(broken.problem().startsWith("cannot read " + tmp.resolve("version-manifest.json") + ": "),
                broken.problem());
        assertEquals(1, broken.problem().lines().count(), broken.problem());
        Files.writeString(tmp.resolve("version-manifest.json"), "{\"manifest_format\": 2}");
        assertEquals(tmp.resolve("version-manifest.json") + " has no \"software\" section",
                VersionManifest.read(tmp).problem());
    }

    static List<String> keys(JsonNode node) {
        List<String> out = new ArrayList<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** A real jar; with a pom.properties when groupId is given, as Maven writes it. */
    static Path jar(Path file, String groupId, String artifactId, String version) throws IOException {
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new ZipEntry("META-INF/MANIFEST.MF"));
            zip.write("Manifest-Version: 1.0\n".getBytes(StandardCharsets.UTF_8));
            if (groupId != null) {
                zip.putNextEntry(new ZipEntry("META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties"));
                String props = String.join("\n", "groupId=" + groupId, "artifactId=" + artifactId, "version=" + version);
                zip.write(props.getBytes(StandardCharsets.UTF_8));
            }
        }
        return file;
    }
}
