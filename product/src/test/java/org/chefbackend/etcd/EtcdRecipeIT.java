package org.chefbackend.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.chefbackend.agent.Change;
import org.chefbackend.agent.Launch;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.RotatingLog;
import org.chefbackend.agent.ServiceUsers;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.Settings;
import org.chefbackend.system.FileTrees;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A real etcd (Debian's etcd-server) started from the recipe, as the supervisor would, as root. */
class EtcdRecipeIT {
    static final Path ROOT = Path.of("/tmp/cbt-etcd");
    static final String ADDRESS = "127.0.0.23";
    static final String GUID = randomGuid();
    static final EtcdRecipe RECIPE = new EtcdRecipe();

    static NodeContext node;
    static Process etcd;
    static RotatingLog output;

    @BeforeAll
    static void startEtcd() throws Exception {
        FileTrees.deleteTree(ROOT);
        Settings settings = Settings.from(ChefBackendRbParser.parse("t.rb", "publish_address '" + ADDRESS + "'"),
                new MachineFacts(1L << 32, "n23")); // etcd's defaults: 500/5000 ms, as production runs it
        node = new NodeContext(settings, new NodePaths(ROOT), "n23", GUID, Secrets.generate(new SecureRandom()));

        assertEquals(Change.RESTART, RECIPE.prepare(node)); // first render
        assertEquals(Change.NONE, RECIPE.prepare(node));

        Launch launch = RECIPE.launch(node);
        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=" + launch.user(),
                "--regid=" + launch.user(), "--init-groups", "--"));
        command.addAll(launch.command());
        ProcessBuilder pb = new ProcessBuilder(command).directory(launch.workingDirectory().toFile())
                .redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        pb.environment().putAll(launch.environment());
        output = RotatingLog.forService(node, "etcd");
        etcd = pb.start();
        etcd.getOutputStream().close();
        RotatingLog.pump(etcd.getInputStream(), output, "etcd-it-output");

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!EtcdProbe.health(node)) {
            if (!etcd.isAlive() || System.nanoTime() > deadline) {
                fail("etcd not healthy (alive: " + etcd.isAlive() + "); its output:\n" + log());
            }
            Thread.sleep(200);
        }
    }

    @AfterAll
    static void stopEtcd() throws Exception {
        if (etcd != null && etcd.isAlive()) {
            etcd.destroy(); // SIGTERM to the pid we started, which is etcd's (setpriv and ionice exec)
            if (!etcd.waitFor(20, TimeUnit.SECONDS)) {
                etcd.destroyForcibly();
                etcd.waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (output != null) {
            output.close();
        }
    }

    @Test
    void membersListThisNodeByItsGuidAsFrontendsExpect() {
        List<EtcdProbe.Member> members = EtcdProbe.members(node);
        assertEquals(1, members.size(), members::toString);
        EtcdProbe.Member m = members.get(0);
        assertEquals(GUID, m.name());
        assertEquals(List.of("http://" + ADDRESS + ":2380"), m.peerURLs());
        assertEquals(List.of("http://" + ADDRESS + ":2379"), m.clientURLs());
    }

    @Test
    void runsAsChefBackendWithTheRenderedFlags() throws Exception {
        long pid = etcd.pid();
        assertEquals("etcd", Files.readString(Path.of("/proc/" + pid + "/comm")).trim());
        int uid = (Integer) Files.getAttribute(node.path("etcd.data_dir"), "unix:uid", LinkOption.NOFOLLOW_LINKS);
        String status = Files.readString(Path.of("/proc/" + pid + "/status"));
        String uidLine = status.lines().filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow();
        assertEquals(List.of(uid, uid, uid, uid),
                Stream.of(uidLine.substring(4).trim().split("\\s+")).map(Integer::valueOf).toList());
        assertTrue(ServiceUsers.exists(ServiceUsers.CHEF_BACKEND));

        List<String> cmdline = List.of(Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0"));
        assertTrue(cmdline.contains("--pre-vote=true"), cmdline::toString);
        assertTrue(cmdline.contains("--name=" + GUID), cmdline::toString);
        // ionice exec'd etcd: the pid we started runs etcd with exactly the rendered arguments, in ionice's class
        List<String> rendered = RECIPE.launch(node).command();
        assertEquals(rendered.subList(rendered.indexOf("/usr/bin/etcd"), rendered.size()), cmdline);
        Process ionice = new ProcessBuilder("ionice", "-p", String.valueOf(pid)).redirectErrorStream(true).start();
        assertEquals("best-effort: prio 0", new String(ionice.getInputStream().readAllBytes()).trim());
        assertEquals(PosixFilePermissions.fromString("rwx------"), Files.getPosixFilePermissions(node.path("etcd.data_dir")));
    }

    @Test
    void listensOnlyOnThePublishAddress() {
        assertThrows(IOException.class, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", 2379), 1000);
            }
        }, "something answers on 127.0.0.1:2379");
    }

    @Test
    void storesAndReadsAKeyThroughEtcdctl() throws Exception {
        String endpoint = "--endpoints=http://" + ADDRESS + ":2379";
        assertEquals("OK", etcdctl(endpoint, "put", "/cbt/hello", "world").trim());
        assertEquals("/cbt/hello\nworld", etcdctl(endpoint, "get", "/cbt/hello").trim());
    }

    @Test
    void theLogCapturesEtcdsOutput() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5); // the pump writes asynchronously
        while (!log().contains(READY) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(log().contains(READY), log());
    }

    @Test
    void prepareReportsARestartOnlyWhenTheLaunchChanges() throws IOException {
        assertEquals(Change.NONE, RECIPE.prepare(node));
        Settings changed = node.settings().with("etcd.snapshot_count", 9000L);
        NodeContext other = new NodeContext(changed, node.paths(), node.nodeName(), GUID, node.secrets());
        assertEquals(Change.RESTART, RECIPE.prepare(other));
        assertEquals(Change.RESTART, RECIPE.prepare(node)); // and back
        assertFalse(Files.exists(ROOT.resolve("var/opt/chef-backend/etcd/etcd.launch.json.tmp")));
    }

    static String randomGuid() {
        byte[] id = new byte[16];
        new SecureRandom().nextBytes(id);
        return HexFormat.of().formatHex(id);
    }

    static String etcdctl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("etcdctl"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(Map.of("ETCDCTL_API", "3"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    static final String READY = "\"msg\":\"now serving peer/client/metrics\"";

    static String log() throws IOException {
        return Files.readString(node.logDirectory("etcd").resolve("current"));
    }
}
