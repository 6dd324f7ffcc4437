package org.chefbackend.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The build assembled a search engine that runs and has the modules Chef Server's search calls need. */
class OpenSearchDistributionIT {
    static final Path HOME = Path.of(System.getProperty("chefbackend.dist", "../product/target/dist")).resolve("opensearch");

    /** module folder → class its descriptor must name. */
    static final Map<String, String> MODULES = Map.of(
            "analysis-common", "org.opensearch.analysis.common.CommonAnalysisPlugin",
            "reindex", "org.opensearch.index.reindex.ReindexPlugin",
            "lang-painless", "org.opensearch.painless.PainlessPlugin");

    @Test
    void versionRunsOnJava17() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(HOME.resolve("bin/opensearch").toString(), "--version")
                .redirectErrorStream(true);
        pb.environment().put("OPENSEARCH_JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "opensearch --version did not finish");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("Version: " + Distribution.opensearchVersion()), out);
    }

    @Test
    void modulesHaveDescriptorsAndJars() throws IOException {
        for (Map.Entry<String, String> m : MODULES.entrySet()) {
            Path dir = HOME.resolve("modules").resolve(m.getKey());
            Properties d = new Properties();
            try (Reader r = Files.newBufferedReader(dir.resolve("plugin-descriptor.properties"))) {
                d.load(r);
            }
            assertEquals(m.getKey(), d.getProperty("name"));
            assertEquals(m.getValue(), d.getProperty("classname"));
            assertEquals(Distribution.opensearchVersion(), d.getProperty("version"));
            assertEquals(Distribution.opensearchVersion(), d.getProperty("opensearch.version"));
            assertEquals("11", d.getProperty("java.version"));
            assertTrue(jars(dir).stream().anyMatch(j -> j.startsWith(m.getKey().equals("reindex") ? "reindex-client" : m.getKey())),
                    "module jar missing in " + dir);
        }
        assertEquals("lang-painless", descriptor("analysis-common").getProperty("extended.plugins"));
        assertTrue(Files.exists(HOME.resolve("modules/lang-painless/plugin-security.policy")));
        assertTrue(Files.exists(HOME.resolve("modules/reindex/plugin-security.policy")));
    }

    @Test
    void noModuleRepeatsAJarOfCore() throws IOException {
        Set<String> core = new HashSet<>();
        for (String jar : jars(HOME.resolve("lib"))) {
            core.add(artifact(jar));
        }
        for (String module : MODULES.keySet()) {
            for (String jar : jars(HOME.resolve("modules").resolve(module))) {
                assertTrue(!core.contains(artifact(jar)), module + " repeats core jar " + jar);
            }
        }
    }

    static Properties descriptor(String module) throws IOException {
        Properties d = new Properties();
        try (Reader r = Files.newBufferedReader(HOME.resolve("modules").resolve(module).resolve("plugin-descriptor.properties"))) {
            d.load(r);
        }
        return d;
    }

    static List<String> jars(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jar")).toList();
        }
    }

    /** "asm-commons-9.7.jar" → "asm-commons". */
    static String artifact(String jar) {
        return jar.replaceFirst("-\\d[^-]*(-[A-Za-z0-9]+)?\\.jar$", "");
    }
}
