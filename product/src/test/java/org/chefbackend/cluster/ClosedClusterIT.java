package org.chefbackend.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.chefbackend.config.Secrets;
import org.chefbackend.dcs.ClusterStore;
import org.chefbackend.dcs.DcsException;
import org.chefbackend.dcs.EtcdAuthSetup;
import org.chefbackend.etcd.EtcdAccess;
import org.chefbackend.testing.Curl;
import org.chefbackend.testing.TestCluster;
import org.chefbackend.testing.TestNode;
import org.chefbackend.tls.Pem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A cluster closed to strangers (issue 20), built as an operator does on 127.0.0.135–137: a stranger without the
 * secrets, from 127.0.0.138, tries what the issue found open (reading and writing the cluster's keys, leases,
 * compaction, alarms, watches, membership changes over v2 and v3, auth changes, on etcd's client port and on the
 * frontends' port 2379; the agents' admin calls; etcd's peer port with no certificate or another CA's), and every
 * attempt fails for the reason asserted; the same requests with a node's certificate and the cluster's credentials
 * succeed, from the same address, so the refusals are not an artifact of the test. Chef Server frontends' discovery
 * stays open.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClosedClusterIT {
    static final List<String> ADDRESSES = List.of("127.0.0.135", "127.0.0.136", "127.0.0.137");
    static final String STRANGER = "127.0.0.138";
    static final Path WORK = Path.of("/tmp/cbit-closed/it");
    static final ObjectMapper JSON = new ObjectMapper();
    static final String NO_USER = "etcdserver: user name is empty";

    TestCluster cluster;
    Secrets secrets;
    EtcdAccess access;
    final Curl stranger = new Curl(STRANGER);
    final List<String> table = new ArrayList<>();

    @BeforeAll
    void build() throws Exception {
        cluster = TestCluster.create(ADDRESSES, Path.of("/tmp/cbit-closed"), null);
        secrets = cluster.secrets();
        access = cluster.etcdAccess();
        Files.createDirectories(WORK);
        Files.writeString(WORK.resolve("ca.crt"), secrets.ca().certificatePem());
        otherCa();
    }

    @AfterAll
    void destroy() {
        table.forEach(System.out::println); // the attempts and what each got, for the record
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void everyAttemptOfAStrangerFailsWhileTheClustersCredentialsSucceed() throws Exception {
        assertTrue(access.closed(), "create-cluster made no CA");
        TestNode a = cluster.nodes.get(0);
        Optional<ClusterStore.Versioned> leaderBefore;
        try (ClusterStore s = cluster.store()) {
            leaderBefore = s.get("leader");
        }
        assertTrue(leaderBefore.isPresent(), "no leader to protect");
        long leaderLease = leaderBefore.get().leaseId();
        String leader = b64("/chef-backend/leader");
        String intent = b64("/chef-backend/intent");
        String probe = b64("/chef-backend/closed-it-probe");
        String userToken = token(a, Secrets.ETCD_CLUSTER_USER);
        String rootToken = token(a, Secrets.ETCD_ROOT_USER);
        String[] asUser = cat(node(a), "-H", "Authorization: " + userToken);
        String[] asRoot = cat(node(a), "-H", "Authorization: " + rootToken);
        String[] v2Root = cat(node(a), "-u", "root:" + secrets.etcdPassword("root"));
        String https = "https://" + a.address + ":2378";
        // etcd's client port: no certificate from the cluster CA, no HTTP at all, whatever the request, including
        // those etcd 3.4 answers without a user (leases, compaction, alarms)
        String[][] attempts = {
            {"v3 range /chef-backend/leader", "/v3/kv/range", "{\"key\":\"" + leader + "\"}"},
            {"v3 put /chef-backend/intent", "/v3/kv/put", "{\"key\":\"" + intent + "\",\"value\":\"" + b64("{}") + "\"}"},
            {"v3 deleterange /chef-backend/leader", "/v3/kv/deleterange", "{\"key\":\"" + leader + "\"}"},
            {"v3 lease grant", "/v3/lease/grant", "{\"TTL\":60}"},
            {"v3 lease list", "/v3/lease/leases", "{}"},
            {"v3 lease keep-alive of the leader's lease", "/v3/lease/keepalive", "{\"ID\":\"" + leaderLease + "\"}"},
            {"v3 lease time-to-live with keys", "/v3/lease/timetolive", "{\"ID\":\"" + leaderLease + "\",\"keys\":true}"},
            {"v3 compaction", "/v3/kv/compaction", "{\"revision\":\"1\"}"},
            {"v3 alarm NOSPACE", "/v3/maintenance/alarm", "{\"memberID\":\"0\",\"alarm\":\"NOSPACE\",\"action\":\"ACTIVATE\"}"},
            {"v3 watch /chef-backend/leader", "/v3/watch", "{\"create_request\":{\"key\":\"" + leader + "\"}}"},
            {"v3 member add", "/v3/cluster/member/add", "{\"peerURLs\":[\"https://" + STRANGER + ":2380\"]}"},
            {"v3 auth disable", "/v3/auth/disable", "{}"},
        };
        for (String[] t : attempts) {
            noHttp(t[0] + ", no client certificate", () -> stranger.send("POST", https + t[1], t[2], "-k"));
            noHttp(t[0] + ", a certificate from another CA", () -> stranger.send("POST", https + t[1], t[2], "-k",
                    "--cert", WORK.resolve("stranger.crt").toString(), "--key", WORK.resolve("stranger.key").toString()));
        }
        for (String[] t : List.of(new String[] {"GET", "/v2/keys/chef-backend/leader"},
                new String[] {"POST", "/v2/members"}, new String[] {"DELETE", "/v2/members/" + memberHex(a)},
                new String[] {"GET", "/health"})) {
            noHttp("v2/other " + t[0] + " " + t[1] + ", no client certificate",
                    () -> stranger.send(t[0], https + t[1], null, "-k"));
        }

        // the frontends' port: only the agent's GET /v2/members; etcd's API is not there
        String http = "http://" + a.address + ":2379";
        for (String[] t : List.of(new String[] {"POST", "/v3/kv/range"}, new String[] {"POST", "/v3/kv/put"},
                new String[] {"POST", "/v3/lease/keepalive"}, new String[] {"POST", "/v3/maintenance/alarm"},
                new String[] {"GET", "/v2/keys/chef-backend/leader"}, new String[] {"PUT", "/v2/keys/stranger"},
                new String[] {"GET", "/health"}, new String[] {"GET", "/v2/stats/self"})) {
            Curl.Answer r = stranger.send(t[0], http + t[1], t[0].equals("GET") ? null : "{}");
            assertEquals(404, r.status(), t[0] + " " + t[1] + " on 2379: " + r);
            record(t[0] + " " + t[1] + " on :2379 (plain http)", "HTTP 404 (the agent's member discovery serves"
                    + " GET /v2/members alone)");
        }
        for (String method : List.of("POST", "PUT", "DELETE")) {
            Curl.Answer r = stranger.send(method, http + "/v2/members", "{\"peerURLs\":[\"https://" + STRANGER
                    + ":2380\"]}");
            assertEquals(405, r.status(), method + " /v2/members on 2379: " + r);
            record(method + " /v2/members on :2379 (member change)", "HTTP 405");
        }

        // the agents' admin calls: none without a signature by the cluster's admin key
        String agent = "http://" + a.address + ":7331";
        long now = System.currentTimeMillis();
        for (String[] t : List.of(new String[] {"/admin/shutdown", null}, new String[] {"/admin/cluster/remove", null},
                new String[] {"/admin/services/postgresql/stop", null},
                new String[] {"/admin/shutdown", "v2 ts=" + now + " nonce=n1 target=" + a.address + ":7331 sig=00ff"},
                new String[] {"/admin/shutdown", "v1 ts=" + now + " nonce=n2 sig=00ff"})) {
            Curl.Answer r = t[1] == null ? stranger.send("POST", agent + t[0], "{}")
                    : stranger.send("POST", agent + t[0], "{}", "-H", "X-Chef-Backend-Auth: " + t[1]);
            assertEquals(401, r.status(), "admin call " + t[0] + ": " + r);
            record("POST " + t[0] + " on :7331" + (t[1] == null ? ", unsigned" : ", forged " + t[1].substring(0, 2)
                    + " signature"), "HTTP 401 " + JSON_ERROR.matcher(r.body()).replaceFirst("$1"));
        }
        assertEquals(0, a.ctl("reconfigure").code(), "control: the operator's signed admin call");

        // with a node's certificate but no user, etcd's own auth still refuses the keys and the membership
        refusedV3("(a node's certificate, no user) v3 range /chef-backend/leader", https + "/v3/kv/range",
                "{\"key\":\"" + leader + "\"}", node(a));
        refusedV3("(a node's certificate, no user) v3 put /chef-backend/intent", https + "/v3/kv/put",
                "{\"key\":\"" + intent + "\",\"value\":\"" + b64("{}") + "\"}", node(a));
        refusedV3("(a node's certificate, no user) v3 member add", https + "/v3/cluster/member/add",
                "{\"peerURLs\":[\"https://" + STRANGER + ":2380\"],\"isLearner\":true}", node(a));
        v2DroppedWithoutUser(a, "(a node's certificate, no user) v2 keys read", https + "/v2/keys/chef-backend/leader");

        // etcd's peer port: mutual TLS from the cluster CA
        String peer = "https://" + a.address + ":2380/members";
        refusedTls(a, "peer port 2380, no client certificate", "tls: client didn't provide a certificate",
                () -> stranger.send("GET", peer, null, "--http1.1", "-k"));
        refusedTls(a, "peer port 2380, a certificate from another CA", "certificate signed by unknown authority",
                () -> stranger.send("GET", peer, null, "--http1.1", "-k", "--cert", WORK.resolve("stranger.crt").toString(),
                        "--key", WORK.resolve("stranger.key").toString()));
        Curl.Answer peerOk = stranger.send("GET", peer, null, cat(node(a), "--http1.1"));
        assertEquals(200, peerOk.status(), "control: the peer port takes the cluster's certificate: " + peerOk);

        // a client trusting another CA does not talk to etcd at all, so it never hands over a password
        try (ClusterStore impostorTrust = ClusterStore.connect(List.of(https), "/chef-backend/", Duration.ofSeconds(5),
                access.clusterUser(), Pem.context(Files.readString(WORK.resolve("other-ca.crt")), null, null))) {
            DcsException e = assertThrows(DcsException.class, () -> impostorTrust.get("leader"));
            assertTrue(e.getMessage().contains("PKIX path building failed"), e.getMessage());
            record("https client trusting another CA (with the cluster's credentials)", e.getMessage());
        }

        // controls: the same requests with a node's certificate and the cluster's credentials, from the same address
        String put = "{\"key\":\"" + probe + "\",\"value\":\"" + b64("control") + "\"}";
        ok("v3 put", stranger.send("POST", https + "/v3/kv/put", put, asUser));
        JsonNode range = JSON.readTree(ok("v3 range", stranger.send("POST", https + "/v3/kv/range",
                "{\"key\":\"" + leader + "\"}", asUser)).body());
        assertEquals(leaderBefore.get().value(), text(range.path("kvs").path(0).path("value")));
        ok("v3 txn", stranger.send("POST", https + "/v3/kv/txn", "{\"success\":[{\"request_put\":" + put + "}]}",
                asUser));
        JsonNode granted = JSON.readTree(ok("v3 lease grant", stranger.send("POST", https + "/v3/lease/grant",
                "{\"TTL\":60}", asUser)).body());
        ok("v3 put with the lease", stranger.send("POST", https + "/v3/kv/put", "{\"key\":\"" + probe
                + "\",\"value\":\"" + b64("leased") + "\",\"lease\":\"" + granted.path("ID").asText() + "\"}", asUser));
        ok("v3 deleterange", stranger.send("POST", https + "/v3/kv/deleterange", "{\"key\":\"" + probe + "\"}",
                asUser));
        Curl.Answer watched = stranger.send("POST", https + "/v3/watch", "{\"create_request\":{\"key\":\"" + leader
                + "\"}}", cat(asUser, "--max-time", "3"));
        JsonNode created = JSON.readTree(watched.body().lines().findFirst().orElse("{}")).path("result");
        assertTrue(created.path("created").asBoolean() && !created.path("canceled").asBoolean(),
                "control: watch: " + watched);
        JsonNode learner = JSON.readTree(ok("v3 member add (a learner)", stranger.send("POST",
                https + "/v3/cluster/member/add", "{\"peerURLs\":[\"https://" + STRANGER + ":2380\"],"
                + "\"isLearner\":true}", asRoot)).body()).path("member");
        ok("v3 member remove", stranger.send("POST", https + "/v3/cluster/member/remove",
                "{\"ID\":\"" + learner.path("ID").asText() + "\"}", asRoot));
        ok("v3 auth user add", stranger.send("POST", https + "/v3/auth/user/add",
                "{\"name\":\"control\",\"password\":\"x\"}", asRoot));
        ok("v3 auth user delete", stranger.send("POST", https + "/v3/auth/user/delete", "{\"name\":\"control\"}",
                asRoot));
        ok("v2 keys write", stranger.send("PUT", https + "/v2/keys/control?value=x", null, v2Root));
        ok("v2 keys read", stranger.send("GET", https + "/v2/keys/control", null, v2Root));
        // v2 membership is closed to everyone: v2's root passes v2 auth, then etcd's v3 auth refuses the change
        Curl.Answer v2Add = stranger.send("POST", https + "/v2/members",
                "{\"peerURLs\":[\"https://" + STRANGER + ":2380\"]}", v2Root);
        assertEquals(500, v2Add.status(), "v2 member add as v2 root: " + v2Add);
        record("(v2 root, for comparison) v2 member add", "HTTP 500; etcd logs: failed to add a member: auth: user"
                + " name is empty (v3 auth also guards v2 membership)");
        ok("v2 auth user add", stranger.send("PUT", https + "/v2/auth/users/control",
                "{\"user\":\"control\",\"password\":\"x\"}", v2Root));
        ok("v2 auth user delete", stranger.send("DELETE", https + "/v2/auth/users/control", null, v2Root));

        // nothing the stranger tried took effect
        try (ClusterStore s = cluster.store()) {
            assertEquals(leaderBefore.get().value(), s.get("leader").orElseThrow().value());
            assertTrue(s.get("intent").isEmpty(), "an intent appeared");
            assertEquals(3, s.etcdMembers().size());
        }
    }

    @Test
    @Order(2)
    void frontendsStillReadTheMembersOverPlainHttpWithoutCredentials() throws Exception {
        TestNode a = cluster.nodes.get(1);
        Curl.Answer members = stranger.send("GET", "http://" + a.address + ":2379/v2/members", null);
        assertEquals(200, members.status(), members.toString());
        List<String> hosts = new ArrayList<>();
        for (JsonNode m : JSON.readTree(members.body()).path("members")) {
            String url = m.path("peerURLs").get(0).asText();
            assertTrue(url.startsWith("https://"), url);
            hosts.add(URI.create(url).getHost()); // what chef-server's chef_backend.rb takes from it
        }
        assertEquals(ADDRESSES, hosts.stream().sorted().toList());
        record("GET http://" + a.address + ":2379/v2/members (frontends' discovery)", "HTTP 200, peer hosts " + hosts);
        // etcd's own answer, as the node's certificate reads it from etcd
        Curl.Answer direct = stranger.send("GET", "https://" + a.address + ":2378/v2/members", null, node(a));
        assertEquals(JSON.readTree(direct.body()), JSON.readTree(members.body()));
        assertEquals(200, stranger.send("HEAD", "http://" + a.address + ":2379/v2/members", null).status());
    }

    @Test
    @Order(3)
    void noSecretShowsOnACommandLineOrInALogAndEtcdsKeyIsItsOwn() throws Exception {
        List<String> values = new ArrayList<>(secrets.accessValues());
        values.add(secrets.ca().keyPem().lines().skip(1).findFirst().orElseThrow()); // a line of the CA key
        for (TestNode n : cluster.nodes) {
            List<String> seen = new ArrayList<>();
            for (long pid : n.processes()) {
                String cmdline;
                try {
                    cmdline = Files.readString(Path.of("/proc", String.valueOf(pid), "cmdline"),
                            StandardCharsets.ISO_8859_1).replace('\0', ' ');
                } catch (IOException e) {
                    continue; // exited meanwhile
                }
                seen.add(cmdline);
                for (String v : values) {
                    assertFalse(cmdline.contains(v), "a secret on the command line of pid " + pid + ": " + cmdline);
                }
            }
            // every service was looked at: etcd, PostgreSQL, OpenSearch and the agent
            for (String marker : List.of("/etcd --name=", "postgresql/15/bin/postgres ",
                    "org.opensearch.bootstrap.OpenSearch", "org.chefbackend.node.NodeAgent")) {
                assertTrue(seen.stream().anyMatch(c -> c.contains(marker)), marker + " not among " + seen);
            }
            try (Stream<Path> logs = Files.walk(n.root.resolve("var/log"))) {
                for (Path f : (Iterable<Path>) logs.filter(Files::isRegularFile)::iterator) {
                    String content = Files.readString(f, StandardCharsets.ISO_8859_1);
                    for (String v : values) {
                        assertFalse(content.contains(v), "a secret in " + f);
                    }
                }
            }
            Path etcdLog = n.root.resolve("var/log/chef-backend/etcd/current");
            assertTrue(Files.readString(etcdLog).contains("\"initial-cluster-token\":\"<redacted>\""),
                    "etcd's logged configuration is not where the test looks");
            Path tls = n.root.resolve("var/opt/chef-backend/etcd/tls");
            assertEquals("chef-backend", Files.getOwner(tls, LinkOption.NOFOLLOW_LINKS).getName());
            assertEquals(PosixFilePermissions.fromString("rwx------"), Files.getPosixFilePermissions(tls));
            assertEquals("chef-backend", Files.getOwner(tls.resolve("node.key")).getName());
            assertEquals(PosixFilePermissions.fromString("rw-------"),
                    Files.getPosixFilePermissions(tls.resolve("node.key")));
        }
        record("command lines (etcd, postgres, opensearch, agent) and var/log of every node",
                "no secret value in any");
    }

    /**
     * Auth set-up completes what is missing, as after a crash half-way: with v2 and v3 auth turned off (as root: the
     * controls for "auth disable"), the stranger's read goes through; one run closes etcd again, a second finds
     * nothing to do.
     */
    @Test
    @Order(4)
    void authSetUpCompletesWhatIsMissingAndThenHasNothingToDo() throws Exception {
        TestNode a = cluster.nodes.get(0);
        String https = "https://" + a.address + ":2378";
        String rootToken = token(a, Secrets.ETCD_ROOT_USER);
        ok("v2 auth disable", stranger.send("DELETE", https + "/v2/auth/enable", null, cat(node(a),
                "-u", "root:" + secrets.etcdPassword("root"))));
        ok("v3 auth disable", stranger.send("POST", https + "/v3/auth/disable", "{}", cat(node(a),
                "-H", "Authorization: " + rootToken)));
        Curl.Answer open = stranger.send("POST", https + "/v3/kv/range",
                "{\"key\":\"" + b64("/chef-backend/leader") + "\"}", node(a));
        assertEquals(200, open.status(), "auth off: the stranger reads: " + open);
        try {
            List<String> done = EtcdAuthSetup.ensure(https, access.tls(), access.root(), access.clusterUser(),
                    "/chef-backend/", Duration.ofSeconds(10));
            assertTrue(done.stream().anyMatch(d -> d.startsWith("etcd v3 auth enabled")), done.toString());
            assertTrue(done.contains("etcd v2 auth enabled"), done.toString());
        } finally {
            // whatever happened above, the cluster is closed again before the next check
            EtcdAuthSetup.ensure(https, access.tls(), access.root(), access.clusterUser(), "/chef-backend/",
                    Duration.ofSeconds(10));
        }
        assertEquals(List.of(), EtcdAuthSetup.ensure(https, access.tls(), access.root(), access.clusterUser(),
                "/chef-backend/", Duration.ofSeconds(10)));
        long closedAgain = System.currentTimeMillis();
        refusedV3("v3 range after auth set-up ran again", https + "/v3/kv/range",
                "{\"key\":\"" + b64("/chef-backend/leader") + "\"}", node(a));
        v2DroppedWithoutUser(a, "v2 keys read after auth set-up ran again", https + "/v2/keys/x");
        // the agents log in again and go on: every node still publishes its status
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(30), () -> {
            try (ClusterStore s = cluster.store()) {
                return s.getPrefix("nodes/").values().stream().filter(v -> {
                    try {
                        return JSON.readTree(v.value()).path("updatedAt").asLong(0) > closedAgain;
                    } catch (IOException e) {
                        return false;
                    }
                }).count() == 3;
            }
        }), "not every node published its status after auth came back");
    }

    /**
     * What etcd 3.4 lets a client do without a user even with auth on (docs/DESIGN.md, "etcd closed to strangers"):
     * list leases and the keys bound to them, keep a lease alive, compact the history, raise and clear an alarm.
     * Test 1 shows a stranger never gets that far (no certificate from the cluster CA, no handshake); this pins that
     * a node's certificate alone does, so the documentation is checked against etcd and the client certificate is
     * known to be what closes them.
     */
    @Test
    @Order(5)
    void etcd34sOwnGapsAreOpenOnlyToHoldersOfANodesCertificate() throws Exception {
        TestNode a = cluster.nodes.get(2);
        String https = "https://" + a.address + ":2378";
        String[] cert = node(a);
        long leaderLease;
        try (ClusterStore s = cluster.store()) {
            leaderLease = s.get("leader").orElseThrow().leaseId();
        }
        JsonNode leases = JSON.readTree(stranger.send("POST", https + "/v3/lease/leases", "{}", cert).body());
        assertTrue(leases.path("leases").findValuesAsText("ID").contains(Long.toString(leaderLease)), leases.toString());
        JsonNode ttl = JSON.readTree(stranger.send("POST", https + "/v3/lease/timetolive",
                "{\"ID\":\"" + leaderLease + "\",\"keys\":true}", cert).body());
        assertEquals(b64("/chef-backend/leader"), ttl.path("keys").path(0).asText(), ttl.toString());
        Curl.Answer renew = stranger.send("POST", https + "/v3/lease/keepalive", "{\"ID\":\"" + leaderLease + "\"}",
                cert);
        assertTrue(JSON.readTree(renew.body()).path("result").path("TTL").asLong(0) > 0, renew.toString());
        record("(etcd 3.4 gap, a node's certificate, no user) v3 lease list, time-to-live with keys, keep-alive of the leader's lease",
                "answered: lease " + leaderLease + " bound to /chef-backend/leader, renewed");
        JsonNode status = JSON.readTree(stranger.send("POST", https + "/v3/maintenance/status", "{}", cert).body());
        String member = status.path("header").path("member_id").asText();
        String nospace = "{\"memberID\":\"" + member + "\",\"alarm\":\"NOSPACE\",\"action\":\"";
        try {
            Curl.Answer raised = stranger.send("POST", https + "/v3/maintenance/alarm", nospace + "ACTIVATE\"}", cert);
            assertTrue(raised.body().contains("NOSPACE"), raised.toString());
        } finally {
            Curl.Answer cleared = stranger.send("POST", https + "/v3/maintenance/alarm", nospace + "DEACTIVATE\"}",
                    cert);
            assertEquals(200, cleared.status(), cleared.toString());
        }
        record("(etcd 3.4 gap, a node's certificate, no user) v3 maintenance alarm NOSPACE activate / deactivate", "accepted (then cleared)");
        Curl.Answer compact = stranger.send("POST", https + "/v3/kv/compaction",
                "{\"revision\":\"" + status.path("header").path("revision").asText() + "\"}", cert);
        assertEquals(200, compact.status(), compact.toString());
        record("(etcd 3.4 gap, a node's certificate, no user) v3 compaction", "accepted");
        JsonNode alarms = JSON.readTree(stranger.send("POST", https + "/v3/maintenance/alarm", "{\"action\":\"GET\"}",
                cert).body());
        assertTrue(alarms.path("alarms").isEmpty(), "an alarm left raised: " + alarms);
    }

    // ---- the attempts

    void refusedV3(String what, String url, String body, String... options) {
        Curl.Answer r = stranger.send("POST", url, body, options);
        assertTrue(r.status() / 100 == 4 && r.body().contains(NO_USER), what + ": " + r);
        record(what, "HTTP " + r.status() + " " + JSON_MESSAGE.matcher(r.body()).replaceFirst("$1"));
    }

    /**
     * A v2 request with a node's certificate and no user: etcd 3.4's v2 auth then looks the certificate's common name
     * up as a user, and with none (node certificates have none) it drops the connection without an answer.
     */
    void v2DroppedWithoutUser(TestNode n, String what, String url) {
        Curl.Answer r = stranger.send("GET", url, null, cat(node(n), "--http1.1"));
        assertTrue(r.status() == 0 && r.error().contains("Empty reply from server"), what + ": " + r);
        record(what, "no HTTP answer: etcd's v2 auth finds no user in the certificate and drops the connection");
    }

    /** No HTTP answer at all: the TLS handshake failed (etcd's client port without a certificate from the CA). */
    void noHttp(String what, Supplier<Curl.Answer> attempt) {
        Curl.Answer r = attempt.get();
        assertEquals(0, r.status(), what + ": " + r);
        record(what, "no HTTP answer (curl: " + r.error().strip() + ")");
    }

    /** No HTTP answer, and etcd's log says why it turned the stranger's handshake away. */
    void refusedTls(TestNode n, String what, String etcdSays, Supplier<Curl.Answer> attempt) throws IOException {
        Path log = n.root.resolve("var/log/chef-backend/etcd/current");
        long before = rejections(log).count();
        Curl.Answer r = attempt.get();
        assertEquals(0, r.status(), what + ": " + r);
        assertTrue(TestNode.waitUntil(Duration.ofSeconds(5), () -> rejections(log).count() > before),
                what + ": etcd logged no rejected connection from " + STRANGER);
        String rejected = rejections(log).skip(before).findFirst().orElseThrow();
        assertTrue(rejected.contains(etcdSays), what + ": " + rejected);
        record(what, "no HTTP answer (curl: " + r.error().strip() + "); etcd: "
                + rejected.replaceFirst(".*\"error\":\"([^\"]*)\".*", "$1"));
    }

    /** etcd's log lines for connections from the stranger's address it turned away. */
    static Stream<String> rejections(Path etcdLog) {
        try {
            return Files.readAllLines(etcdLog).stream().filter(l -> l.contains("\"msg\":\"rejected connection\"")
                    && l.contains("\"remote-addr\":\"" + STRANGER + ":"));
        } catch (IOException e) {
            return Stream.of();
        }
    }

    static final Pattern JSON_MESSAGE = Pattern.compile("(?s).*\"message\":\"([^\"]*)\".*");
    static final Pattern JSON_ERROR = Pattern.compile("(?s).*\"error\":\"([^\"]*)\".*");

    Curl.Answer ok(String what, Curl.Answer r) {
        assertEquals(2, r.status() / 100, "control, with the cluster's credentials: " + what + ": " + r);
        assertFalse(r.body().contains("\"error\""), "control: " + what + ": " + r);
        return r;
    }

    void record(String what, String outcome) {
        table.add(String.format("| %s | %s |", what, outcome.replace('\n', ' ')));
    }

    // ---- plumbing

    /** curl's options to trust the cluster CA and present {@code n}'s certificate (what its agent presents). */
    String[] node(TestNode n) {
        return new String[] {"--cacert", ca(), "--cert", n.certificateFiles().certificate().toString(), "--key",
            n.certificateFiles().key().toString()};
    }

    String token(TestNode n, String user) throws IOException {
        Curl.Answer r = stranger.send("POST", "https://" + n.address + ":2378/v3/auth/authenticate",
                "{\"name\":\"" + user + "\",\"password\":\"" + secrets.etcdPassword(user) + "\"}", node(n));
        String token = JSON.readTree(r.body()).path("token").asText("");
        assertFalse(token.isEmpty(), "log in as " + user + ": " + r);
        return token;
    }

    String memberHex(TestNode n) throws IOException {
        JsonNode members = JSON.readTree(stranger.send("GET", "http://" + n.address + ":2379/v2/members", null).body());
        for (JsonNode m : members.path("members")) {
            if (m.path("peerURLs").get(0).asText().contains("//" + n.address + ":")) {
                return m.path("id").asText();
            }
        }
        throw new AssertionError("no etcd member at " + n.address + ": " + members);
    }

    String ca() {
        return WORK.resolve("ca.crt").toString();
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    static String text(JsonNode b64) {
        return new String(Base64.getDecoder().decode(b64.asText()), StandardCharsets.UTF_8);
    }

    static String[] cat(String[] first, String... more) {
        return Stream.concat(Stream.of(first), Stream.of(more)).toArray(String[]::new);
    }

    /** Another CA, and a certificate from it for the stranger's address (client and server use). */
    static void otherCa() throws Exception {
        Files.writeString(WORK.resolve("ext.cnf"), "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:"
                + STRANGER + "\n");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=another CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
                "-keyout", "other-ca.key", "-out", "other-ca.crt");
        openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + STRANGER, "-keyout", "stranger.key",
                "-out", "stranger.csr");
        openssl("x509", "-req", "-in", "stranger.csr", "-CA", "other-ca.crt", "-CAkey", "other-ca.key",
                "-set_serial", "1", "-days", "2", "-extfile", "ext.cnf", "-out", "stranger.crt");
    }

    static void openssl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(WORK.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, command + ": " + out);
    }
}
