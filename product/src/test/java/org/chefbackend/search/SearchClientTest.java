package org.chefbackend.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import org.chefbackend.search.SearchClient.Health;
import org.chefbackend.search.SearchClient.Status;
import org.junit.jupiter.api.Test;

class SearchClientTest {
    static final String HEALTH = "{\"cluster_name\":\"c\",\"status\":\"yellow\",\"timed_out\":false,\"number_of_nodes\":3}";
    static final String STATE = "{\"cluster_manager_node\":\"abc123\",\"nodes\":{\"abc123\":{\"name\":\"os-test\"},"
            + "\"zzz\":{\"name\":\"other\"}}}";

    @Test
    void electedManagerIsTheNodeWhoseLocalIdMatches() throws IOException {
        Health h = SearchClient.parse(HEALTH, STATE, "{\"nodes\":{\"abc123\":{\"name\":\"os-test\"}}}");
        assertEquals(new Health(Status.YELLOW, 3, true, null), h);
        assertTrue(h.reachable());
        assertTrue(h.member());
        Health other = SearchClient.parse(HEALTH, STATE, "{\"nodes\":{\"zzz\":{\"name\":\"other\"}}}");
        assertFalse(other.clusterManager());
        assertTrue(other.member(), "a counted member that does not manage the cluster is healthy");
    }

    @Test
    void aNodeThatAnswersButHasNoClusterManagerOrIsNotCountedIsNotHealthy() throws IOException {
        // what the restarted first node answered for as long as it ran: HTTP fine, status red, nobody elected
        Health alone = SearchClient.parse("{\"status\":\"red\",\"number_of_nodes\":1}",
                "{\"nodes\":{\"abc123\":{\"name\":\"os-test\"}}}", "{\"nodes\":{\"abc123\":{}}}");
        assertTrue(alone.reachable());
        assertFalse(alone.member());
        assertEquals("no elected cluster manager", alone.problem());
        // a stale view that still names a manager but no longer lists this node
        Health dropped = SearchClient.parse(HEALTH, "{\"cluster_manager_node\":\"zzz\",\"nodes\":{\"zzz\":{}}}",
                "{\"nodes\":{\"abc123\":{}}}");
        assertEquals("not counted by the cluster manager", dropped.problem());
        assertEquals("cluster state unavailable", SearchClient.parse(HEALTH, null, null).problem());
    }

    @Test
    void theManagersTransportAddressComesFromTheStateAndAnUnreachableOneIsACut() throws Exception {
        Health h = SearchClient.parse(HEALTH, "{\"cluster_manager_node\":\"zzz\",\"nodes\":{\"abc123\":{\"name\":\"a\"},"
                + "\"zzz\":{\"name\":\"b\",\"transport_address\":\"127.0.0.3:9300\"}}}", "{\"nodes\":{\"abc123\":{}}}");
        assertEquals("127.0.0.3:9300", h.managerTransport());
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        try (ServerSocket listening = new ServerSocket(0, 1, lo)) {
            assertTrue(SearchClient.reaches("127.0.0.1", "127.0.0.1:" + listening.getLocalPort(), Duration.ofSeconds(1)));
        }
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, lo)) {
            closed = s.getLocalPort();
        }
        assertFalse(SearchClient.reaches("127.0.0.1", "127.0.0.1:" + closed, Duration.ofSeconds(1)));
        assertEquals("cannot reach x", h.cutOff("cannot reach x").problem());
        assertFalse(h.cutOff("cannot reach x").member());
    }

    @Test
    void votingConfigurationMustHoldThisNodeOnceThereAreThree() throws IOException {
        String config = "{\"metadata\":{\"cluster_coordination\":{\"last_committed_config\":[\"a\",\"b\",\"c\"]}}}";
        String creatorOnly = "{\"metadata\":{\"cluster_coordination\":{\"last_committed_config\":[\"a\"]}}}";
        assertTrue(SearchClient.votes(config, "{\"nodes\":{\"c\":{}}}", 3));
        // the check from outside: three nodes, but the voting configuration still the creator alone
        assertFalse(SearchClient.votes(creatorOnly, "{\"nodes\":{\"c\":{}}}", 3));
        // four nodes: one is always left out of the (odd-sized) configuration; three voters suffice
        assertTrue(SearchClient.votes(config, "{\"nodes\":{\"d\":{}}}", 4));
        assertFalse(SearchClient.votes(creatorOnly, "{\"nodes\":{\"d\":{}}}", 4));
    }

    @Test
    void olderMasterNodeFieldAndMissingAnswers() throws IOException {
        assertTrue(SearchClient.parse(HEALTH, "{\"master_node\":\"abc123\",\"nodes\":{\"abc123\":{}}}",
                "{\"nodes\":{\"abc123\":{}}}").clusterManager());
        // No cluster manager elected (what a lone, unbootstrapped OpenSearch 2.19 answers): no id to match.
        assertFalse(SearchClient.parse(HEALTH, "{\"cluster_uuid\":\"_na_\",\"cluster_manager_node\":null}",
                "{\"nodes\":{\"null\":{}}}").clusterManager());
        assertEquals(new Health(Status.RED, 1, false, "cluster state unavailable"),
                SearchClient.parse("{\"status\":\"red\",\"number_of_nodes\":1}", null, null));
        assertEquals(Status.GREEN, SearchClient.parse("{\"status\":\"GREEN\"}", null, null).status());
    }

    @Test
    void anUnreachableNodeIsUnknownNotAnException() throws IOException {
        int port;
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        try (ServerSocket s = new ServerSocket(0, 1, lo)) {
            port = s.getLocalPort(); // free once closed: connection refused
        }
        long start = System.nanoTime();
        Health h = new SearchClient(Duration.ofMillis(500)).health(URI.create("http://127.0.0.1:" + port));
        assertEquals(Health.UNREACHABLE, h);
        assertFalse(h.reachable());
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos());
    }

    @Test
    void ipv6BaseUriIsBracketed() {
        assertEquals(URI.create("http://[::1]:9200"), SearchClient.baseUri("::1", 9200));
        assertEquals(URI.create("http://127.0.0.22:9200"), SearchClient.baseUri("127.0.0.22", 9200));
    }
}
