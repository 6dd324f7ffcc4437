package org.chefbackend.dcs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
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
    void connectRejectsEndpointsThatAreNotHttp() {
        assertThrows(IllegalArgumentException.class,
                () -> ClusterStore.connect(List.of("127.0.0.24:2379"), "/cb/", SECOND));
        assertThrows(IllegalArgumentException.class,
                () -> ClusterStore.connect(List.of("unix:///run/etcd.sock"), "/cb/", SECOND));
    }

    @Test
    void errorsAreDescribedByEtcdsOwnShortMessage() {
        EtcdGateway gateway = new EtcdGateway(NOWHERE, null, null);
        // a streamed answer's error, as grpc-gateway writes it
        DcsException streamed = assertThrows(DcsException.class, () -> gateway.streamResult("keep lease 1 alive",
                "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"etcdserver: no leader\"}}"));
        assertEquals("keep lease 1 alive: etcdserver: no leader", streamed.getMessage());
        assertEquals(14, EtcdRefusal.code(streamed));
        assertEquals("etcdserver: no leader", EtcdRefusal.message(streamed));
        DcsException notJson = assertThrows(DcsException.class, () -> gateway.streamResult("watch k", "<html>"));
        assertTrue(notJson.getMessage().startsWith("watch k: etcd's answer is not JSON"), notJson.getMessage());
        assertEquals(-1, EtcdRefusal.code(notJson));
        assertEquals("{\"created\":true}",
                gateway.streamResult("watch k", "{\"result\":{\"created\":true}}").toString());
    }

    @Test
    void onlyARejectedTokenIsWorthAnotherTry() {
        assertTrue(EtcdRefusal.isStaleToken("etcdserver: invalid auth token"));
        assertTrue(EtcdRefusal.isStaleToken("etcdserver: revision of auth store is old"));
        assertTrue(EtcdRefusal.isStaleToken("rpc error: code = Unauthenticated desc = etcdserver: invalid auth token"));
        assertFalse(EtcdRefusal.isStaleToken("etcdserver: permission denied"));
        assertFalse(EtcdRefusal.isStaleToken(null));
    }

    @Test
    void credentialsNeverShowThePassword() {
        assertEquals("EtcdCredentials[user=root]", new EtcdCredentials("root", "s3cret").toString());
        assertThrows(IllegalArgumentException.class, () -> new EtcdCredentials("", "pw"));
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
