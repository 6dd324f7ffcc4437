package org.chefbackend.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * What `mvn package` assembles for a node to install holds the product only: no benchmark or fault-injection class
 * and none of their libraries, and one version of every library.
 */
class ProductJarsIT {
    static final Path LIB = Path.of(System.getProperty("chefbackend.dist", "../product/target/dist")).resolve("lib");
    /** Class prefixes of the harnesses and their libraries (xchart draws the benchmark's charts). */
    static final List<String> FOREIGN = List.of("org/chefbackend/bench/", "org/chefbackend/chaos/",
            "org/chefbackend/faults/", "org/knowm/");
    static final Pattern VERSIONED = Pattern.compile("^(.+?)-(\\d[^-]*(?:-[A-Za-z]+)?)\\.jar$");

    @Test
    void noHarnessClassAndNoHarnessLibrary() throws IOException {
        List<Path> jars = jars();
        assertTrue(jars.stream().anyMatch(j -> j.getFileName().toString().equals("chef-backend.jar")),
                "no chef-backend.jar in " + LIB);
        List<String> foreign = new ArrayList<>();
        int classes = 0;
        for (Path jar : jars) {
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                for (ZipEntry e : zip.stream().toList()) {
                    classes += e.getName().endsWith(".class") ? 1 : 0;
                    if (FOREIGN.stream().anyMatch(e.getName()::startsWith)) {
                        foreign.add(jar.getFileName() + "!" + e.getName());
                    }
                }
            }
        }
        assertTrue(classes > 1000, "too few classes to be believed: " + classes);
        assertEquals(List.of(), foreign.stream().limit(10).toList(), "harness classes in the product's jars");
    }

    @Test
    void oneVersionOfEveryLibrary() throws IOException {
        Map<String, TreeSet<String>> versions = new TreeMap<>();
        for (Path jar : jars()) {
            Matcher m = VERSIONED.matcher(jar.getFileName().toString());
            if (m.matches()) {
                versions.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add(m.group(2));
            }
        }
        assertTrue(versions.size() > 5, "too few versioned jars to be believed: " + versions);
        Map<String, TreeSet<String>> many = new TreeMap<>(versions);
        many.values().removeIf(v -> v.size() == 1);
        assertEquals(Map.of(), many, "libraries present in more than one version");
        // a family's jars share one version (Netty once came as 4.1.110 and 4.1.118 side by side)
        TreeSet<String> netty = new TreeSet<>();
        versions.forEach((name, v) -> {
            if (name.startsWith("netty-") && !name.startsWith("netty-tcnative")) {
                netty.addAll(v);
            }
        });
        assertTrue(netty.size() <= 1, "Netty jars of several versions: " + netty);
    }

    /** `mvn package` wrote version-manifest.json from what lib/ holds now: every file there, with its version. */
    @Test
    void versionManifestListsEveryFileInLibAndTheDebianPackagesAsNotBundled() throws IOException {
        VersionManifest.Result read = VersionManifest.read(LIB.getParent());
        assertEquals(null, read.problem());
        JsonNode software = read.manifest().path("software");
        Map<String, String> listed = new TreeMap<>();
        software.forEach(s -> listed.put(s.path("path").asText(), s.path("locked_version").asText()));
        TreeSet<String> inLib = new TreeSet<>();
        try (Stream<Path> s = Files.list(LIB)) {
            s.forEach(p -> inLib.add("lib/" + p.getFileName()));
        }
        inLib.forEach(f -> assertTrue(listed.containsKey(f), f + " is not in the manifest: " + listed.keySet()));
        listed.forEach((path, version) -> {
            assertTrue(path.equals("opensearch") || inLib.contains(path), path + " is listed but not in lib/");
            assertTrue(version.matches("\\d+\\.\\d+.*"), path + ": " + version);
        });
        assertEquals(Distribution.opensearchVersion(), software.at("/opensearch/locked_version").asText());
        assertEquals(Distribution.version(), software.at("/chef-backend/locked_version").asText());
        assertEquals(List.of("analysis-common", "lang-painless", "reindex"),
                names(software.at("/opensearch/modules_added")));
        JsonNode requires = read.manifest().path("requires");
        assertEquals(List.of("postgresql-15", "etcd-server", "etcd-client", "java17-runtime-headless", "pgbackrest"),
                names(requires));
        requires.forEach(r -> assertEquals(false, r.path("bundled").asBoolean(true), r.toString()));
    }

    static List<String> names(JsonNode object) {
        List<String> out = new ArrayList<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }

    static List<Path> jars() throws IOException {
        assertTrue(Files.isDirectory(LIB), "no distribution at " + LIB + " (run mvn package)");
        try (Stream<Path> s = Files.list(LIB)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
        }
    }
}
