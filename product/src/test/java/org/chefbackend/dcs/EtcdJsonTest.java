package org.chefbackend.dcs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.chefbackend.dcs.ClusterStore.EtcdMember;
import org.chefbackend.dcs.ClusterStore.Versioned;
import org.junit.jupiter.api.Test;

/** The gateway's JSON, checked against answers etcd 3.4.23 gave. */
class EtcdJsonTest {
    static JsonNode json(String text) throws Exception {
        return EtcdGateway.JSON.readTree(text);
    }

    @Test
    void aKeyValueDecodesWithItsRevisionAndLease() throws Exception {
        JsonNode kv = json("{\"key\":\"L2Evaw==\",\"create_revision\":\"2\",\"mod_revision\":\"7\",\"version\":\"1\","
                + "\"value\":\"w7zDr2PDtmTDqQ==\",\"lease\":\"6787384563330023946\"}");
        assertEquals(new Versioned("üïcödé", 7, 6787384563330023946L), EtcdJson.versioned(kv));
        assertEquals("/a/k", EtcdJson.text(kv.path("key")));
        // a deleted key's event carries no value and no lease: the zero values are left out
        JsonNode deleted = json("{\"key\":\"L2Evaw==\",\"mod_revision\":\"9\"}");
        assertEquals(new Versioned("", 9, 0), EtcdJson.versioned(deleted));
    }

    @Test
    void memberIdsAreUnsigned() throws Exception {
        JsonNode m = json("{\"ID\":\"12813180872551030321\",\"name\":\"t1\",\"peerURLs\":[\"http://127.0.0.24:2380\"],"
                + "\"clientURLs\":[\"http://127.0.0.24:2379\"]}");
        EtcdMember member = EtcdJson.member(m);
        assertEquals("12813180872551030321", Long.toUnsignedString(member.id()));
        assertEquals(List.of("http://127.0.0.24:2380"), member.peerUrls());
        assertEquals("{\"ID\":\"12813180872551030321\"}", EtcdJson.memberId(member.id()).toString());
        // a learner that has not started has neither name nor client URLs
        EtcdMember learner = EtcdJson.member(json("{\"ID\":\"767353679551518039\",\"peerURLs\":[\"http://x:2380\"],"
                + "\"isLearner\":true}"));
        assertEquals(new EtcdMember(767353679551518039L, "", List.of("http://x:2380"), List.of()), learner);
    }

    @Test
    void aPrefixRangeEndsAtTheNextKey() {
        assertArrayEquals("/cb0".getBytes(UTF_8), EtcdJson.rangeEnd("/cb/".getBytes(UTF_8)));
        assertArrayEquals(new byte[] {'a', 'c'}, EtcdJson.rangeEnd(new byte[] {'a', 'b', (byte) 0xff}));
        assertArrayEquals(new byte[] {0}, EtcdJson.rangeEnd(new byte[] {(byte) 0xff, (byte) 0xff}));
        assertEquals("{\"key\":\"L2NiLw==\",\"range_end\":\"L2NiMA==\"}", EtcdJson.prefix("/cb/").toString());
    }

    @Test
    void transactionsCompareOneTargetAndRunOneOperation() {
        assertEquals("{\"compare\":[{\"key\":\"L2s=\",\"target\":\"LEASE\",\"result\":\"EQUAL\",\"lease\":42}],"
                + "\"success\":[{\"request_delete_range\":{\"key\":\"L2s=\"}}]}",
                EtcdJson.txn(EtcdJson.compare("/k", "LEASE", 42), EtcdJson.delete("/k")).toString());
        assertEquals("{\"request_put\":{\"key\":\"L2s=\",\"value\":\"dg==\",\"lease\":0}}",
                EtcdJson.put("/k", "v", 0).toString());
        assertEquals("{\"key\":\"L2s=\",\"target\":\"CREATE\",\"result\":\"EQUAL\",\"create_revision\":0}",
                EtcdJson.compare("/k", "CREATE", 0).toString());
        assertThrows(IllegalArgumentException.class, () -> EtcdJson.compare("/k", "VALUE", 1));
        assertEquals(0, EtcdJson.int64(EtcdGateway.JSON.createObjectNode().path("TTL")));
    }
}
