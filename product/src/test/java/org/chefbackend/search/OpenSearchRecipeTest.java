package org.chefbackend.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.chefbackend.agent.Change;
import org.chefbackend.agent.Launch;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.Settings;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OpenSearchRecipeTest {
    static final MachineFacts MACHINE = new MachineFacts(8L * 1024 * 1024 * 1024, "n1");
    static final Secrets SECRETS = Secrets.generate(new SecureRandom());
    static final ObjectMapper JSON = new ObjectMapper();
    static final String BASE = "publish_address '127.0.0.22'\nelasticsearch.heap_size = 512\n";

    /** The lines of OpenSearch 2.19.1's config/jvm.options that the rendering rewrites, in their order. */
    static final String JVM_TEMPLATE = """
            ## JVM configuration
            ## -Xms4g
            -Xms1g
            -Xmx1g
            11-:-XX:+UseG1GC
            -Djava.io.tmpdir=${OPENSEARCH_TMPDIR}
            -XX:+HeapDumpOnOutOfMemoryError
            -XX:HeapDumpPath=data
            -XX:ErrorFile=logs/hs_err_pid%p.log
            8:-Xloggc:logs/gc.log
            9-:-Xlog:gc*,gc+age=trace,safepoint:file=logs/gc.log:utctime,pid,tags:filecount=32,filesize=64m
            18-:-Djava.security.manager=allow
            """;

    @TempDir
    Path tmp;
    Path home;
    Path root;
    OpenSearchRecipe recipe;

    @BeforeEach
    void distribution() throws IOException {
        home = tmp.resolve("opensearch");
        Files.createDirectories(home.resolve("config"));
        Files.writeString(home.resolve("config/jvm.options"), JVM_TEMPLATE);
        Files.writeString(home.resolve("config/log4j2.properties"), "status = error\n");
        root = tmp.resolve("node");
        recipe = new OpenSearchRecipe(home);
    }

    NodeContext node(String rb) {
        Settings settings = Settings.from(ChefBackendRbParser.parse("t.rb", BASE + rb), MACHINE);
        return new NodeContext(settings, new NodePaths(root), "os-test", "0123456789abcdef0123456789abcdef", SECRETS);
    }

    /** opensearch.yml as key → JSON value (every value is written as JSON). */
    static Map<String, JsonNode> yml(String text) throws IOException {
        Map<String, JsonNode> m = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(": ");
            m.put(line.substring(0, colon), JSON.readTree(line.substring(colon + 2)));
        }
        return m;
    }

    Map<String, JsonNode> writtenYml(NodeContext n) throws IOException {
        return yml(Files.readString(OpenSearchRecipe.configDir(n).resolve("opensearch.yml")));
    }

    @Test
    void everyOptionReachesOpensearchYml() throws IOException {
        NodeContext n = node("elasticsearch.port = 9201\nelasticsearch.data_dir = '/srv/es/data'\n"
                + "elasticsearch.log_directory = '/srv/es/log'\n");
        Map<String, JsonNode> y = yml(recipe.render(n, List.of("127.0.0.22:9300"), false).opensearchYml());
        assertEquals(SECRETS.elasticsearchClusterName(), y.get("cluster.name").asText());
        assertEquals("os-test", y.get("node.name").asText());
        assertEquals("127.0.0.22", y.get("network.host").asText());
        assertEquals(9201, y.get("http.port").asInt());
        assertEquals(9300, y.get("transport.port").asInt());
        assertEquals(root.resolve("srv/es/data").toString(), y.get("path.data").asText());
        assertEquals(root.resolve("srv/es/log").toString(), y.get("path.logs").asText());
        assertEquals("[\"127.0.0.22:9300\"]", y.get("discovery.seed_hosts").toString());
        assertTrue(y.get("compatibility.override_main_response_version").asBoolean());
        assertFalse(y.get("bootstrap.memory_lock").asBoolean());
        assertEquals("2s", y.get("cluster.fault_detection.leader_check.timeout").asText());
        assertEquals(2, y.get("cluster.fault_detection.leader_check.retry_count").asInt());
        assertEquals("2s", y.get("cluster.fault_detection.follower_check.timeout").asText());
        assertEquals(2, y.get("cluster.fault_detection.follower_check.retry_count").asInt());
        assertEquals("5s", y.get("cluster.publish.timeout").asText());
        assertFalse(y.containsKey(OpenSearchRecipe.BOOTSTRAP_SETTING));
        // Settings OpenSearch 2 would reject at startup (scripts) or does not have (plugins).
        assertFalse(y.containsKey("path.scripts"));
        assertFalse(y.containsKey("path.plugins"));
    }

    @Test
    void defaultsAreTheDocumentedPaths() throws IOException {
        Map<String, JsonNode> y = yml(recipe.render(node(""), List.of("127.0.0.22:9300"), true).opensearchYml());
        assertEquals(9200, y.get("http.port").asInt());
        assertEquals(root.resolve("var/opt/chef-backend/elasticsearch/data").toString(), y.get("path.data").asText());
        assertEquals(root.resolve("var/log/chef-backend/elasticsearch").toString(), y.get("path.logs").asText());
        assertEquals("[\"os-test\"]", y.get(OpenSearchRecipe.BOOTSTRAP_SETTING).toString());
    }

    @Test
    void bootstrapsOnlyANewNodeThatKnowsNoOtherMember() throws IOException {
        NodeContext n = node("");
        assertEquals(Change.RESTART, recipe.configure(n));
        assertEquals("[\"os-test\"]", writtenYml(n).get(OpenSearchRecipe.BOOTSTRAP_SETTING).toString());
        assertEquals("[\"127.0.0.22:9300\"]", writtenYml(n).get("discovery.seed_hosts").toString());

        // Once the node has data it has been in a cluster: the line goes, and that alone needs no restart.
        Path data = n.path("elasticsearch.data_dir");
        Files.createDirectories(data.resolve("nodes"));
        assertEquals(Change.NONE, recipe.configure(n));
        assertFalse(writtenYml(n).containsKey(OpenSearchRecipe.BOOTSTRAP_SETTING));
    }

    @Test
    void seedHostsFileJoinsAnExistingClusterInsteadOfBootstrapping() throws IOException {
        NodeContext n = node("");
        Files.createDirectories(OpenSearchRecipe.seedHostsFile(n).getParent());
        Files.writeString(OpenSearchRecipe.seedHostsFile(n), "# members\n127.0.0.2:9300\n127.0.0.22:9300\n\n");
        recipe.configure(n);
        Map<String, JsonNode> y = writtenYml(n);
        assertEquals("[\"127.0.0.22:9300\",\"127.0.0.2:9300\"]", y.get("discovery.seed_hosts").toString());
        assertFalse(y.containsKey(OpenSearchRecipe.BOOTSTRAP_SETTING));
    }

    @Test
    void seedHostsComeFromTheLiveMemberListAndReachARunningNodeWithoutARestart() throws IOException {
        // the first node: it created the cluster, so it knew only itself, until the others joined
        NodeContext n = node("");
        recipe.configure(n);
        assertEquals("file", writtenYml(n).get("discovery.seed_providers").asText());
        Path unicast = OpenSearchRecipe.configDir(n).resolve(OpenSearchRecipe.UNICAST_HOSTS_FILE);
        assertEquals(List.of("127.0.0.22:9300"), Files.readAllLines(unicast));

        // members joined: the agent refreshes the list; this node is always in it, even if the list lacks it
        assertTrue(OpenSearchRecipe.refreshSeedHosts(n, List.of("127.0.0.3:9300", "127.0.0.4:9300")));
        assertEquals(List.of("127.0.0.22:9300", "127.0.0.3:9300", "127.0.0.4:9300"), Files.readAllLines(unicast),
                "OpenSearch re-reads this file at every discovery round");
        assertFalse(OpenSearchRecipe.refreshSeedHosts(n, List.of("127.0.0.4:9300", "127.0.0.3:9300", "127.0.0.22:9300")),
                "the same members in another order change nothing");

        // the next start (or reconfigure) renders the same list into opensearch.yml, and needs no restart for it
        Files.createDirectories(n.path("elasticsearch.data_dir").resolve("nodes"));
        assertEquals(Change.NONE, recipe.configure(n));
        assertEquals("[\"127.0.0.22:9300\",\"127.0.0.3:9300\",\"127.0.0.4:9300\"]",
                writtenYml(n).get("discovery.seed_hosts").toString());
        assertFalse(writtenYml(n).containsKey(OpenSearchRecipe.BOOTSTRAP_SETTING));
    }

    @Test
    void heapFlagsReplaceTheDistributionsAndPathsBecomeAbsolute() {
        NodeContext n = node("elasticsearch.new_size = 64\n");
        List<String> lines = OpenSearchRecipe.jvmOptions(n, JVM_TEMPLATE).lines().toList();
        assertTrue(lines.containsAll(List.of("-Xms512m", "-Xmx512m", "-Xmn64m")), lines.toString());
        assertFalse(lines.contains("-Xms1g") || lines.contains("-Xmx1g"));
        assertTrue(lines.contains("## -Xms4g"), "comments stay");
        // heap flags sit where the distribution had them, before the GC settings
        assertTrue(lines.indexOf("-Xmn64m") < lines.indexOf("11-:-XX:+UseG1GC"));
        String data = n.path("elasticsearch.data_dir").toString();
        String logs = n.logDirectory("elasticsearch").toString();
        assertTrue(lines.contains("-XX:HeapDumpPath=" + data));
        assertTrue(lines.contains("-XX:ErrorFile=" + logs + "/hs_err_pid%p.log"));
        assertTrue(lines.contains("8:-Xloggc:" + logs + "/gc.log"));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("9-:-Xlog:gc*") && l.contains("file=" + logs + "/gc.log:")));
        assertTrue(lines.contains("-Djava.io.tmpdir=${OPENSEARCH_TMPDIR}"), "the launcher substitutes it");
        assertFalse(lines.stream().anyMatch(l -> !l.startsWith("#") && (l.contains("logs/gc") || l.endsWith("=data"))));
        assertFalse(OpenSearchRecipe.jvmOptions(node(""), JVM_TEMPLATE).contains("-Xmn"), "no new_size, no -Xmn");
    }

    @Test
    void javaOptsAndJvmOptsComeLastSoTheirHeapWins() {
        NodeContext n = node("elasticsearch.java_opts = '-Xmx2g  -Dchef.a=1'\n"
                + "elasticsearch.jvm_opts = ['-Xms2g', '-XX:+AlwaysPreTouch -Dchef.b=2']\n");
        List<String> lines = OpenSearchRecipe.jvmOptions(n, JVM_TEMPLATE).lines().toList();
        List<String> tail = lines.subList(lines.size() - 5, lines.size());
        assertEquals(List.of("-Xmx2g", "-Dchef.a=1", "-Xms2g", "-XX:+AlwaysPreTouch", "-Dchef.b=2"), tail);
        assertTrue(lines.indexOf("-Xmx512m") < lines.lastIndexOf("-Xmx2g"));
        String lastXmx = lines.stream().filter(l -> l.startsWith("-Xmx")).reduce((a, b) -> b).orElseThrow();
        assertEquals("-Xmx2g", lastXmx); // the JVM takes the last one
    }

    @Test
    void aWordThatIsNotAFlagIsRefusedBeforeOpenSearchSeesIt() {
        NodeContext n = node("elasticsearch.java_opts = '-Xmx1g oops'\n");
        ServiceSetupException e = assertThrows(ServiceSetupException.class,
                () -> OpenSearchRecipe.jvmOptions(n, JVM_TEMPLATE));
        assertTrue(e.getMessage().contains("'oops'"), e.getMessage());
    }

    @Test
    void changeDetection() throws IOException {
        NodeContext n = node("");
        Path conf = OpenSearchRecipe.configDir(n);
        assertEquals(Change.RESTART, recipe.configure(n));
        for (String f : OpenSearchRecipe.CONFIG_FILES) {
            assertTrue(Files.isRegularFile(conf.resolve(f)), f);
        }
        assertTrue(Files.isDirectory(conf.resolve("jvm.options.d")));
        assertEquals("status = error\n", Files.readString(conf.resolve("log4j2.properties")));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(conf.resolve("opensearch.yml"))));

        long mtime = Files.getLastModifiedTime(conf.resolve("jvm.options")).toMillis();
        assertEquals(Change.NONE, recipe.configure(n));
        assertEquals(mtime, Files.getLastModifiedTime(conf.resolve("jvm.options")).toMillis(), "unchanged files are not rewritten");

        assertEquals(Change.RESTART, recipe.configure(node("elasticsearch.heap_size = 1024\n")));  // jvm.options
        assertTrue(Files.readString(conf.resolve("jvm.options")).contains("-Xmx1024m"));
        assertEquals(Change.RESTART, recipe.configure(node("elasticsearch.heap_size = 1024\nelasticsearch.port = 9201\n")));
        assertEquals(Change.NONE, recipe.configure(node("elasticsearch.heap_size = 1024\nelasticsearch.port = 9201\n")));
        assertEquals(Change.RESTART, recipe.configure(node("elasticsearch.heap_size = 1024\nelasticsearch.port = 9201\n"
                + "elasticsearch.java_opts = '-Dx=1'\n")));
        assertEquals(Change.RESTART, OpenSearchRecipe.write(conf.resolve("opensearch.yml"), "x: 1\n", s -> s));
    }

    @Test
    void launchRunsTheDistributionsScriptWithThisNodesConfig() {
        NodeContext n = node("elasticsearch.environment = { 'CHEF_TEST' => 'yes' }\n");
        Launch l = recipe.launch(n);
        assertEquals(List.of(home.resolve("bin/opensearch").toString()), l.command());
        assertEquals("chef-backend", l.user());
        assertEquals(OpenSearchRecipe.configDir(n).toString(), l.environment().get("OPENSEARCH_PATH_CONF"));
        assertEquals(root.resolve("var/opt/chef-backend/elasticsearch/tmp").toString(), l.environment().get("OPENSEARCH_TMPDIR"));
        assertEquals("yes", l.environment().get("CHEF_TEST"));
        Path java = Path.of(l.environment().get("OPENSEARCH_JAVA_HOME"));
        assertTrue(Files.isExecutable(java.resolve("bin/java")), java.toString());
        assertEquals("/opt/jdk", recipe.launch(node("elasticsearch.environment = { 'OPENSEARCH_JAVA_HOME' => '/opt/jdk' }\n"))
                .environment().get("OPENSEARCH_JAVA_HOME"), "the operator's choice wins");
        assertEquals(List.of(new InetSocketAddress("127.0.0.22", 9200), new InetSocketAddress("127.0.0.22", 9300)),
                recipe.listenAddresses(n));
        assertEquals("elasticsearch", recipe.name());
    }

    @Test
    void findsAJava17AndSkipsRuntimesOpenSearchCannotRunOn() throws IOException {
        Path jvm = tmp.resolve("jvm");
        fakeJava(jvm.resolve("temurin-25-jdk-amd64"), "25.0.3");
        fakeJava(jvm.resolve("java-8"), "1.8.0_412");
        assertEquals(Optional.empty(), OpenSearchRecipe.findJava(jvm));
        fakeJava(jvm.resolve("java-21-openjdk-amd64"), "21.0.4");
        fakeJava(jvm.resolve("java-17-openjdk-amd64"), "17.0.15");
        Files.createDirectories(jvm.resolve("openjdk-17"));   // sources only, no bin/java
        assertEquals(Optional.of(jvm.resolve("java-17-openjdk-amd64")), OpenSearchRecipe.findJava(jvm));
        assertEquals(8, OpenSearchRecipe.featureVersion(jvm.resolve("java-8")));
        assertEquals(Optional.empty(), OpenSearchRecipe.findJava(tmp.resolve("none")));
    }

    static void fakeJava(Path javaHome, String version) throws IOException {
        Files.createDirectories(javaHome.resolve("bin"));
        Path java = Files.writeString(javaHome.resolve("bin/java"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(javaHome.resolve("release"), "IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"" + version + "\"\n");
    }

    @Test
    void ipv6TransportAddressesAreBracketed() {
        NodeContext n = new NodeContext(Settings.from(ChefBackendRbParser.parse("t.rb",
                "publish_address '::1'\n"), MACHINE), new NodePaths(root), "os-test", "0".repeat(32), SECRETS);
        assertEquals("[::1]:9300", OpenSearchRecipe.transportAddress(n));
    }
}
