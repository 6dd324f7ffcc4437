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
    static final String STATE = "{\"cluster_name\":\"c\",\"cluster_manager_node\":\"abc123\"}";

    @Test
    void electedManagerIsTheNodeWhoseLocalIdMatches() throws IOException {
        Health h = SearchClient.parse(HEALTH, STATE, "{\"nodes\":{\"abc123\":{\"name\":\"os-test\"}}}");
        assertEquals(new Health(Status.YELLOW, 3, true), h);
        assertTrue(h.reachable());
        assertFalse(SearchClient.parse(HEALTH, STATE, "{\"nodes\":{\"zzz\":{\"name\":\"other\"}}}").clusterManager());
    }

    @Test
    void olderMasterNodeFieldAndMissingAnswers() throws IOException {
        assertTrue(SearchClient.parse(HEALTH, "{\"master_node\":\"abc123\"}", "{\"nodes\":{\"abc123\":{}}}").clusterManager());
        // No cluster manager elected (what a lone, unbootstrapped OpenSearch 2.19 answers): no id to match.
        assertFalse(SearchClient.parse(HEALTH, "{\"cluster_uuid\":\"_na_\",\"cluster_manager_node\":null}",
                "{\"nodes\":{\"null\":{}}}").clusterManager());
        assertEquals(new Health(Status.RED, 1, false),
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
