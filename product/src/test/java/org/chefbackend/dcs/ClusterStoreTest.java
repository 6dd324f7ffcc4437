package org.chefbackend.dcs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class ClusterStoreTest {
    static final List<String> NOWHERE = List.of("http://127.0.0.24:2379"); // never contacted here
    static final Duration SECOND = Duration.ofSeconds(1);

    @Test
    void connectRejectsNoEndpointsAndNoTimeout() {
        assertThrows(IllegalArgumentException.class, () -> ClusterStore.connect(List.of(), "/cb/", SECOND));
        assertThrows(IllegalArgumentException.class, () -> ClusterStore.connect(NOWHERE, "/cb/", Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> ClusterStore.connect(NOWHERE, "/", SECOND));
    }

    @Test
    void errorsAreDescribedByEtcdsOwnShortMessage() {
        Throwable grpc = Status.UNAVAILABLE.withDescription("etcdserver: no leader").asRuntimeException();
        assertEquals("etcdserver: no leader",
                ClusterStore.describe(new ExecutionException(new CompletionException(grpc))));
        assertEquals("UNAVAILABLE", ClusterStore.describe(Status.UNAVAILABLE.asException()));
        assertEquals("client is closed", ClusterStore.describe(new IllegalStateException("client is closed")));
    }

    @Test
    void keysAreCheckedBeforeAnyoneIsAsked() throws Exception {
        try (ClusterStore store = ClusterStore.connect(NOWHERE, "/cb/", SECOND)) {
            assertThrows(IllegalArgumentException.class, () -> store.get("/cb/absolute"));
            assertThrows(IllegalArgumentException.class, () -> store.put("", "v"));
            assertThrows(IllegalArgumentException.class, () -> store.put("k", null));
            assertThrows(IllegalArgumentException.class, () -> store.grantLease(0));
            assertThrows(IllegalArgumentException.class, () -> store.putIfAbsentWithLease("k", "v", 0));
        }
    }
}
