package org.chefbackend.dcs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class EtcdRefusalTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static DcsException refusal(String body) throws Exception {
        JsonNode root = JSON.readTree(body);
        return EtcdRefusal.of("put k", 504, root, false);
    }

    /**
     * The deadline sent with a request is a timeout whichever code the gateway gives it: without quorum CI once got
     * code 2 with this message, and the caller took it for a refusal ("put quorum/key: context deadline exceeded").
     */
    @Test
    void aPassedDeadlineIsATimeoutWhateverItsCode() throws Exception {
        assertEquals(EtcdRefusal.DEADLINE_EXCEEDED,
                EtcdRefusal.code(refusal("{\"error\":\"context deadline exceeded\",\"code\":4}")));
        assertEquals(EtcdRefusal.DEADLINE_EXCEEDED,
                EtcdRefusal.code(refusal("{\"error\":\"context deadline exceeded\",\"code\":2}")));
        assertEquals(EtcdRefusal.DEADLINE_EXCEEDED, EtcdRefusal.code(refusal(
                "{\"error\":{\"grpc_code\":2,\"message\":\"context deadline exceeded\"}}")));
    }

    @Test
    void otherRefusalsKeepTheirCodeAndMessage() throws Exception {
        DcsException e = refusal("{\"error\":\"etcdserver: unhealthy cluster\",\"code\":14}");
        assertEquals(14, EtcdRefusal.code(e));
        assertEquals("put k: etcdserver: unhealthy cluster", e.getMessage());
    }
}
