package org.chefbackend.search;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.chefbackend.agent.Change;
import org.chefbackend.agent.Launch;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceRecipe;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.agent.ServiceUsers;
import org.chefbackend.config.Settings;
import org.chefbackend.system.Distribution;

/**
 * The "elasticsearch" service: one OpenSearch 2 node per backend, with its own configuration directory
 * (OPENSEARCH_PATH_CONF) under the node root, run from the shared bundled distribution as chef-backend.
 *
 * <p>Two documented options have no OpenSearch 2 counterpart; their directories are still created (and owned by
 * chef-backend) so paths that operators, disk checks or backups name keep existing:
 * <ul>
 *   <li>{@code elasticsearch.plugins_directory}: Elasticsearch 2's path.plugins is gone; OpenSearch loads plugins
 *       only from {@code <OPENSEARCH_HOME>/plugins} of the bundled distribution, so the directory is unused.</li>
 *   <li>{@code elasticsearch.scripts_directory}: path.scripts was removed in Elasticsearch 6 and an unknown setting
 *       stops the node from starting (chef-backend's own 3.0 upgrade hit this), so it is never written.</li>
 * </ul>
 */
public final class OpenSearchRecipe implements ServiceRecipe {
    public static final String NAME = "elasticsearch";
    /** Transport (node-to-node) port; the documents have no option for it. */
    public static final int TRANSPORT_PORT = 9300;
    /** Per-node OPENSEARCH_PATH_CONF, a documented-style absolute path resolved under the node root. */
    static final String CONFIG_DIR = "/var/opt/chef-backend/elasticsearch/config";
    /**
     * Optional file next to the config dir: the cluster's transport addresses (host:port), one a line, kept by the
     * agent from the live member list (and first written by join-cluster); absent, the node knows only itself. It
     * outlives the config directory's renders, so a node that starts without etcd still knows its peers.
     */
    static final String SEED_HOSTS_FILE = "seed_hosts";
    /**
     * The same list where OpenSearch's file-based seed hosts provider reads it ({@code discovery.seed_providers:
     * file}): re-read at every discovery round, so a membership change reaches a running node without a restart.
     */
    static final String UNICAST_HOSTS_FILE = "unicast_hosts.txt";
    static final String BOOTSTRAP_SETTING = "cluster.initial_cluster_manager_nodes";
    static final List<String> CONFIG_FILES = List.of("opensearch.yml", "jvm.options", "log4j2.properties");
    /** Lowest and highest Java feature versions OpenSearch 2 runs on here (24+ dropped the Security Manager). */
    static final int MIN_JAVA = 17;
    static final int MAX_JAVA = 21;

    private static final String USER = ServiceUsers.CHEF_BACKEND;
    private static final String DIR_MODE = "rwxr-x---";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A heap flag of jvm.options, with or without a JDK version prefix ("11-:-Xmx1g"). */
    private static final Pattern HEAP_LINE = Pattern.compile("^(\\d+(-\\d*)?:)?-Xm[sxn]\\S*$");
    private static final Pattern HEAP_DUMP_PATH = Pattern.compile("-XX:HeapDumpPath=\\S*");

    private final Path home;

    /** Runs the distribution's bundled OpenSearch. */
    public OpenSearchRecipe() {
        this(Distribution.opensearchHome());
    }

    /** Runs the OpenSearch installed at {@code opensearchHome} (its config/ holds the templates). */
    public OpenSearchRecipe(Path opensearchHome) {
        this.home = opensearchHome;
    }

    /** The node's rendered configuration files. */
    public record Rendered(String opensearchYml, String jvmOptions) {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Change prepare(NodeContext node) throws IOException {
        ServiceUsers.ensureUser(USER);
        Path conf = configDir(node);
        Map<String, Path> dirs = new LinkedHashMap<>();
        for (String option : List.of("data_dir", "log_directory", "temp_directory", "plugins_directory", "scripts_directory")) {
            dirs.put("elasticsearch." + option, node.path("elasticsearch." + option));
        }
        dirs.put("search config directory", conf);
        for (Map.Entry<String, Path> dir : dirs.entrySet()) {
            ServiceUsers.requireOwnedBy(dir.getValue(), USER, dir.getKey());
            ServiceUsers.ownedDirectory(dir.getValue(), USER, DIR_MODE);
        }
        ServiceUsers.ownedDirectory(conf.resolve("jvm.options.d"), USER, DIR_MODE);
        Change change = configure(node);
        for (String file : CONFIG_FILES) {
            ServiceUsers.chown(conf.resolve(file), USER);
        }
        ServiceUsers.chown(conf.resolve(UNICAST_HOSTS_FILE), USER);
        return change;
    }

    @Override
    public void check(NodeContext node) {
        extraJvmFlags(node.settings());
    }

    /**
     * Makes {@code hosts} (the members' transport addresses, from the live member list) this node's seed hosts: the
     * persistent list and the file OpenSearch re-reads while it runs. This node is always one of them. True when the
     * list changed. No restart is needed: discovery picks the file up by itself.
     */
    public static boolean refreshSeedHosts(NodeContext node, List<String> hosts) throws IOException {
        String content = String.join("\n", withSelf(node, hosts)) + "\n";
        Path file = seedHostsFile(node);
        Files.createDirectories(file.getParent());
        // write() leaves a file with the same content alone (Change.NONE) and replaces any other (RESTART)
        boolean changed = write(file, content, UnaryOperator.identity()) != Change.NONE;
        Path unicast = configDir(node).resolve(UNICAST_HOSTS_FILE);
        if (Files.isDirectory(unicast.getParent()) && write(unicast, content, UnaryOperator.identity()) != Change.NONE) {
            changed = true;
            if (ServiceUsers.exists(USER)) { // absent only in tests that render files unprivileged
                ServiceUsers.chown(unicast, USER);
            }
        }
        return changed;
    }

    /**
     * Renders and writes the config files (no users, no ownership: testable unprivileged). A node with an empty
     * data directory that knows no other member bootstraps a new cluster of itself.
     */
    Change configure(NodeContext node) throws IOException {
        Path conf = configDir(node);
        Files.createDirectories(conf.resolve("jvm.options.d"));
        List<String> seeds = seedHosts(node);
        String self = transportAddress(node);
        boolean bootstrap = isEmptyDirectory(node.path("elasticsearch.data_dir"))
                && seeds.stream().allMatch(self::equals);
        Rendered r = render(node, seeds, bootstrap);
        // The bootstrap line matters only for a node's very first start (OpenSearch ignores it once the node has
        // joined a cluster), so dropping it afterwards is no reason to restart; nor is a new seed host list, which
        // the running node reads from unicast_hosts.txt.
        return write(conf.resolve("opensearch.yml"), r.opensearchYml(), OpenSearchRecipe::significant)
                .and(write(conf.resolve(UNICAST_HOSTS_FILE), String.join("\n", seeds) + "\n", any -> ""))
                .and(write(conf.resolve("jvm.options"), r.jvmOptions(), UnaryOperator.identity()))
                .and(write(conf.resolve("log4j2.properties"), template("log4j2.properties"), UnaryOperator.identity()));
    }

    /**
     * The node's opensearch.yml and jvm.options.
     *
     * @param seedHosts transport addresses (host:port) of the cluster's members, this node included
     * @param bootstrapNewCluster true only for the first start of a node that founds a new cluster
     */
    public Rendered render(NodeContext node, List<String> seedHosts, boolean bootstrapNewCluster) throws IOException {
        return new Rendered(opensearchYml(node, seedHosts, bootstrapNewCluster), jvmOptions(node, template("jvm.options")));
    }

    static String opensearchYml(NodeContext node, List<String> seedHosts, boolean bootstrapNewCluster) {
        Settings s = node.settings();
        // Values are written as JSON, which is valid YAML: quoting and escaping come for free.
        Map<String, Object> yml = new LinkedHashMap<>();
        yml.put("cluster.name", node.secrets().elasticsearchClusterName());
        yml.put("node.name", node.nodeName());
        yml.put("network.host", node.publishAddress());
        yml.put("http.port", s.integer("elasticsearch.port"));
        yml.put("transport.port", TRANSPORT_PORT);
        yml.put("path.data", node.path("elasticsearch.data_dir").toString());
        yml.put("path.logs", node.logDirectory(NAME).toString());
        yml.put("discovery.seed_hosts", seedHosts);
        // the live member list, re-read at every discovery round (refreshSeedHosts keeps it)
        yml.put("discovery.seed_providers", "file");
        if (bootstrapNewCluster) {
            yml.put(BOOTSTRAP_SETTING, List.of(node.nodeName()));
        }
        // GET / reports 7.10.2 so Chef Server picks its Elasticsearch 7 (typeless) wire format, which OpenSearch serves.
        yml.put("compatibility.override_main_response_version", true);
        yml.put("bootstrap.memory_lock", false);
        // A partitioned cluster manager is replaced in about 10 s instead of about 65 s (measured, OpenSearch 2.19).
        yml.put("cluster.fault_detection.leader_check.timeout", "2s");
        yml.put("cluster.fault_detection.leader_check.retry_count", 2);
        yml.put("cluster.fault_detection.follower_check.timeout", "2s");
        yml.put("cluster.fault_detection.follower_check.retry_count", 2);
        yml.put("cluster.publish.timeout", "5s");
        StringBuilder out = new StringBuilder("# Written by chef-backend from chef-backend.rb; edits are overwritten.\n");
        yml.forEach((k, v) -> out.append(k).append(": ").append(json(v)).append('\n'));
        return out.toString();
    }

    /**
     * The distribution's jvm.options with this node's heap and absolute paths (the stock ones are relative to the
     * shared distribution), then java_opts and jvm_opts last: the JVM takes the last of repeated flags, so a heap
     * flag there wins over heap_size, as the documents promise.
     */
    static String jvmOptions(NodeContext node, String template) {
        Settings s = node.settings();
        long heap = s.integer("elasticsearch.heap_size");
        List<String> heapLines = new ArrayList<>(List.of("-Xms" + heap + "m", "-Xmx" + heap + "m"));
        Object newSize = s.get("elasticsearch.new_size");
        if (newSize != null) {
            heapLines.add("-Xmn" + newSize + "m");
        }
        String data = node.path("elasticsearch.data_dir").toString();
        String logs = node.logDirectory(NAME).toString();
        List<String> out = new ArrayList<>();
        boolean placed = false;
        for (String line : template.split("\n", -1)) {
            if (HEAP_LINE.matcher(line.strip()).matches()) {
                if (!placed) {
                    out.addAll(heapLines);
                    placed = true;
                }
                continue;
            }
            if (line.startsWith("#")) {
                out.add(line);
                continue;
            }
            out.add(HEAP_DUMP_PATH.matcher(line).replaceAll(Matcher.quoteReplacement("-XX:HeapDumpPath=" + data))
                    .replace("-XX:ErrorFile=logs/", "-XX:ErrorFile=" + logs + "/")
                    .replace("file=logs/", "file=" + logs + "/")
                    .replace("-Xloggc:logs/", "-Xloggc:" + logs + "/"));
        }
        if (!placed) {
            out.addAll(0, heapLines);
        }
        while (!out.isEmpty() && out.get(out.size() - 1).isBlank()) {
            out.remove(out.size() - 1);
        }
        List<String> extra = extraJvmFlags(s);
        if (!extra.isEmpty()) {
            out.add("");
            out.add("## chef-backend.rb elasticsearch.java_opts and jvm_opts: last, so they take precedence");
            out.addAll(extra);
        }
        return String.join("\n", out) + "\n";
    }

    /** java_opts (one string) then jvm_opts (an array), split into single flags: jvm.options holds one a line. */
    static List<String> extraJvmFlags(Settings s) {
        List<String> flags = new ArrayList<>();
        for (String chunk : Stream.concat(Stream.of(s.string("elasticsearch.java_opts")),
                s.list("elasticsearch.jvm_opts").stream()).toList()) {
            for (String flag : chunk.strip().split("\\s+")) {
                if (flag.isEmpty()) {
                    continue;
                }
                if (!flag.startsWith("-")) {
                    // OpenSearch's launcher would refuse the whole jvm.options file; say which flag is wrong.
                    throw new ServiceSetupException("elasticsearch.java_opts/jvm_opts: '" + flag
                            + "' is not a JVM flag (flags start with '-')");
                }
                flags.add(flag);
            }
        }
        return flags;
    }

    @Override
    public Launch launch(NodeContext node) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("OPENSEARCH_PATH_CONF", configDir(node).toString());
        env.put("OPENSEARCH_TMPDIR", node.path("elasticsearch.temp_directory").toString());
        // elasticsearch.environment comes last so an operator can, e.g., pick the JDK with OPENSEARCH_JAVA_HOME.
        env.putAll(node.settings().map("elasticsearch.environment"));
        if (!env.containsKey("OPENSEARCH_JAVA_HOME")) {
            env.put("OPENSEARCH_JAVA_HOME", javaHome().toString());
        }
        // bin/opensearch execs java in the foreground, so the process's pid is the JVM's.
        return new Launch(List.of(home.resolve("bin/opensearch").toString()), env, USER, configDir(node));
    }

    @Override
    public List<InetSocketAddress> listenAddresses(NodeContext node) {
        String address = node.publishAddress();
        return List.of(new InetSocketAddress(address, node.settings().intValue("elasticsearch.port")),
                new InetSocketAddress(address, TRANSPORT_PORT));
    }

    // ---- paths and cluster view --------------------------------------------------------------------------------

    public static Path configDir(NodeContext node) {
        return node.paths().resolve(CONFIG_DIR);
    }

    /** Where cluster membership writes the members' transport addresses for this node. */
    public static Path seedHostsFile(NodeContext node) {
        return configDir(node).resolveSibling(SEED_HOSTS_FILE);
    }

    /** This node's transport address as a seed host entry. */
    public static String transportAddress(NodeContext node) {
        return transportAddress(node.publishAddress());
    }

    /** A member's transport address as a seed host entry (IPv6 in brackets). */
    public static String transportAddress(String address) {
        return (address.contains(":") ? "[" + address + "]" : address) + ":" + TRANSPORT_PORT;
    }

    /** The seed_hosts file's entries and this node, else this node alone. */
    static List<String> seedHosts(NodeContext node) throws IOException {
        Path file = seedHostsFile(node);
        if (Files.isRegularFile(file)) {
            return withSelf(node, Files.readAllLines(file).stream().map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList());
        }
        return List.of(transportAddress(node));
    }

    /** {@code hosts}, sorted, without repeats, with this node's own address among them. */
    public static List<String> withSelf(NodeContext node, List<String> hosts) {
        TreeSet<String> all = new TreeSet<>(hosts);
        all.add(transportAddress(node));
        return List.copyOf(all);
    }

    static boolean isEmptyDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return true;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    // ---- Java runtime --------------------------------------------------------------------------------------------

    /** A Java 17–21 runtime for OpenSearch: the agent's own when it fits, else one of /usr/lib/jvm. */
    static Path javaHome() {
        int own = Runtime.version().feature();
        if (own >= MIN_JAVA && own <= MAX_JAVA) {
            return Path.of(System.getProperty("java.home"));
        }
        return findJava(Path.of("/usr/lib/jvm")).orElseThrow(() -> new ServiceSetupException(
                "OpenSearch " + Distribution.opensearchVersion() + " needs Java " + MIN_JAVA + " to " + MAX_JAVA
                        + " (it fails on Java 24 and later) and none is in /usr/lib/jvm;"
                        + " install the Debian package openjdk-17-jre-headless"));
    }

    /** The runtime under {@code jvmDir} with a usable feature version, 17 preferred; read from each one's release file. */
    static Optional<Path> findJava(Path jvmDir) {
        if (!Files.isDirectory(jvmDir)) {
            return Optional.empty();
        }
        try (Stream<Path> dirs = Files.list(jvmDir)) {
            return dirs.filter(d -> Files.isExecutable(d.resolve("bin/java")))
                    .filter(d -> featureVersion(d) >= MIN_JAVA && featureVersion(d) <= MAX_JAVA)
                    .min(Comparator.comparingInt(OpenSearchRecipe::featureVersion).thenComparing(Path::toString));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** JAVA_VERSION="17.0.15" in {@code <java home>/release} → 17; 0 when unknown. */
    static int featureVersion(Path javaHome) {
        try {
            for (String line : Files.readAllLines(javaHome.resolve("release"))) {
                if (line.startsWith("JAVA_VERSION=")) {
                    String v = line.substring("JAVA_VERSION=".length()).replace("\"", "").strip();
                    String[] parts = v.split("[.+_-]");
                    int first = Integer.parseInt(parts[0]);
                    return first == 1 && parts.length > 1 ? Integer.parseInt(parts[1]) : first; // "1.8.0" is 8
                }
            }
        } catch (IOException | RuntimeException e) {
            // no or unreadable release file: not a runtime we can vouch for
        }
        return 0;
    }

    // ---- files ---------------------------------------------------------------------------------------------------

    private String template(String name) throws IOException {
        Path file = home.resolve("config").resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new ServiceSetupException("OpenSearch distribution incomplete: " + file + " is missing");
        }
        return Files.readString(file, StandardCharsets.UTF_8);
    }

    /**
     * Writes {@code content} when it differs from the file; RESTART when it differs in what {@code significant}
     * keeps. Atomic (rename), so a crash never leaves half a config.
     */
    static Change write(Path file, String content, UnaryOperator<String> significant) throws IOException {
        String old = Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.UTF_8) : null;
        if (content.equals(old)) {
            return Change.NONE;
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r-----"));
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return old != null && significant.apply(old).equals(significant.apply(content)) ? Change.NONE : Change.RESTART;
    }

    static String withoutBootstrap(String yml) {
        return yml.replaceAll("(?m)^" + Pattern.quote(BOOTSTRAP_SETTING) + ":.*\\n", "");
    }

    /** What of opensearch.yml needs a restart to take effect: all but the bootstrap line and the seed hosts. */
    static String significant(String yml) {
        return withoutBootstrap(yml).replaceAll("(?m)^discovery\\.seed_hosts:.*\\n", "");
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // strings, numbers, booleans and lists always serialise
        }
    }
}
