package org.chefbackend.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.chefbackend.agent.NodeState;
import org.chefbackend.agent.ProcessIdentity;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.config.Settings;
import org.chefbackend.frontend.HaproxyConfig;
import org.chefbackend.frontend.HaproxyStats;
import org.chefbackend.system.Binaries;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.FileTrees;
import org.chefbackend.system.OperatorException;
import org.chefbackend.system.Poll;

/**
 * The one-command demo: a local cluster of real nodes on loopback addresses under one work directory, built as the
 * documents say (create-cluster on the first node, join-cluster on the others), with a real HAProxy in front
 * configured exactly as {@code gen-haproxy-config} prints it. Everything it starts is recorded in
 * {@code <dir>/demo.json} (HAProxy by pid and start time; the nodes by their roots, whose agents record their own
 * children), so {@code down} ends exactly that and removes the directory.
 */
public final class Demo {
    /** Runs one chef-backend-ctl command against a node root; returns its exit code. */
    @FunctionalInterface
    public interface NodeCtl {
        int run(Path root, PrintWriter out, PrintWriter err, String... args);
    }

    public static final Path DEFAULT_DIR = Path.of("/tmp/chef-backend-demo");
    public static final List<String> DEFAULT_ADDRESSES = List.of("127.0.0.2", "127.0.0.3", "127.0.0.4");
    static final String STATE_FILE = "demo.json";
    static final List<String> BACKENDS = List.of(HaproxyConfig.POSTGRESQL_BACKEND, HaproxyConfig.ELASTICSEARCH_BACKEND);
    /** The ports every node listens on (on its own address): they must be free before anything starts. */
    static final int[] NODE_PORTS = {5432, 7331, 9200, 9300, 2379, 2380};
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** How often the demo checks what it waits for. */
    private static final Duration POLL_INTERVAL = Duration.ofMillis(250);

    /**
     * @param dir the work directory: node roots, HAProxy's files and the state file
     * @param addresses one loopback address per node; the first creates the cluster
     * @param listen HAProxy's listen address
     * @param configLines extra chef-backend.rb lines for every node
     */
    public record Options(Path dir, List<String> addresses, String listen, int postgresqlPort, int elasticsearchPort,
            List<String> configLines) {
    }

    private final NodeCtl ctl;
    private final PrintWriter out;
    private final PrintWriter err;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    public Demo(NodeCtl ctl, PrintWriter out, PrintWriter err) {
        this.ctl = ctl;
        this.out = out;
        this.err = err;
    }

    // ---------------------------------------------------------------------------------------------------- up

    public int up(Options o) throws IOException {
        long t0 = System.nanoTime();
        Path dir = o.dir().toAbsolutePath().normalize();
        if (Files.exists(dir.resolve(STATE_FILE))) {
            throw OperatorException.failure("a demo already exists in " + dir
                    + " (see '" + CtlCommand.ctl() + " demo status'; remove it with '" + CtlCommand.ctl()
                    + " demo down')");
        }
        validate(o, dir);
        Path haproxy = Binaries.require("haproxy", "haproxy");

        Files.createDirectories(dir.resolve("haproxy"));
        List<Path> roots = new ArrayList<>();
        for (int i = 0; i < o.addresses().size(); i++) {
            roots.add(dir.resolve("node" + (i + 1)));
        }
        ObjectNode state = JSON.createObjectNode();
        state.put("listen", o.listen()).put("postgresql_port", o.postgresqlPort())
                .put("elasticsearch_port", o.elasticsearchPort());
        ArrayNode nodes = state.putArray("nodes");
        for (int i = 0; i < roots.size(); i++) {
            nodes.addObject().put("name", nodeName(o.addresses().get(i))).put("address", o.addresses().get(i))
                    .put("root", roots.get(i).toString());
        }
        writeState(dir, state);
        try {
            buildCluster(o, roots);
            startHaproxy(o, dir, roots.get(0), haproxy, state);
            String active = waitForHaproxy(dir, Duration.ofSeconds(90));
            out.println();
            ctl.run(roots.get(0), out, err, "cluster-status");
            out.println();
            printHowToConnect(o, dir, roots.get(0), active);
            out.printf("demo: up in %.0f s%n", (System.nanoTime() - t0) / 1e9);
            out.flush();
            return 0;
        } catch (RuntimeException | IOException e) {
            err.println("demo: " + e.getMessage() + "; stopping what was started");
            err.flush();
            stopEverything(dir, state);
            throw OperatorException.failure("demo up failed: " + e.getMessage() + " (logs kept in " + dir
                    + "; remove them with '" + CtlCommand.ctl() + " demo down')");
        }
    }

    /** Bad input and busy ports are found before anything is created. */
    static void validate(Options o, Path dir) throws IOException {
        if (o.addresses().isEmpty()) {
            throw OperatorException.usage("--nodes needs at least one address");
        }
        Set<String> seen = new HashSet<>();
        for (String a : o.addresses()) {
            if (!isLoopback(a)) {
                throw OperatorException.usage("node address " + a + " is not an IPv4 loopback address (127.x.y.z)");
            }
            if (!seen.add(a)) {
                throw OperatorException.usage("node address " + a + " is given twice");
            }
        }
        if (!isLoopback(o.listen())) {
            throw OperatorException.usage("--listen " + o.listen() + " is not an IPv4 loopback address (127.x.y.z)");
        }
        for (int port : new int[] {o.postgresqlPort(), o.elasticsearchPort()}) {
            if (port < 1 || port > 65535) {
                throw OperatorException.usage("port " + port + " is not from 1 to 65535");
            }
        }
        if (o.postgresqlPort() == o.elasticsearchPort()) {
            throw OperatorException.usage("--postgresql-port and --elasticsearch-port must differ");
        }
        for (String line : o.configLines()) {
            if (line.contains("\n")) {
                throw OperatorException.usage("--config-line must be one line: '" + line + "'");
            }
        }
        if (Files.isDirectory(dir)) {
            try (Stream<Path> entries = Files.list(dir)) {
                if (entries.findAny().isPresent()) {
                    throw OperatorException.usage(dir + " exists and is not a demo; remove it or choose another --dir");
                }
            }
        } else if (Files.exists(dir)) {
            throw OperatorException.usage(dir + " exists and is not a directory");
        }
        requireFree(o.listen(), o.postgresqlPort(), "--postgresql-port");
        requireFree(o.listen(), o.elasticsearchPort(), "--elasticsearch-port");
        for (String a : o.addresses()) {
            for (int port : NODE_PORTS) {
                requireFree(a, port, null);
            }
        }
    }

    static boolean isLoopback(String address) {
        return address.matches("127\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){2}");
    }

    private static void requireFree(String address, int port, String option) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getByName(address), port));
        } catch (IOException e) {
            throw OperatorException.failure(address + ":" + port + " is in use (" + e.getMessage() + ")"
                    + (option != null ? "; choose another with " + option : "; is another cluster running there?"));
        }
    }

    /** A unique, readable node name per address (several demos or test clusters may share the machine). */
    static String nodeName(String address) {
        return "backend-" + address.replace('.', '-');
    }

    /** chef-backend.rb of one demo node: small heaps, so three nodes fit next to each other. */
    static String nodeConfig(String address, List<String> extra) {
        StringBuilder rb = new StringBuilder()
                .append("# chef-backend demo node (chef-backend-ctl demo up)\n")
                .append("publish_address '").append(address).append("'\n")
                .append("fqdn '").append(nodeName(address)).append("'\n")
                .append("# several nodes share this machine: a small search heap and shared_buffers\n")
                .append("elasticsearch.heap_size = 512\n")
                .append("postgresql.shared_buffers = '128MB'\n");
        for (String line : extra) {
            rb.append(line).append('\n');
        }
        return rb.toString();
    }

    private void buildCluster(Options o, List<Path> roots) throws IOException {
        out.println("demo: a " + roots.size() + "-node chef-backend cluster on " + String.join(", ", o.addresses())
                + " under " + o.dir());
        out.flush();
        for (int i = 0; i < roots.size(); i++) {
            Path etc = new NodePaths(roots.get(i)).etcDir();
            Files.createDirectories(etc);
            Files.writeString(new NodePaths(roots.get(i)).configFile(), nodeConfig(o.addresses().get(i), o.configLines()));
        }
        step(roots.get(0), o.addresses().get(0), "create-cluster", "-y");
        String secrets = new NodePaths(roots.get(0)).secretsFile().toString();
        for (int i = 1; i < roots.size(); i++) {
            step(roots.get(i), o.addresses().get(i), "join-cluster", o.addresses().get(0), "-s", secrets, "-y");
        }
        Duration limit = Duration.ofSeconds(240);
        out.println("==> waiting until every follower is synced and eligible and search is green with every node (at "
                + "most " + limit.toSeconds() + " s)");
        out.flush();
        String[] shown = {""};
        boolean ready = Poll.until(limit, POLL_INTERVAL, () -> {
            List<String> missing = clusterView(o.addresses().get(0)).map(v -> notReady(v, roots.size()))
                    .orElse(List.of("the cluster view is not available yet"));
            String line = String.join("; ", missing);
            if (!missing.isEmpty() && !line.equals(shown[0])) {
                out.println("    waiting: " + line);
                out.flush();
                shown[0] = line;
            }
            return missing.isEmpty();
        });
        if (!ready) {
            throw new IllegalStateException("the cluster was not ready within " + limit.toSeconds() + " s: " + shown[0]);
        }
    }

    private void step(Path root, String address, String... args) {
        out.println("==> " + nodeName(address) + " (" + address + "): chef-backend-ctl " + args[0]);
        out.flush();
        int code = ctl.run(root, out, err, args);
        if (code != 0) {
            throw new IllegalStateException(args[0] + " on " + address + " failed (exit " + code + ")");
        }
    }

    /**
     * What keeps the cluster from being ready, empty when it is: one leader, every other node a synced, eligible
     * follower, and every node's search engine healthy in a green search cluster of all {@code size} nodes.
     */
    static List<String> notReady(JsonNode view, int size) {
        List<String> missing = new ArrayList<>();
        int leaders = 0;
        for (JsonNode node : view.path("nodes")) {
            String name = node.path("name").asText();
            String role = node.path("role").asText();
            JsonNode es = node.path("elasticsearch");
            String reason = node.path("reason").isTextual() ? " (" + node.path("reason").asText() + ")" : "";
            if (role.equals("leader")) {
                leaders++;
            } else if (!role.equals("follower") || !node.path("pgsql").path("role").asText().equals("synced")) {
                missing.add(name + " is " + role + ", PostgreSQL " + node.path("pgsql").path("role").asText() + reason);
            } else if (!node.path("eligible_for_leader").asBoolean()) {
                missing.add(name + " is not eligible" + reason);
            }
            if (!es.path("healthy").asBoolean() || !es.path("status").asText().equals("green")
                    || es.path("nodes").asInt() != size) {
                missing.add(name + "'s search: " + es.path("status").asText("unknown") + ", " + es.path("nodes").asInt()
                        + "/" + size + " nodes" + (es.path("healthy").asBoolean() ? "" : ", not a member"));
            }
        }
        if (view.path("nodes").size() != size) {
            missing.add(view.path("nodes").size() + " of " + size + " nodes are members");
        }
        if (leaders != 1) {
            missing.add(leaders + " leaders");
        }
        return missing;
    }

    private void startHaproxy(Options o, Path dir, Path firstRoot, Path haproxy, ObjectNode state) throws IOException {
        JsonNode view = clusterView(o.addresses().get(0))
                .orElseThrow(() -> new IllegalStateException("the first node does not answer GET /cluster"));
        List<HaproxyConfig.Member> members = new ArrayList<>();
        for (JsonNode n : view.path("nodes")) {
            members.add(new HaproxyConfig.Member(n.path("guid").asText(), n.path("ip").asText()));
        }
        Settings settings = Settings.load(new NodePaths(firstRoot).configFile(), MachineFacts.detect());
        Path hdir = dir.resolve("haproxy");
        Path cfg = hdir.resolve("haproxy.cfg");
        Path pidFile = hdir.resolve("haproxy.pid");
        Path socket = hdir.resolve("haproxy.sock");
        Files.writeString(cfg, HaproxyConfig.render(members, new HaproxyConfig.Options(o.listen(), o.postgresqlPort(),
                o.elasticsearchPort(), (int) settings.integer("postgresql.port"),
                (int) settings.integer("elasticsearch.port"), (int) settings.integer("leaderl.http_port"),
                socket.toString())));
        out.println("==> HAProxy on " + o.listen() + ":" + o.postgresqlPort() + " (PostgreSQL) and " + o.listen() + ":"
                + o.elasticsearchPort() + " (search), configured as gen-haproxy-config prints it: " + cfg);
        out.flush();
        run(List.of(haproxy.toString(), "-c", "-q", "-f", cfg.toString()), hdir.resolve("haproxy-check.out"),
                "haproxy -c refused " + cfg);
        run(List.of(haproxy.toString(), "-D", "-f", cfg.toString(), "-p", pidFile.toString()),
                hdir.resolve("haproxy.out"), "HAProxy did not start");
        long pid;
        try {
            pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("HAProxy wrote no pid file " + pidFile);
        }
        ProcessIdentity id = ProcessIdentity.of(pid)
                .orElseThrow(() -> new IllegalStateException("HAProxy (pid " + pid + ") exited at once; see " + hdir));
        state.putObject("haproxy").put("pid", id.pid()).put("start_ticks", id.startTicks())
                .put("config", cfg.toString()).put("socket", socket.toString());
        writeState(dir, state);
    }

    /** Runs a short command to its end; its output goes to a log file, quoted in the error when it fails. */
    private static void run(List<String> command, Path log, String failure) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(failure + ": no answer within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
        if (p.exitValue() != 0) {
            String text = Files.readString(log).strip().replace('\n', ' ');
            throw new IllegalStateException(failure + ": " + (text.length() > 300 ? text.substring(0, 300) + "…" : text));
        }
    }

    /** Waits until HAProxy shows exactly one UP server in each backend, the same one; returns its name. */
    private String waitForHaproxy(Path dir, Duration limit) {
        Path socket = dir.resolve("haproxy/haproxy.sock");
        out.println("==> waiting for HAProxy to show exactly one UP server per backend (at most " + limit.toSeconds()
                + " s)");
        out.flush();
        String[] active = new String[1];
        if (!Poll.until(limit, POLL_INTERVAL, () -> {
            try {
                active[0] = HaproxyStats.query(socket).singleActive(BACKENDS).orElse(null);
                return active[0] != null;
            } catch (IOException | RuntimeException e) {
                return false;
            }
        })) {
            throw new IllegalStateException("HAProxy did not show exactly one UP server per backend within "
                    + limit.toSeconds() + " s");
        }
        return active[0];
    }

    private void printHowToConnect(Options o, Path dir, Path firstRoot, String activeGuid) {
        String password = SecretsFile.load(new NodePaths(firstRoot).secretsFile()).dbSuperuserPassword();
        howToConnect(o, dir, firstRoot, activeGuid, password, CtlCommand.ctl()).forEach(out::println);
    }

    /**
     * What {@code demo up} prints last: each command on a line of its own (indented four spaces), runnable as pasted
     * from any directory: chef-backend-ctl by the path it was run by, the node named by CHEF_BACKEND_ROOT.
     */
    static List<String> howToConnect(Options o, Path dir, Path firstRoot, String activeGuid, String password,
            String ctl) {
        String demoDir = dir.equals(DEFAULT_DIR) ? "" : " --dir " + CtlCommand.quote(dir.toString());
        return List.of(
                "HAProxy forwards to the leader (" + activeGuid + "); connect through it:",
                "  PostgreSQL (superuser chef_pgsql; password = db_superuser_password in "
                        + new NodePaths(firstRoot).secretsFile() + "):",
                "    PGPASSWORD=" + password + " psql -h " + o.listen() + " -p " + o.postgresqlPort()
                        + " -U chef_pgsql -d postgres",
                "  Search:",
                "    curl http://" + o.listen() + ":" + o.elasticsearchPort() + "/",
                "  A Chef Server frontend's configuration:",
                "    " + CtlCommand.forRoot(ctl, firstRoot, "gen-server-config frontend.example.com"),
                "  One node's commands (status, cluster-status, stop, start, promote …), here the first node's:",
                "    " + CtlCommand.forRoot(ctl, firstRoot, "status"),
                "  The demo, then its removal:",
                "    " + ctl + " demo status" + demoDir,
                "    " + ctl + " demo down" + demoDir);
    }

    // ------------------------------------------------------------------------------------------------ status

    public int status(Path dirOption) throws IOException {
        Path dir = dirOption.toAbsolutePath().normalize();
        JsonNode state = readState(dir).orElseThrow(() -> OperatorException.failure("no demo in " + dir
                + " (start one with '" + CtlCommand.ctl() + " demo up')"));
        List<String> problems = new ArrayList<>();
        boolean shown = false;
        for (JsonNode n : state.path("nodes")) {
            Optional<JsonNode> view = clusterView(n.path("address").asText());
            if (view.isPresent()) {
                ctl.run(Path.of(n.path("root").asText()), out, err, "cluster-status");
                problems.addAll(notReady(view.get(), state.path("nodes").size()));
                shown = true;
                break;
            }
        }
        if (!shown) {
            problems.add("no node answers");
        }
        out.println();
        JsonNode h = state.path("haproxy");
        Map<String, String> names = new LinkedHashMap<>();
        for (JsonNode n : state.path("nodes")) {
            clusterView(n.path("address").asText()).ifPresent(v -> v.path("nodes").forEach(
                    m -> names.put(m.path("guid").asText(), m.path("name").asText() + " " + m.path("ip").asText())));
        }
        if (h.isMissingNode() || !new ProcessIdentity(h.path("pid").asLong(), h.path("start_ticks").asLong()).isAlive()) {
            problems.add("HAProxy is not running");
            out.println("HAProxy: not running");
        } else {
            out.println("HAProxy: pid " + h.path("pid").asLong() + ", " + state.path("listen").asText() + ":"
                    + state.path("postgresql_port").asInt() + " (PostgreSQL), " + state.path("listen").asText() + ":"
                    + state.path("elasticsearch_port").asInt() + " (search)");
            try {
                HaproxyStats stats = HaproxyStats.query(Path.of(h.path("socket").asText()));
                for (Map.Entry<String, List<String>> b : stats.upByBackend().entrySet()) {
                    out.println("  " + b.getKey() + ": UP " + b.getValue().stream()
                            .map(s -> s + (names.containsKey(s) ? " (" + names.get(s) + ")" : "")).toList());
                }
                if (stats.singleActive(BACKENDS).isEmpty()) {
                    problems.add("HAProxy does not show exactly one UP server per backend");
                }
            } catch (IOException | RuntimeException e) {
                problems.add("HAProxy's stats socket does not answer: " + e.getMessage());
            }
        }
        out.flush();
        if (!problems.isEmpty()) {
            throw OperatorException.failure("the demo in " + dir + " is not healthy: " + String.join("; ", problems));
        }
        return 0;
    }

    // -------------------------------------------------------------------------------------------------- down

    public int down(Path dirOption) throws IOException {
        Path dir = dirOption.toAbsolutePath().normalize();
        Optional<JsonNode> state = readState(dir);
        if (state.isEmpty()) {
            if (Files.exists(dir)) {
                throw OperatorException.usage(dir + " is not a demo (no " + STATE_FILE + "); not touching it");
            }
            out.println("demo: no demo in " + dir + "; nothing to do");
            out.flush();
            return 0;
        }
        List<String> left = stopEverything(dir, state.get());
        if (!left.isEmpty()) {
            throw OperatorException.failure("still running, so " + dir + " was kept: " + String.join(", ", left));
        }
        FileTrees.deleteTree(dir);
        out.println("demo: stopped everything it started and removed " + dir);
        out.flush();
        return 0;
    }

    /** Stops HAProxy and every node (all at once: one by one, the last would wait for a lost etcd quorum). */
    private List<String> stopEverything(Path dir, JsonNode state) {
        List<String> left = new ArrayList<>();
        JsonNode h = state.path("haproxy");
        if (!h.isMissingNode()) {
            ProcessIdentity id = new ProcessIdentity(h.path("pid").asLong(), h.path("start_ticks").asLong());
            if (end(id, Duration.ofSeconds(10))) {
                out.println("demo: stopped HAProxy (pid " + id.pid() + ")");
            } else {
                left.add("HAProxy (pid " + id.pid() + ")");
            }
        }
        List<Thread> stops = new ArrayList<>();
        StringWriter quiet = new StringWriter();
        PrintWriter sink = new PrintWriter(quiet);
        for (JsonNode n : state.path("nodes")) {
            Path root = Path.of(n.path("root").asText());
            if (agent(root).isPresent()) {
                Thread t = new Thread(() -> ctl.run(root, sink, sink, "stop"), "stop-" + n.path("name").asText());
                t.start();
                stops.add(t);
            }
        }
        for (Thread t : stops) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(150));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (JsonNode n : state.path("nodes")) {
            Path root = Path.of(n.path("root").asText());
            // whatever a node's stop left (an agent that did not stop in time, an orphan service): by recorded pid
            for (ProcessIdentity p : recordedProcesses(root)) {
                if (!end(p, Duration.ofSeconds(10))) {
                    left.add(n.path("name").asText() + " pid " + p.pid());
                }
            }
            out.println("demo: stopped " + n.path("name").asText() + " (" + n.path("address").asText() + ")");
        }
        out.flush();
        return left;
    }

    /** The node's agent and services by their pid files (pid and start time, so never a stranger's pid). */
    static List<ProcessIdentity> recordedProcesses(Path root) {
        List<ProcessIdentity> found = new ArrayList<>();
        agent(root).ifPresent(found::add);
        Path agentDir = NodeState.agentDir(new NodePaths(root));
        for (Path dir : List.of(agentDir, agentDir.resolve("run"))) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(f -> f.getFileName().toString().endsWith(".pid")).forEach(f -> readIdentity(f)
                        .filter(ProcessIdentity::isAlive).filter(p -> !found.contains(p)).ifPresent(found::add));
            } catch (IOException e) {
                // nothing recorded there
            }
        }
        return found;
    }

    static Optional<ProcessIdentity> agent(Path root) {
        return readIdentity(NodeState.agentPidFile(new NodePaths(root))).filter(ProcessIdentity::isAlive);
    }

    private static Optional<ProcessIdentity> readIdentity(Path file) {
        try {
            return Files.exists(file) ? ProcessIdentity.parse(Files.readString(file)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** TERM, then KILL after the grace time; true when the process is gone. */
    static boolean end(ProcessIdentity id, Duration grace) {
        if (!id.isAlive()) {
            return true;
        }
        ProcessHandle.of(id.pid()).ifPresent(ProcessHandle::destroy);
        if (Poll.until(grace, POLL_INTERVAL, () -> !id.isAlive())) {
            return true;
        }
        if (id.isAlive()) {
            ProcessHandle.of(id.pid()).ifPresent(ProcessHandle::destroyForcibly);
        }
        return Poll.until(Duration.ofSeconds(5), POLL_INTERVAL, () -> !id.isAlive());
    }

    // ------------------------------------------------------------------------------------------------ helpers

    Optional<JsonNode> clusterView(String address) {
        try {
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create("http://" + address + ":7331/cluster"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofByteArray());
            return r.statusCode() == 200 ? Optional.of(JSON.readTree(r.body())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    static Optional<JsonNode> readState(Path dir) throws IOException {
        Path file = dir.resolve(STATE_FILE);
        return Files.exists(file) ? Optional.of(JSON.readTree(file.toFile())) : Optional.empty();
    }

    private static void writeState(Path dir, JsonNode state) throws IOException {
        Path tmp = dir.resolve(STATE_FILE + ".tmp");
        Files.write(tmp, JSON.writeValueAsBytes(state));
        Files.move(tmp, dir.resolve(STATE_FILE), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }
}
