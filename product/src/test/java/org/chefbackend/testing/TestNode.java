package org.chefbackend.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.chefbackend.agent.NodeState;
import org.chefbackend.agent.ProcessIdentity;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.etcd.EtcdAccess;
import org.chefbackend.faults.LoopbackNet;
import org.chefbackend.system.FileTrees;
import org.chefbackend.system.Http;
import org.chefbackend.system.Poll;
import org.chefbackend.tls.NodeCertificates.CertificateFiles;

/**
 * One backend node for integration tests: its own root under /tmp and its own loopback address, driven through
 * bin/chef-backend-ctl exactly as an operator would. {@link #destroy} ends every process of the node by pid,
 * also when a test failed half-way.
 */
public final class TestNode {
    public static final Path REPO = Path.of(System.getProperty("chefbackend.repo", "..")).toAbsolutePath();
    private static final ObjectMapper JSON = new ObjectMapper();

    public final String address;
    public final Path root;
    public final String name;
    /** The cgroup every process of this node starts in ({@link LoopbackNet}), null for none. */
    private volatile Path hostCgroup;
    /** Added to every command's environment, e.g. CHEF_BACKEND_DIST to run another build. */
    private volatile Map<String, String> environment = Map.of();

    public record Run(int code, String out, String err) {
    }

    private TestNode(String address, Path root, String name) {
        this.address = address;
        this.root = root;
        this.name = name;
    }

    /** A fresh node root with chef-backend.rb (publish_address, fqdn, a small search heap, extra lines) and secrets. */
    public static TestNode create(String address, Path root, Secrets secrets, String... extraConfig) throws IOException {
        String name = "n-" + address.replace('.', '-');
        TestNode node = new TestNode(address, root, name);
        node.destroy();
        FileTrees.deleteTree(root);
        Files.createDirectories(root.resolve("etc/chef-backend"));
        StringBuilder rb = new StringBuilder()
                .append("publish_address '").append(address).append("'\n")
                .append("fqdn '").append(name).append("'\n")
                .append("elasticsearch.heap_size = 512\n")
                .append("postgresql.shared_buffers = '128MB'\n");
        for (String line : extraConfig) {
            rb.append(line).append('\n');
        }
        Files.writeString(node.configFile(), rb.toString());
        SecretsFile.write(root.resolve("etc/chef-backend/chef-backend-secrets.json"), secrets);
        return node;
    }

    /** A node something else created (e.g. {@code demo up}), for its processes and HTTP API; nothing is written. */
    public static TestNode existing(String address, Path root, String name) {
        return new TestNode(address, root, name);
    }

    public static Secrets secrets() {
        return Secrets.generate(new SecureRandom());
    }

    /** From now on every command of this node runs in {@code cgroup}, and so does everything it starts. */
    public TestNode inCgroup(Path cgroup) {
        this.hostCgroup = cgroup;
        return this;
    }

    /** From now on every command of this node runs with {@code env} added (an empty map: none). */
    public TestNode withEnvironment(Map<String, String> env) {
        this.environment = Map.copyOf(env);
        return this;
    }

    public Path configFile() {
        return root.resolve("etc/chef-backend/chef-backend.rb");
    }

    public Run ctl(String... args) throws IOException, InterruptedException {
        return ctl(Map.of(), args);
    }

    /** Runs chef-backend-ctl and fails with its output (not just its exit code) unless it exits 0. */
    public Run ctlOk(String... args) throws IOException, InterruptedException {
        Run r = ctl(args);
        if (r.code() != 0) {
            dumpAgentThreads();
            throw new AssertionError("chef-backend-ctl " + String.join(" ", args) + " on " + address + " exited "
                    + r.code() + ": " + (r.out() + r.err()).strip());
        }
        return r;
    }

    /** For a failure's post-mortem: where every thread of this node's agent is, next to its logs. */
    private void dumpAgentThreads() {
        for (long pid : processes()) {
            String cmdline = ProcessHandle.of(pid).flatMap(h -> h.info().commandLine()).orElse("");
            if (!cmdline.contains("org.chefbackend.node.NodeAgent")) { // not the node's OpenSearch JVM
                continue;
            }
            try {
                Path dump = root.resolve("var/log/chef-backend/agent-threads-" + System.currentTimeMillis() + ".txt");
                Process p = new ProcessBuilder("jcmd", String.valueOf(pid), "Thread.print").redirectErrorStream(true)
                        .redirectOutput(dump.toFile()).start();
                p.waitFor(30, TimeUnit.SECONDS);
                System.err.println("thread dump of " + address + "'s agent (pid " + pid + "): " + dump);
            } catch (IOException e) {
                System.err.println("no thread dump of pid " + pid + ": " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    public Run ctl(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> ctl = new ArrayList<>(List.of(REPO.resolve("bin/chef-backend-ctl").toString()));
        ctl.addAll(List.of(args));
        // join the host's cgroup before exec: the agent and its services inherit it
        List<String> cmd = LoopbackNet.inCgroup(hostCgroup, ctl);
        Path out = Files.createTempFile("ctl", ".out");
        Path err = Files.createTempFile("ctl", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().put("CHEF_BACKEND_ROOT", root.toString());
            pb.environment().putAll(environment);
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("chef-backend-ctl " + String.join(" ", args) + " hung");
            }
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** A chef-backend-ctl run in the background, for a test that acts while the command waits. */
    public final class Background implements AutoCloseable {
        private final Process process;
        private final Path out;
        private final Path err;

        private Background(Process process, Path out, Path err) {
            this.process = process;
            this.out = out;
            this.err = err;
        }

        /** What it printed on stdout so far. */
        public String out() {
            try {
                return Files.readString(out);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Its end, when it came within {@code limit}; empty while it still runs. */
        public Optional<Run> awaitExit(Duration limit) throws IOException, InterruptedException {
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                return Optional.empty();
            }
            return Optional.of(new Run(process.exitValue(), Files.readString(out), Files.readString(err)));
        }

        /** Ends the command if it still runs (it is ours, by its handle), and removes its output files. */
        @Override
        public void close() throws IOException {
            if (process.isAlive()) {
                process.destroyForcibly();
            }
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Starts chef-backend-ctl without waiting for it. */
    public Background ctlInBackground(String... args) throws IOException {
        List<String> ctl = new ArrayList<>(List.of(REPO.resolve("bin/chef-backend-ctl").toString()));
        ctl.addAll(List.of(args));
        Path out = Files.createTempFile("ctl", ".out");
        Path err = Files.createTempFile("ctl", ".err");
        ProcessBuilder pb = new ProcessBuilder(LoopbackNet.inCgroup(hostCgroup, ctl)).redirectOutput(out.toFile())
                .redirectError(err.toFile());
        pb.environment().put("CHEF_BACKEND_ROOT", root.toString());
        pb.environment().putAll(environment);
        return new Background(pb.start(), out, err);
    }

    /** The pid of this node's running agent, from its pid file; 0 when none runs. */
    public long agentPid() {
        try {
            return ProcessIdentity.parse(Files.readString(NodeState.agentPidFile(new NodePaths(root))))
                    .filter(ProcessIdentity::isAlive).map(ProcessIdentity::pid).orElse(0L);
        } catch (IOException e) {
            return 0;
        }
    }

    /** The agent's /status document, fetched over HTTP like the CLI does. */
    public Optional<JsonNode> status() {
        try {
            var client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            var r = client.send(HttpRequest.newBuilder(
                    URI.create("http://" + address + ":7331/status")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? Optional.of(JSON.readTree(r.body())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    public Optional<JsonNode> service(String name) {
        return status().flatMap(s -> {
            for (JsonNode svc : s.path("services")) {
                if (svc.path("name").asText().equals(name)) {
                    return Optional.of(svc);
                }
            }
            return Optional.empty();
        });
    }

    /** The pid of a running service, 0 when it is down or the agent does not answer. */
    public long pid(String service) {
        return service(service).filter(s -> s.path("running").asBoolean()).map(s -> s.path("pid").asLong()).orElse(0L);
    }

    /** Every live process that belongs to this node: its cmdline names the node root, or it is one of its PostgreSQL backends. */
    public List<Long> processes() {
        List<Long> pids = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String f = p.getFileName().toString();
                if (!f.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                String cmdline;
                try {
                    cmdline = new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
                } catch (IOException e) {
                    continue; // exited meanwhile
                }
                if (cmdline.contains(root.toString() + "/") || cmdline.contains("--root " + root)
                        || cmdline.startsWith("postgres: " + name + ":")) {
                    if (Long.parseLong(f) != ProcessHandle.current().pid()) {
                        pids.add(Long.parseLong(f));
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return pids;
    }

    /** Ends every process of the node, by pid: TERM, then KILL after a deadline. */
    public void destroy() {
        List<Long> pids = processes();
        pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy));
        waitUntil(Duration.ofSeconds(30), () -> processes().isEmpty());
        processes().forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        waitUntil(Duration.ofSeconds(10), () -> processes().isEmpty());
    }

    /** Polls {@code condition} every 200 ms; whether it held within {@code limit}. */
    public static boolean waitUntil(Duration limit, BooleanSupplier condition) {
        return Poll.until(limit, Duration.ofMillis(200), condition);
    }

    /** This node's certificate from the cluster CA (what its agent presents to etcd), in a closed cluster. */
    public CertificateFiles certificateFiles() {
        return new CertificateFiles(root.resolve("var/opt/chef-backend/ssl/cluster"));
    }

    /**
     * The body of this node's etcd member's 200 answer to GET {@code path} ("/health"), reached as its agent reaches
     * it (in a closed cluster: https on 2378 with this node's certificate); empty otherwise.
     */
    public String etcdGet(String path) {
        try {
            EtcdAccess access = EtcdAccess.of(SecretsFile.load(root.resolve("etc/chef-backend/chef-backend-secrets.json")),
                    certificateFiles());
            Http.Response r = Http.get(access.url(address, access.closed() ? 2378 : 2379) + path, Duration.ofSeconds(3),
                    Duration.ofSeconds(3), access.tls());
            return r.status() == 200 ? new String(r.body(), StandardCharsets.UTF_8) : "";
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
