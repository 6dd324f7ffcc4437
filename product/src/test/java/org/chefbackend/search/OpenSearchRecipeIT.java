package org.chefbackend.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.chefbackend.agent.Change;
import org.chefbackend.agent.Launch;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.Settings;
import org.chefbackend.system.FileTrees;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A real OpenSearch node set up by the recipe, run as chef-backend, answering Chef Server's exact search calls
 * (index creation at reconfigure, bulk indexing, queries, purge). Needs root (it creates the user and switches to it).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OpenSearchRecipeIT {
    static final Path ROOT = Path.of("/tmp/cbt-os");
    static final String ADDRESS = "127.0.0.22";
    static final URI BASE = URI.create("http://" + ADDRESS + ":9200");
    static final Duration START_DEADLINE = Duration.ofSeconds(120);
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    static final OpenSearchRecipe RECIPE = new OpenSearchRecipe();
    static NodeContext node;
    static Process process;
    static Path output;
    static Change firstPrepare;

    @BeforeAll
    static void start() throws Exception {
        FileTrees.deleteTree(ROOT);
        Files.createDirectories(ROOT);
        Settings settings = Settings.from(ChefBackendRbParser.parse("t.rb",
                "publish_address '" + ADDRESS + "'\nelasticsearch.heap_size = 512\n"), MachineFacts.detect());
        node = new NodeContext(settings, new NodePaths(ROOT), "os-it", "0123456789abcdef0123456789abcdef",
                Secrets.generate(new SecureRandom()));
        firstPrepare = RECIPE.prepare(node);

        Launch launch = RECIPE.launch(node);
        // What the supervisor does: a minimal environment, the launch's variables, the service user.
        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=" + launch.user(),
                "--regid=" + launch.user(), "--init-groups", "--"));
        command.addAll(launch.command());
        output = ROOT.resolve("opensearch.out");
        ProcessBuilder pb = new ProcessBuilder(command).directory(launch.workingDirectory().toFile())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        pb.environment().put("LANG", "C.UTF-8");
        pb.environment().putAll(launch.environment());
        long t0 = System.nanoTime();
        process = pb.start();
        process.getOutputStream().close();

        long deadline = t0 + START_DEADLINE.toNanos();
        while (true) {
            if (!process.isAlive()) {
                fail("OpenSearch exited with " + process.exitValue() + ":\n" + tail(output));
            }
            try {
                if (HTTP.send(request("/").timeout(Duration.ofSeconds(2)).GET().build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                    break;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                fail("OpenSearch did not answer within " + START_DEADLINE + ":\n" + tail(output));
            }
            process.waitFor(250, TimeUnit.MILLISECONDS); // poll interval; returns at once if it dies
        }
        System.out.printf("OpenSearch answered GET / after %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    @AfterAll
    static void stop() throws Exception {
        if (process == null) {
            return;
        }
        process.destroy(); // SIGTERM to the pid we started (setpriv and the script exec'd: it is the JVM)
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly(); // SIGKILL, same pid
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @Order(1)
    void reportsElasticsearch7AndRunsAsChefBackend() throws Exception {
        assertEquals(Change.RESTART, firstPrepare);
        JsonNode root = JSON.readTree(call("GET", "/", null, null).body());
        assertEquals("7.10.2", root.path("version").path("number").asText(), root.toString());
        assertEquals(node.secrets().elasticsearchClusterName(), root.path("cluster_name").asText());
        assertEquals("os-it", root.path("name").asText());

        long pid = process.pid();
        String cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
        assertTrue(cmdline.contains("org.opensearch.bootstrap.OpenSearch"), "the pid is the JVM's: " + cmdline);
        String uid = Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
                .filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow().split("\\s+")[1];
        assertEquals(id("-u", "chef-backend"), uid);
        assertFalse(uid.equals("0"));
    }

    @Test
    @Order(2)
    void dataAndLogsGoWhereConfigured() throws Exception {
        Path data = ROOT.resolve("var/opt/chef-backend/elasticsearch/data");
        Path logs = ROOT.resolve("var/log/chef-backend/elasticsearch");
        assertTrue(Files.isDirectory(data.resolve("nodes")), "path.data holds the node");
        assertTrue(Files.isRegularFile(logs.resolve(node.secrets().elasticsearchClusterName() + ".log")));
        assertTrue(Files.isRegularFile(logs.resolve("gc.log")), "jvm.options' gc log is in the log directory");
        assertTrue(Files.exists(ROOT.resolve("var/opt/chef-backend/elasticsearch/config/opensearch.keystore")));
        JsonNode settings = JSON.readTree(call("GET", "/_nodes/_local/settings?flat_settings=true", null, null).body())
                .path("nodes").elements().next().path("settings");
        JsonNode pathData = settings.path("path.data");
        assertEquals(data.toString(), pathData.isArray() ? pathData.get(0).asText() : pathData.asText(), settings.toString());
        assertEquals(logs.toString(), settings.path("path.logs").asText());
        assertEquals(ROOT.resolve("var/opt/chef-backend/elasticsearch/tmp").toString(), jvmArgument("-Djava.io.tmpdir="));
        JsonNode jvm = JSON.readTree(call("GET", "/_nodes/_local/jvm", null, null).body()).path("nodes").elements().next();
        assertEquals(512L * 1024 * 1024, jvm.path("jvm").path("mem").path("heap_max_in_bytes").asLong(), "heap_size 512");
    }

    @Test
    @Order(3)
    void aSecondPrepareOfTheRunningNodeChangesNothing() throws Exception {
        assertEquals(Change.NONE, RECIPE.prepare(node));
        String yml = Files.readString(OpenSearchRecipe.configDir(node).resolve("opensearch.yml"));
        assertFalse(yml.contains(OpenSearchRecipe.BOOTSTRAP_SETTING), "the node has data: no bootstrap any more");
    }

    @Test
    @Order(4)
    void chefServersSearchCalls() throws Exception {
        // the index as chef-server-ctl reconfigure creates it for Elasticsearch 7 (1 shard, 0 replicas: one node).
        String index = """
                {"settings":{"analysis":{"analyzer":{"default":{"type":"whitespace"}}},
                             "number_of_shards":1,"number_of_replicas":0},
                 "mappings":{"_source":{"enabled":false},
                             "properties":{
                               "X_CHEF_database_CHEF_X":{"type":"keyword","index":true,"norms":false},
                               "X_CHEF_type_CHEF_X":{"type":"keyword","index":true,"norms":false},
                               "X_CHEF_id_CHEF_X":{"type":"keyword","index":true,"norms":false},
                               "data_bag":{"type":"keyword","index":true,"norms":false},
                               "content":{"type":"text","index":true}}}}""";
        assertEquals(404, call("GET", "/chef", null, null).statusCode());
        HttpResponse<String> created = call("PUT", "/chef", index, "application/json");
        assertEquals(200, created.statusCode(), created.body());
        assertEquals(200, call("GET", "/chef", null, null).statusCode());

        // erchef's indexing: typeless bulk index actions, flattened content.
        String bulk = doc("a1", "chef_org1", "node", "name__=__web1 role__=__base")
                + doc("a2", "chef_org1", "node", "name__=__web2")
                + doc("a3", "chef_org1", "role", "name__=__web3");
        HttpResponse<String> bulked = call("POST", "/_bulk", bulk, "application/x-ndjson");
        assertEquals(200, bulked.statusCode(), bulked.body());
        assertFalse(JSON.readTree(bulked.body()).path("errors").asBoolean(), bulked.body());
        assertEquals(200, call("POST", "/_refresh", null, "application/json").statusCode());

        // erchef's query: GET with a body; the type filter leaves the role out.
        assertEquals(List.of("a1", "a2"), search("content:name__=__web*"));
        assertEquals(List.of(), search("content:name__=__WEB*"), "whitespace analyzer: case-sensitive");
        assertEquals(List.of("a1"), search("content:role__=__base"));

        // erchef's purge: delete_by_query with Chef's query_string, then refresh.
        HttpResponse<String> deleted = call("POST", "/chef/_delete_by_query",
                "{\"query\":{\"query_string\":{\"query\":\"X_CHEF_database_CHEF_X:chef_org1 AND X_CHEF_type_CHEF_X:node\"}}}",
                "application/json");
        assertEquals(200, deleted.statusCode(), deleted.body());
        assertEquals(2, JSON.readTree(deleted.body()).path("deleted").asInt(), deleted.body());
        assertEquals(200, call("POST", "/_refresh", null, "application/json").statusCode());
        assertEquals(List.of(), search("content:name__=__web*"));
        assertEquals(1, JSON.readTree(call("GET", "/chef/_count", null, null).body()).path("count").asInt(), "the role stays");
    }

    @Test
    @Order(5)
    void probeSeesAGreenSingleNodeClusterManagedByItself() {
        SearchClient.Health h = new SearchClient().health(node);
        // the elected manager is this node, at its own transport address
        assertEquals(new SearchClient.Health(SearchClient.Status.GREEN, 1, true, null,
                OpenSearchRecipe.transportAddress(node)), h);
    }

    @Test
    @Order(6)
    void refusesADataDirectoryOfAnotherUser() throws Exception {
        NodeContext other = new NodeContext(node.settings(), new NodePaths(ROOT.resolve("other")), "os-other",
                node.nodeGuid(), node.secrets());
        Path data = Files.createDirectories(other.path("elasticsearch.data_dir"));
        Files.setOwner(data, data.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        ServiceSetupException e = assertThrows(ServiceSetupException.class, () -> RECIPE.prepare(other));
        assertTrue(e.getMessage().contains("elasticsearch.data_dir") && e.getMessage().contains("nobody"), e.getMessage());
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    static String doc(String id, String db, String type, String content) {
        return "{\"index\":{\"_index\":\"chef\",\"_id\":\"" + id + "\"}}\n"
                + "{\"content\":\"X_CHEF_database_CHEF_X__=__" + db + " X_CHEF_id_CHEF_X__=__" + id
                + " X_CHEF_type_CHEF_X__=__" + type + " " + content + " \",\"X_CHEF_id_CHEF_X\":\"" + id
                + "\",\"X_CHEF_database_CHEF_X\":\"" + db + "\",\"X_CHEF_type_CHEF_X\":\"" + type + "\"}\n";
    }

    /** erchef's query for nodes of org1 (chef_index_query, ES 7 dialect), returning the hits' ids in order. */
    static List<String> search(String query) throws Exception {
        String body = JSON.writeValueAsString(JSON.readTree("""
                {"stored_fields":"_id","from":0,"size":1000,
                 "sort":[{"X_CHEF_id_CHEF_X":{"order":"asc"}}],
                 "query":{"bool":{"must":{"query_string":{"query":"QUERY"}},
                                  "filter":{"query_string":{"query":"+X_CHEF_database_CHEF_X:chef_org1 +X_CHEF_type_CHEF_X:node"}}}}}
                """.replace("QUERY", query)));
        HttpResponse<String> r = call("GET", "/chef/_search", body, "application/json");
        assertEquals(200, r.statusCode(), r.body());
        List<String> ids = new ArrayList<>();
        JSON.readTree(r.body()).path("hits").path("hits").forEach(hit -> ids.add(hit.path("_id").asText()));
        return ids;
    }

    static HttpResponse<String> call(String method, String path, String body, String contentType) throws Exception {
        HttpRequest.Builder b = request(path).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(BASE.resolve(path));
    }

    static String jvmArgument(String prefix) throws Exception {
        JsonNode nodes = JSON.readTree(call("GET", "/_nodes/_local/jvm", null, null).body()).path("nodes");
        for (JsonNode arg : nodes.elements().next().path("jvm").path("input_arguments")) {
            if (arg.asText().startsWith(prefix)) {
                return arg.asText().substring(prefix.length());
            }
        }
        return "";
    }

    static String id(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("id"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        p.waitFor(10, TimeUnit.SECONDS);
        return out;
    }

    static String tail(Path file) throws IOException {
        if (!Files.exists(file)) {
            return "(no output)";
        }
        List<String> lines = Files.readAllLines(file);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }
}
