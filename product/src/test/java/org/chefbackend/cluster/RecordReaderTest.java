package org.chefbackend.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.chefbackend.dcs.ClusterStore;
import org.junit.jupiter.api.Test;

/**
 * Readers of etcd's records leave out (or take as unknown) what is invalid, never throw, and say so in one line once
 * per bad value: again only when the value or the reason changes.
 */
class RecordReaderTest {
    static final String GUID = RecordsTest.GUID;
    final List<String> warned = new ArrayList<>();
    final RecordReader reader = new RecordReader(warned::add);

    static ClusterStore.Versioned at(long revision, String value) {
        return new ClusterStore.Versioned(value, revision, 0);
    }

    /** The record as anyone with etcd access may write it, valid or not. */
    static ClusterStore.Versioned at(long revision, Object record) {
        try {
            return at(revision, RecordsTest.ANYONE.writeValueAsString(record));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, ClusterStore.Versioned> keys(Object... keysAndValues) {
        Map<String, ClusterStore.Versioned> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], (ClusterStore.Versioned) keysAndValues[i + 1]);
        }
        return m;
    }

    Map<String, Records.Member> members(Map<String, ClusterStore.Versioned> values) {
        return reader.named("members/", values, Records.Member.class);
    }

    @Test
    void invalidMembersAreLeftOutAndSaidOncePerValue() {
        Map<String, ClusterStore.Versioned> etcd = keys(
                "members/be1", at(10, RecordsTest.member("be1", "10.0.0.1")),
                "members/zz-wedge", at(11, "{not json"),
                "members/be3", at(12, RecordsTest.member("be3", "evil.example")),
                "members/be4", at(13, RecordsTest.member("be2", "10.0.0.2")));
        assertEquals(List.of("be1"), List.copyOf(members(etcd).keySet()));
        assertEquals(List.of(
                "etcd members/zz-wedge is unreadable (not a Member record: Unexpected character ('n' (code 110)): was"
                        + " expecting double-quote to start field name): left out",
                "etcd members/be3 is unreadable (address \"evil.example\" is not an IP address literal): left out",
                "etcd members/be4 is unreadable (name \"be2\" is not the key's \"be4\"): left out"), warned);

        members(etcd); // the next reads see the same values: nothing more is said
        members(etcd);
        assertEquals(3, warned.size());

        etcd.put("members/be3", at(20, RecordsTest.member("be3", "evil.example"))); // written again
        assertEquals(List.of("be1"), List.copyOf(members(etcd).keySet()));
        assertEquals(4, warned.size());
        assertTrue(warned.get(3).startsWith("etcd members/be3 is unreadable"), warned.get(3));
    }

    @Test
    void aBadRecordRemovedAndWrittenAgainIsSaidAgain() {
        Map<String, ClusterStore.Versioned> etcd = keys("members/x", at(5, "[]"));
        members(etcd);
        members(keys());
        members(etcd);
        assertEquals(2, warned.size(), warned.toString());
    }

    @Test
    void aValueWithControlCharactersIsSaidOnOneLine() {
        Records.NodeStatus hostile = RecordsTest.status("be1\nFAKE: leader is 10.6.6.6", "follower",
                RecordsTest.PGSQL, null, null, 1, null);
        Map<String, Records.NodeStatus> out = reader.named("nodes/", keys("nodes/be1\nx", at(3, hostile)),
                Records.NodeStatus.class);
        assertTrue(out.isEmpty());
        assertEquals(1, warned.size());
        assertFalse(warned.get(0).contains("\n"), warned.get(0));
        assertTrue(warned.get(0).contains("is not a node name"), warned.get(0));
    }

    @Test
    void aStatusThatWouldBreakClusterStatusIsLeftOut() {
        // no role and no pgsql: ClusterView would have thrown a NullPointerException on it
        String partial = "{\"name\":\"be2\",\"guid\":\"" + GUID + "\",\"address\":\"10.0.0.2\",\"updatedAt\":1}";
        Map<String, Records.NodeStatus> out = reader.named("nodes/", keys(
                "nodes/be1", at(1, RecordsTest.status(RecordsTest.PGSQL)), "nodes/be2", at(2, partial)),
                Records.NodeStatus.class);
        assertEquals(List.of("be1"), List.copyOf(out.keySet()));
        assertEquals(List.of("etcd nodes/be2 is unreadable (not a NodeStatus record: Cannot map `null` into type"
                + " `boolean` (set DeserializationConfig.DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES to 'false'"
                + " to allow)): left out"), warned);
    }

    static final Map<String, Records.Member> MEMBERS = Map.of(
            "be1", RecordsTest.member("be1", "10.0.0.1"), "be2", RecordsTest.member("be2", "10.0.0.2"));

    Optional<Records.Leader> leader(Optional<ClusterStore.Versioned> value) {
        return reader.leader("leader", value, MEMBERS, "followed by nobody");
    }

    @Test
    void theLeaderIsAMemberAtItsRecordedAddressOrNobody() {
        Records.Leader be2 = new Records.Leader("be2", GUID, "10.0.0.2", 5432, 1);
        assertEquals(Optional.of(be2), leader(Optional.of(at(1, be2))));
        assertEquals(Optional.empty(), leader(Optional.empty()));
        assertEquals(List.of(), warned);

        String[][] forged = {
            {"{not json", "not a Leader record"},
            {Records.json(new Records.Leader("be2", GUID, "10.6.6.6", 5432, 1)),
                "address 10.6.6.6 is not member be2's recorded 10.0.0.2"},
            {Records.json(new Records.Leader("be9", GUID, "10.0.0.9", 5432, 1)), "name \"be9\" is not a member"},
            {"{\"name\":\"be2\",\"guid\":\"" + GUID + "\",\"address\":\"attacker.example\",\"pgPort\":5432,\"since\":1}",
                "address \"attacker.example\" is not an IP address literal"}};
        for (int i = 0; i < forged.length; i++) {
            assertEquals(Optional.empty(), leader(Optional.of(at(100 + i, forged[i][0]))), forged[i][0]);
            assertEquals(i + 1, warned.size(), warned.toString());
            assertTrue(warned.get(i).startsWith("etcd leader is unreadable (" + forged[i][1]), warned.get(i));
            assertTrue(warned.get(i).endsWith("): followed by nobody"), warned.get(i));
        }
    }

    @Test
    void aLeaderWhoseMemberRecordChangesIsJudgedAgainAndSaid() {
        ClusterStore.Versioned v = at(7, new Records.Leader("be2", GUID, "10.0.0.2", 5432, 1));
        Map<String, Records.Member> moved = Map.of("be2", RecordsTest.member("be2", "10.0.0.22"));
        assertTrue(reader.leader("leader", Optional.of(v), MEMBERS, "x").isPresent());
        assertTrue(reader.leader("leader", Optional.of(v), moved, "x").isEmpty());
        assertTrue(reader.leader("leader", Optional.of(v), moved, "x").isEmpty());
        assertTrue(reader.leader("leader", Optional.of(v), Map.of(), "x").isEmpty());
        assertEquals(2, warned.size(), "once per value and reason: " + warned);
    }

    @Test
    void anInvalidSyncIsUnknownAndSaidOnce() {
        Optional<ClusterStore.Versioned> bad = Optional.of(at(4, "{\"standby\":\"be 2\",\"leader\":\"be1\",\"at\":1}"));
        for (int i = 0; i < 3; i++) {
            assertEquals(Optional.empty(), reader.one("sync", bad, Records.Sync.class, "none counts"));
        }
        assertEquals(List.of("etcd sync is unreadable (standby \"be 2\" is not a node name (letters, digits, '.', '_',"
                + " '-'; at most 253)): none counts"), warned);
        Records.Sync good = new Records.Sync("be2", "be1", 1);
        assertEquals(Optional.of(good), reader.one("sync", Optional.of(at(5, good)), Records.Sync.class, "x"));
    }
}
