package org.chefbackend.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.chefbackend.agent.Change;
import org.chefbackend.agent.Launch;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.ClusterCa;
import org.chefbackend.config.ConfigException;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.Settings;
import org.chefbackend.tls.Authority;
import org.chefbackend.tls.NodeCertificates;
import org.chefbackend.tls.SecurityMode;
import org.chefbackend.tls.Subject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EtcdRecipeTest {
    static final String GUID = "4ba4ae0a6686cf6b67590e621459f1e2";
    static final MachineFacts MACHINE = new MachineFacts(4L * 1024 * 1024 * 1024, "n1");
    static final Secrets SECRETS = new Secrets("pw", "repl", "token123", "chef-backend-x");
    static final Path IONICE = Path.of("/usr/bin/ionice");
    static final Path ETCD = Path.of("/usr/bin/etcd");

    static ClusterCa ca;

    @TempDir
    Path root;

    @BeforeAll
    static void authority() {
        ca = Authority.generate(new Subject("US", "YouCorp", "Operations"), 2048, 2);
    }

    NodeContext node(String rb) {
        Settings settings = Settings.from(ChefBackendRbParser.parse("t.rb", "publish_address '127.0.0.5'\n" + rb), MACHINE);
        return new NodeContext(settings, new NodePaths(root), "n1", GUID, SECRETS);
    }

    /** A node of a cluster whose secrets hold a CA: closed to strangers. */
    NodeContext closedNode(String rb) {
        Settings settings = Settings.from(ChefBackendRbParser.parse("t.rb", "publish_address '127.0.0.5'\n" + rb), MACHINE);
        return new NodeContext(settings, new NodePaths(root), "n1", GUID, SECRETS.withCa(ca));
    }

    Launch render(String rb) {
        NodeContext n = node(rb);
        return EtcdRecipe.render(n, EtcdRecipe.initialCluster(n), IONICE, ETCD);
    }

    /** The etcd flags as name to value ("--pre-vote=true" gives pre-vote to true). */
    static Map<String, String> flags(Launch launch) {
        List<String> c = launch.command();
        Map<String, String> flags = new LinkedHashMap<>();
        for (String arg : c.subList(c.indexOf(ETCD.toString()) + 1, c.size())) {
            assertTrue(arg.startsWith("--") && arg.contains("="), arg);
            assertEquals(null, flags.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1)), arg);
        }
        return flags;
    }

    @Test
    void defaultsFormAOneMemberClusterOnThePublishAddress() {
        Launch launch = render("");
        Map<String, String> f = flags(launch);
        assertEquals(GUID, f.get("name"));
        assertEquals(root.resolve("var/opt/chef-backend/etcd/data").toString(), f.get("data-dir"));
        assertEquals("http://127.0.0.5:2379", f.get("listen-client-urls"));
        assertEquals("http://127.0.0.5:2379", f.get("advertise-client-urls"));
        assertEquals("http://127.0.0.5:2380", f.get("listen-peer-urls"));
        assertEquals("http://127.0.0.5:2380", f.get("initial-advertise-peer-urls"));
        assertEquals(GUID + "=http://127.0.0.5:2380", f.get("initial-cluster"));
        assertEquals("new", f.get("initial-cluster-state"));
        assertFalse(f.containsKey("initial-cluster-token"), "a secret on the command line, which ps shows anyone");
        assertFalse(f.containsKey("cert-file"), "TLS in a cluster without a CA");
        assertEquals("500", f.get("heartbeat-interval"));
        assertEquals("5000", f.get("election-timeout"));
        assertEquals("5000", f.get("snapshot-count"));
        assertEquals("true", f.get("pre-vote"));
        assertEquals("true", f.get("enable-v2"));
        assertEquals("zap", f.get("logger"));
        assertEquals("stderr", f.get("log-outputs"));
        assertEquals("chef-backend", launch.user());
        assertEquals(Map.of("ETCD_INITIAL_CLUSTER_TOKEN", "token123"), launch.environment());
        assertEquals(root.resolve("var/opt/chef-backend/etcd/data"), launch.workingDirectory());
        // the default I/O class 2 (best effort), level 0
        assertEquals(List.of("/usr/bin/ionice", "-c", "2", "-n", "0", "/usr/bin/etcd"), launch.command().subList(0, 6));
        assertFalse(String.join(" ", launch.command()).matches(".*(0\\.0\\.0\\.0|127\\.0\\.0\\.1|localhost).*"));
    }

    @Test
    void everyEtcdOptionReachesItsFlag() {
        Map<String, String> f = flags(render("""
                etcd.client_port = 12379
                etcd.peer_port = 12380
                etcd.heartbeat_interval = 100
                etcd.election_timeout = 1000
                etcd.snapshot_count = 777
                etcd.data_dir = '/srv/etcd'
                """));
        assertEquals("http://127.0.0.5:12379", f.get("listen-client-urls"));
        assertEquals("http://127.0.0.5:12379", f.get("advertise-client-urls"));
        assertEquals("http://127.0.0.5:12380", f.get("listen-peer-urls"));
        assertEquals("http://127.0.0.5:12380", f.get("initial-advertise-peer-urls"));
        assertEquals(GUID + "=http://127.0.0.5:12380", f.get("initial-cluster"));
        assertEquals("100", f.get("heartbeat-interval"));
        assertEquals("1000", f.get("election-timeout"));
        assertEquals("777", f.get("snapshot-count"));
        assertEquals(root.resolve("srv/etcd").toString(), f.get("data-dir"));

        Launch env = render("etcd.environment = { 'GOGC' => '50', 'ETCD_QUOTA_BACKEND_BYTES' => 4294967296 }");
        assertEquals(Map.of("GOGC", "50", "ETCD_QUOTA_BACKEND_BYTES", "4294967296",
                "ETCD_INITIAL_CLUSTER_TOKEN", "token123"), env.environment());
    }

    @Test
    void ioniceWrapsEtcdWithClassAndLevel() {
        assertEquals(List.of("/usr/bin/ionice", "-c", "2", "-n", "7", "/usr/bin/etcd"),
                render("etcd.ionice.level = 7").command().subList(0, 6));
        // idle and none take no level (ionice warns "ignoring given class data")
        assertEquals(List.of("/usr/bin/ionice", "-c", "3", "/usr/bin/etcd"),
                render("etcd.ionice.class = 3\netcd.ionice.level = 4").command().subList(0, 4));
        assertEquals(List.of("/usr/bin/ionice", "-c", "0", "/usr/bin/etcd"),
                render("etcd.ionice.class = 0").command().subList(0, 4));
        // real-time is refused to the unprivileged etcd user: -t starts etcd anyway
        assertEquals(List.of("/usr/bin/ionice", "-t", "-c", "1", "-n", "3", "/usr/bin/etcd"),
                render("etcd.ionice.class = 1\netcd.ionice.level = 3").command().subList(0, 7));
    }

    @Test
    void ipv6AddressesAreBracketedInUrls() {
        Settings settings = Settings.from(ChefBackendRbParser.parse("t.rb", "publish_address 'fd00::5'"), MACHINE);
        NodeContext n = new NodeContext(settings, new NodePaths(root), "n1", GUID, SECRETS);
        assertEquals("http://[fd00::5]:2379", EtcdRecipe.clientUrl(n));
        assertEquals("http://[fd00::5]:2380", flags(EtcdRecipe.render(n, EtcdRecipe.initialCluster(n), IONICE, ETCD))
                .get("listen-peer-urls"));
    }

    @Test
    void theInitialClusterFileIsHonoured() throws IOException {
        NodeContext n = node("");
        Map<String, String> members = Map.of(
                "89cc3a0c2e3e51bdc5db1f97f63deb99", "http://127.0.0.7:2380",
                GUID, "http://127.0.0.5:2380",
                "2f74e8c0e2bda03aa94c1435d0a42490", "http://127.0.0.6:2380");
        EtcdRecipe.writeInitialCluster(n, "existing", members);
        assertTrue(Files.exists(root.resolve("var/opt/chef-backend/etcd/initial-cluster.json")));
        assertEquals(new InitialCluster("existing", members), EtcdRecipe.initialCluster(n));

        Map<String, String> f = flags(render(""));
        assertEquals("existing", f.get("initial-cluster-state"));
        // sorted by name, so the rendering (and Change detection) is stable
        assertEquals("2f74e8c0e2bda03aa94c1435d0a42490=http://127.0.0.6:2380,"
                + GUID + "=http://127.0.0.5:2380,"
                + "89cc3a0c2e3e51bdc5db1f97f63deb99=http://127.0.0.7:2380", f.get("initial-cluster"));
    }

    @Test
    void anInitialClusterWithoutThisNodeOrWithAnotherUrlIsRefused() throws IOException {
        NodeContext n = node("");
        EtcdRecipe.writeInitialCluster(n, "existing", Map.of("89cc3a0c2e3e51bdc5db1f97f63deb99", "http://127.0.0.7:2380"));
        assertTrue(assertThrows(ServiceSetupException.class, () -> render("")).getMessage()
                .contains("does not list this node"));
        EtcdRecipe.writeInitialCluster(n, "new", Map.of(GUID, "http://127.0.0.9:2380"));
        assertTrue(assertThrows(ServiceSetupException.class, () -> render("")).getMessage()
                .contains("peer URL http://127.0.0.9:2380"));
        assertThrows(IllegalArgumentException.class,
                () -> EtcdRecipe.writeInitialCluster(n, "joining", Map.of(GUID, "http://127.0.0.5:2380")));
        assertThrows(IllegalArgumentException.class,
                () -> EtcdRecipe.writeInitialCluster(n, "new", Map.of("a=b", "http://127.0.0.5:2380")));
        Files.writeString(root.resolve("var/opt/chef-backend/etcd/initial-cluster.json"), "{\"state\":");
        assertTrue(assertThrows(ServiceSetupException.class, () -> EtcdRecipe.initialCluster(n)).getMessage()
                .startsWith("cannot read "));
    }

    @Test
    void settingsEtcdWouldRefuseAreRefusedWithAClearMessage() {
        assertTrue(assertThrows(ServiceSetupException.class,
                () -> render("etcd.heartbeat_interval = 500\netcd.election_timeout = 1000")).getMessage()
                .contains("at least 5 times"));
        // etcd's own upper limit is part of the setting's type: the file is refused with its position
        assertTrue(assertThrows(ConfigException.class,
                () -> render("etcd.election_timeout = 60000")).getMessage().contains("from 1 to 50000"));
        assertTrue(assertThrows(ServiceSetupException.class,
                () -> render("etcd.environment = { 'ETCD_NAME' => 'x' }")).getMessage().contains("--name"));
        assertEquals("etcd.environment sets ETCD_INITIAL_CLUSTER_TOKEN, which chef-backend sets from"
                + " chef-backend-secrets.json", assertThrows(ServiceSetupException.class,
                () -> render("etcd.environment = { 'ETCD_INITIAL_CLUSTER_TOKEN' => 'x' }")).getMessage());
    }

    @Test
    void aClusterWithACaServesOnlyHttpsToClientsWithACertificateAndMutualTlsToPeers() {
        NodeContext n = closedNode("");
        Launch launch = EtcdRecipe.render(n, EtcdRecipe.initialCluster(n), IONICE, ETCD);
        Map<String, String> f = flags(launch);
        Path tls = root.resolve("var/opt/chef-backend/etcd/tls");
        // no plain http: the agent answers the frontends' GET /v2/members on 2379 (MemberDiscovery)
        assertEquals("https://127.0.0.5:2378", f.get("listen-client-urls"));
        assertEquals("https://127.0.0.5:2378", f.get("advertise-client-urls"));
        assertEquals("https://127.0.0.5:2380", f.get("listen-peer-urls"));
        assertEquals("https://127.0.0.5:2380", f.get("initial-advertise-peer-urls"));
        assertEquals(GUID + "=https://127.0.0.5:2380", f.get("initial-cluster"));
        assertEquals(tls.resolve("node.crt").toString(), f.get("cert-file"));
        assertEquals(tls.resolve("node.key").toString(), f.get("key-file"));
        assertEquals(tls.resolve("node.crt").toString(), f.get("peer-cert-file"));
        assertEquals(tls.resolve("node.key").toString(), f.get("peer-key-file"));
        assertEquals(tls.resolve("ca.crt").toString(), f.get("peer-trusted-ca-file"));
        assertEquals("true", f.get("peer-client-cert-auth"));
        assertEquals("true", f.get("experimental-peer-skip-client-san-verification"));
        // a stranger never gets past the handshake, so none of etcd 3.4's unauthenticated calls (leases, alarms) is his
        assertEquals("true", f.get("client-cert-auth"));
        assertEquals(tls.resolve("ca.crt").toString(), f.get("trusted-ca-file"));
        assertEquals(Map.of("ETCD_INITIAL_CLUSTER_TOKEN", "token123"), launch.environment());
        assertFalse(String.join(" ", launch.command()).contains("token123"));
        assertEquals("https://127.0.0.5:2378", EtcdRecipe.clientUrl(n));
        assertEquals("http://127.0.0.5:2379", EtcdRecipe.plainClientUrl(n));
        assertEquals(List.of(new InetSocketAddress("127.0.0.5", 2378), new InetSocketAddress("127.0.0.5", 2380)),
                new EtcdRecipe().listenAddresses(n));
        // 2379 stays etcd's claim for configuration checks: the agent serves it on etcd's behalf
        assertEquals(List.of(new InetSocketAddress("127.0.0.5", 2378), new InetSocketAddress("127.0.0.5", 2380),
                new InetSocketAddress("127.0.0.5", 2379)), new EtcdRecipe().claimedAddresses(n));
        assertTrue(assertThrows(ServiceSetupException.class, () -> EtcdRecipe.render(closedNode(
                "etcd.environment = { 'ETCD_PEER_CLIENT_CERT_AUTH' => 'false' }"), EtcdRecipe.initialCluster(n), IONICE,
                ETCD)).getMessage().contains("--peer-client-cert-auth"));
    }

    @Test
    void whileSecureClusterClosesAnOpenClusterEtcdAndItsAgentTurnTlsOnAtTheEtcdTlsStep() throws IOException {
        NodeContext n = closedNode("");
        // written while the cluster was open: http peer URLs
        EtcdRecipe.writeInitialCluster(node(""), "existing", Map.of(GUID, "http://127.0.0.5:2380",
                "0123456789abcdef0123456789abcdef", "http://127.0.0.6:2380"));

        SecurityMode.record(n.paths(), SecurityMode.CERTIFICATES);
        Map<String, String> f = flags(EtcdRecipe.render(n, EtcdRecipe.initialCluster(n), IONICE, ETCD));
        assertFalse(EtcdAccess.of(n).closed());
        assertEquals("http://127.0.0.5:2379", EtcdRecipe.clientUrl(n));
        assertEquals("http://127.0.0.5:2379", f.get("listen-client-urls"));
        assertEquals("http://127.0.0.5:2380", f.get("listen-peer-urls"));
        assertFalse(f.containsKey("peer-client-cert-auth"), "peer TLS before the etcd-tls step");

        SecurityMode.record(n.paths(), SecurityMode.ETCD_TLS);
        NodeCertificates.ensure(n); // issued at the certificates step
        f = flags(EtcdRecipe.render(n, EtcdRecipe.initialCluster(n), IONICE, ETCD));
        // both client ports: the other nodes' agents and the frontends still use plain http
        assertEquals("http://127.0.0.5:2379,https://127.0.0.5:2378", f.get("listen-client-urls"));
        assertEquals("https://127.0.0.5:2378", f.get("advertise-client-urls"));
        assertEquals(List.of(new InetSocketAddress("127.0.0.5", 2378), new InetSocketAddress("127.0.0.5", 2379),
                new InetSocketAddress("127.0.0.5", 2380)), new EtcdRecipe().listenAddresses(n));
        assertEquals("https://127.0.0.5:2380", f.get("listen-peer-urls"));
        assertEquals("0123456789abcdef0123456789abcdef=https://127.0.0.6:2380," + GUID + "=https://127.0.0.5:2380",
                f.get("initial-cluster"));
        assertEquals("true", f.get("peer-client-cert-auth"));
        assertEquals("true", f.get("client-cert-auth"));
        // the agent moves to https with its member, presenting its certificate
        assertEquals("https://127.0.0.5:2378", EtcdRecipe.clientUrl(n));
        assertTrue(EtcdAccess.of(n).closed());
        assertEquals("chef-backend", EtcdAccess.of(n).clusterUser().user());

        SecurityMode.record(n.paths(), SecurityMode.CLOSED);
        f = flags(EtcdRecipe.render(n, EtcdRecipe.initialCluster(n), IONICE, ETCD));
        assertEquals("https://127.0.0.5:2378", f.get("listen-client-urls"));
    }

    @Test
    void timingWarnsWhenTheLeaderLeaseCanExpireDuringAnEtcdElection() {
        assertTrue(EtcdRecipe.checkTiming(node("").settings()).isEmpty()); // 30 s vs 3 x 5000 ms
        assertTrue(EtcdRecipe.checkTiming(node("leaderl.leader_ttl_seconds = 15").settings()).isEmpty());
        assertTrue(EtcdRecipe.checkTiming(node(
                "leaderl.leader_ttl_seconds = 10\netcd.heartbeat_interval = 100\netcd.election_timeout = 1000")
                .settings()).isEmpty());
        String warning = EtcdRecipe.checkTiming(node("leaderl.leader_ttl_seconds = 10").settings()).orElseThrow();
        assertTrue(warning.contains("at least 15"), warning);
        assertTrue(EtcdRecipe.checkTiming(node("leaderl.leader_ttl_seconds = 15\netcd.election_timeout = 5001").settings()).orElseThrow()
                .contains("at least 16"));
    }

    @Test
    void changeDetectionComparesTheRenderedLaunch() throws IOException {
        Path file = root.resolve("var/opt/chef-backend/etcd/etcd.launch.json");
        assertEquals(Change.RESTART, EtcdRecipe.writeIfChanged(file, EtcdRecipe.describe(render(""))));
        assertEquals(Change.NONE, EtcdRecipe.writeIfChanged(file, EtcdRecipe.describe(render(""))));
        assertEquals(Change.RESTART, EtcdRecipe.writeIfChanged(file,
                EtcdRecipe.describe(render("etcd.snapshot_count = 10000"))));
        assertEquals(Change.RESTART, EtcdRecipe.writeIfChanged(file,
                EtcdRecipe.describe(render("etcd.snapshot_count = 10000\netcd.environment = { 'GOGC' => '50' }"))));
        assertEquals(Change.NONE, EtcdRecipe.writeIfChanged(file,
                EtcdRecipe.describe(render("etcd.snapshot_count = 10000\netcd.environment = { 'GOGC' => '50' }"))));
        assertTrue(Files.readString(file).contains("\"--snapshot-count=10000\""));
    }

    @Test
    void theLaunchFileKeepsTheTokenOnlyAsItsHash() throws IOException {
        String described = EtcdRecipe.describe(render(""));
        assertFalse(described.contains("token123"), described);
        // sha256("token123"): another token is another launch (only a new cluster's first start reads it)
        assertTrue(described.contains("\"ETCD_INITIAL_CLUSTER_TOKEN\" : \"sha256:"
                + "b13ae34b9231f95675ff502761b64aedd0c278f5b6e8730ce99b72f35b2ddfb0\""), described);
    }

    @Test
    void listensOnTheClientAndPeerAddress() {
        assertEquals(List.of(new InetSocketAddress("127.0.0.5", 2379), new InetSocketAddress("127.0.0.5", 2380)),
                new EtcdRecipe().listenAddresses(node("")));
    }

    @Test
    void withoutAPublishAddressThereIsNothingToListenOn() {
        Settings settings = Settings.from(List.of(), MACHINE);
        NodeContext n = new NodeContext(settings, new NodePaths(root), "n1", GUID, SECRETS);
        assertTrue(assertThrows(ServiceSetupException.class, () -> new EtcdRecipe().listenAddresses(n)).getMessage()
                .contains("publish_address"));
    }
}
