package org.chefbackend.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DidYouMeanTest {
    @Test
    void distanceCountsTranspositionAsOne() {
        assertEquals(0, DidYouMean.distance("port", "port"));
        assertEquals(1, DidYouMean.distance("prot", "port"));
        assertEquals(1, DidYouMean.distance("por", "port"));
        assertEquals(4, DidYouMean.distance("", "port"));
    }

    @Test
    void suggestsOnlyCloseNames() {
        List<String> known = List.of("etcd.client_port", "etcd.peer_port", "postgresql.port");
        assertEquals(Optional.of("etcd.peer_port"), DidYouMean.closest("etcd.peer_prot", known));
        assertEquals(Optional.empty(), DidYouMean.closest("something.else.entirely", known));
    }
}
