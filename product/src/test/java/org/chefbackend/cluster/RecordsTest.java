package org.chefbackend.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.chefbackend.postgres.ReplicationSlots;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a valid record in etcd is, field by field: each invalid row is refused by the writer ({@link Records#json}
 * writes nothing) and by the reader ({@link Records#parse} of the same record written by anyone else), both with the
 * reason in the row; the valid records go through both ways unchanged.
 */
class RecordsTest {
    static final String GUID = "0123456789abcdef0123456789abcdef";
    /** Writes anything, as a stranger with etcd access may. */
    static final ObjectMapper ANYONE = new ObjectMapper();

    static Records.Member member(String name, String address) {
        String slot = name == null ? "cb_x" : ReplicationSlots.nameFor(name);
        return new Records.Member(name, GUID, address, 5432, 7331, 9200, slot, 1);
    }

    static Records.Member member(String address, int pgPort, int httpPort, int esPort, String slot, long joinedAt) {
        return new Records.Member("be1", GUID, address, pgPort, httpPort, esPort, slot, joinedAt);
    }

    static Records.Leader leader(String name, String guid, String address, int pgPort, long since) {
        return new Records.Leader(name, guid, address, pgPort, since);
    }

    static Records.Pgsql pgsql(String lsn, String following, String receiver, long timeline, Records.Rejoin rejoin) {
        return new Records.Pgsql(true, true, lsn, following, receiver, timeline, rejoin);
    }

    static final Records.Pgsql PGSQL = pgsql("0/3000060", "10.0.0.2", "streaming", 3,
            new Records.Rejoin("be2", "rewind", 4.3, 1));
    static final Records.Search SEARCH = new Records.Search(true, false, "green", 3, null);
    static final Records.Replica REPLICA = new Records.Replica("be2", "cb_be2", "streaming", "async", 0);

    static Records.NodeStatus status(String name, String role, Records.Pgsql pg, Records.Search es,
            List<Records.Replica> replicas, long updatedAt, String reason) {
        return new Records.NodeStatus(name, GUID, "10.0.0.1", role, pg, es, replicas, false, true, true, updatedAt,
                reason);
    }

    static Records.NodeStatus status(Records.Pgsql pg) {
        return status("be1", "follower", pg, SEARCH, List.of(REPLICA), 1, null);
    }

    static Records.NodeStatus status(Records.Search es) {
        return status("be1", "follower", PGSQL, es, List.of(REPLICA), 1, null);
    }

    static Records.NodeStatus status(Records.Replica replica) {
        return status("be1", "follower", PGSQL, SEARCH, List.of(replica), 1, null);
    }

    static Stream<Arguments> valid() {
        return Stream.of(
                Arguments.of(member("be1", "10.0.0.1")),
                Arguments.of(member("n-127-0-0-64", "127.0.0.64")),
                Arguments.of(member("vm-FE80--1", "FE80::1")),
                Arguments.of(member("be1.example.com", "::ffff:10.0.0.1")),
                Arguments.of(member("x".repeat(253), "2001:db8::7")),
                Arguments.of(member("10.0.0.1", 1, 65535, 9300, "cb_be1_0123abcd", 0)),
                Arguments.of(leader("be1", GUID, "10.0.0.1", 5432, 0)),
                Arguments.of(new Records.History("be1", 0L, 0L, 0)),
                Arguments.of(new Records.History("be1", 1L << 40, 7L, 1)),
                Arguments.of(new Records.Sync("be2", "be1", 1)),
                Arguments.of(new Records.Sync(null, "be1", 1)),
                Arguments.of(status(PGSQL)),
                Arguments.of(status("be1", "waiting_for_leader", new Records.Pgsql(false, false, null, null, null, 0),
                        null, null, 0, "no status: PostgreSQL is down")),
                Arguments.of(status("be1", "leader", PGSQL, SEARCH, Collections.nCopies(Records.MAX_REPLICAS, REPLICA),
                        1, "x".repeat(RecordRules.MAX_TEXT))),
                Arguments.of(status(new Records.Replica(null, null, null, null, -1))),
                Arguments.of(new Records.Rejoin("be3", "basebackup", 0, 0)));
    }

    static Stream<Arguments> invalid() {
        List<Arguments> rows = new ArrayList<>();
        // members/<name>
        rows.add(row(member("a b", "10.0.0.1"), "name \"a b\" is not a node name"));
        rows.add(row(member("-be1", "10.0.0.1"), "name \"-be1\" is not a node name"));
        rows.add(row(member("x".repeat(254), "10.0.0.1"), "is not a node name"));
        rows.add(row(member("be/1", "10.0.0.1"), "name \"be/1\" is not a node name"));
        rows.add(row(member(null, "10.0.0.1"), "name is missing"));
        rows.add(row(new Records.Member("be1", "wedge", "10.0.0.1", 5432, 7331, 9200, "cb_be1", 1),
                "guid \"wedge\" is not a node GUID"));
        rows.add(row(new Records.Member("be1", GUID.toUpperCase(), "10.0.0.1", 5432, 7331, 9200, "cb_be1", 1),
                "is not a node GUID"));
        rows.add(row(member("be1", "evil.example"), "address \"evil.example\" is not an IP address literal"));
        rows.add(row(member("be1", "localhost"), "address \"localhost\" is not an IP address literal"));
        rows.add(row(member("be1", "10.0.0.256"), "address \"10.0.0.256\" is not an IP address literal"));
        rows.add(row(member("be1", "010.0.0.1"), "is not an IP address literal"));
        rows.add(row(member("be1", "fe80::1%eth0"), "is not an IP address literal"));
        rows.add(row(member("be1", "1:2:3"), "is not an IP address literal"));
        rows.add(row(member("be1", null), "address is missing"));
        rows.add(row(member("10.0.0.1", 0, 7331, 9200, "cb_be1", 1), "pgPort 0 is not a port (1..65535)"));
        rows.add(row(member("10.0.0.1", 5432, 65536, 9200, "cb_be1", 1), "httpPort 65536 is not a port"));
        rows.add(row(member("10.0.0.1", 5432, 7331, -1, "cb_be1", 1), "esPort -1 is not a port"));
        rows.add(row(member("10.0.0.1", 5432, 7331, 9200, "cb-be1", 1), "slot \"cb-be1\" is not a replication slot"));
        rows.add(row(member("10.0.0.1", 5432, 7331, 9200, "s".repeat(64), 1), "is not a replication slot"));
        rows.add(row(member("10.0.0.1", 5432, 7331, 9200, null, 1), "slot is missing"));
        rows.add(row(member("10.0.0.1", 5432, 7331, 9200, "cb_be1", -1), "joinedAt -1 is below 0"));
        // leader
        rows.add(row(leader("be1", GUID, "attacker.example", 5432, 1), "address \"attacker.example\" is not an IP"));
        rows.add(row(leader("be 1", GUID, "10.0.0.1", 5432, 1), "name \"be 1\" is not a node name"));
        rows.add(row(leader("be1", "", "10.0.0.1", 5432, 1), "guid \"\" is not a node GUID"));
        rows.add(row(leader("be1", GUID, "10.0.0.1", 70000, 1), "pgPort 70000 is not a port"));
        rows.add(row(leader("be1", GUID, "10.0.0.1", 5432, -5), "since -5 is below 0"));
        // history
        rows.add(row(new Records.History("x y", 1L, 1L, 1), "leader \"x y\" is not a node name"));
        rows.add(row(new Records.History("be1", null, 1L, 1), "lsn is missing"));
        rows.add(row(new Records.History("be1", -1L, 1L, 1), "lsn -1 is below 0"));
        rows.add(row(new Records.History("be1", 1L, null, 1), "timeline is missing"));
        rows.add(row(new Records.History("be1", 1L, -2L, 1), "timeline -2 is below 0"));
        rows.add(row(new Records.History("be1", 1L, 1L, -1), "at -1 is below 0"));
        // sync
        rows.add(row(new Records.Sync("a\nb", "be1", 1), "standby \"a\\u000Ab\" is not a node name"));
        rows.add(row(new Records.Sync("be2", null, 1), "leader is missing"));
        rows.add(row(new Records.Sync("be2", "be1", -1), "at -1 is below 0"));
        // nodes/<name>
        rows.add(row(status("be\u00001", "follower", PGSQL, SEARCH, null, 1, null),
                "name \"be\\u00001\" is not a node name"));
        rows.add(row(status("be1", "Leader!", PGSQL, SEARCH, null, 1, null), "role \"Leader!\" is not a state name"));
        rows.add(row(status("be1", null, PGSQL, SEARCH, null, 1, null), "role is missing"));
        rows.add(row(status("be1", "follower", null, SEARCH, null, 1, null), "pgsql is missing"));
        rows.add(row(status("be1", "follower", PGSQL, SEARCH, null, -1, null), "updatedAt -1 is below 0"));
        rows.add(row(status("be1", "follower", PGSQL, SEARCH, null, 1, "stopped\nFAKE LOG LINE"),
                "ineligibleReason holds the control character \\u000A"));
        rows.add(row(status("be1", "follower", PGSQL, SEARCH, null, 1, "a\u2028b"),
                "ineligibleReason holds the control character \\u2028"));
        rows.add(row(status("be1", "follower", PGSQL, SEARCH, null, 1, "x".repeat(RecordRules.MAX_TEXT + 1)),
                "ineligibleReason is 1025 characters long, over 1024"));
        rows.add(row(status("be1", "follower", PGSQL, SEARCH, Collections.nCopies(Records.MAX_REPLICAS + 1, REPLICA),
                1, null), "replicas lists 65, over 64"));
        rows.add(row(status(pgsql("zz", null, null, 1, null)), "pgsql.lsn \"zz\" is not a WAL position"));
        rows.add(row(status(pgsql("0/1/2", null, null, 1, null)), "pgsql.lsn \"0/1/2\" is not a WAL position"));
        rows.add(row(status(pgsql(null, "evil.example", null, 1, null)),
                "pgsql.following \"evil.example\" is not an IP address literal"));
        rows.add(row(status(pgsql(null, null, "x".repeat(33), 1, null)), "pgsql.receiver is 33 characters long"));
        rows.add(row(status(pgsql(null, null, null, -1, null)), "pgsql.timeline -1 is below 0"));
        rows.add(row(status(pgsql(null, null, null, 1, new Records.Rejoin("be2", "teleport", 1, 1))),
                "rejoin.path \"teleport\" is not one of"));
        rows.add(row(status(pgsql(null, null, null, 1, new Records.Rejoin("be2", "rewind", -1, 1))),
                "rejoin.seconds -1.0 is not a duration"));
        rows.add(row(status(pgsql(null, null, null, 1, new Records.Rejoin("", "rewind", 1, 1))),
                "rejoin.leader \"\" is not a node name"));
        rows.add(row(status(new Records.Search(true, false, "green", -1, null)), "elasticsearch.nodes -1 is below 0"));
        rows.add(row(status(new Records.Search(true, false, "green\r", 1, null)),
                "elasticsearch.status holds the control character \\u000D"));
        rows.add(row(status(new Records.Search(false, false, "red", 0, "p".repeat(2000))),
                "elasticsearch.problem is 2000 characters long, over 1024"));
        rows.add(row(status(new Records.Replica("be2", "cb_be2", "stream\ting", null, 0)),
                "replicas[].state holds the control character \\u0009"));
        rows.add(row(status(new Records.Replica("be2", "cb_be2", "streaming", null, -2)),
                "replicas[].bytesBehind -2 is below -1"));
        rows.add(row(status(new Records.Replica("be2", "s\u0085", "streaming", null, 0)),
                "replicas[].slot holds the control character \\u0085"));
        return rows.stream();
    }

    static Arguments row(Object record, String reason) {
        return Arguments.of(record, reason);
    }

    @ParameterizedTest
    @MethodSource("valid")
    void aValidRecordIsWrittenAndReadBackUnchanged(Object record) {
        assertEquals(record, Records.parse(Records.json(record), record.getClass()));
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void theWriterRefusesAnInvalidRecordSayingWhy(Object record, String reason) {
        Records.Invalid e = assertThrows(Records.Invalid.class, () -> Records.json(record));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void theReaderRefusesTheSameRecordWrittenByAnyoneElseSayingWhy(Object record, String reason) throws Exception {
        String json = ANYONE.writeValueAsString(record);
        Records.Invalid e = assertThrows(Records.Invalid.class, () -> Records.parse(json, record.getClass()));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'), "one line");
    }

    static final String MEMBER = "\"name\":\"be1\",\"guid\":\"" + GUID + "\",\"address\":\"10.0.0.1\","
            + "\"httpPort\":7331,\"esPort\":9200,\"slot\":\"cb_be1\",\"joinedAt\":1";

    static Stream<Arguments> unreadableJson() {
        return Stream.of(
                Arguments.of("not json", "not a Member record"),
                Arguments.of("[]", "not a Member record"),
                Arguments.of("null", "not a Member record: null"),
                Arguments.of("\"be1\"", "not a Member record"),
                Arguments.of("{" + MEMBER + ",\"pgPort\":\"5432\"}", "not a Member record"),
                Arguments.of("{" + MEMBER + ",\"pgPort\":5432.5}", "not a Member record"),
                Arguments.of("{" + MEMBER + ",\"pgPort\":null}", "not a Member record"),
                Arguments.of("{" + MEMBER + ",\"pgPort\":true}", "not a Member record"),
                Arguments.of("{" + MEMBER + ",\"pgPort\":5432,\"name\":\"be2\"}", "Duplicate field 'name'"),
                Arguments.of("{" + MEMBER + ",\"pgPort\":5432} {}", "not a Member record"),
                Arguments.of("{" + MEMBER.replace("\"be1\"", "7") + ",\"pgPort\":5432}", "not a Member record"),
                Arguments.of("{" + MEMBER + "}", "not a Member record"), // a number left out is not 0
                Arguments.of("{" + MEMBER + ",\"pgPort\":0}", "pgPort 0 is not a port"),
                Arguments.of("{" + MEMBER + ",\"pgPort\":5432,\"pad\":\"" + "x".repeat(Records.MAX_CHARS) + "\"}",
                        "over " + Records.MAX_CHARS));
    }

    @ParameterizedTest
    @MethodSource("unreadableJson")
    void jsonThatIsNotStrictlyARecordIsRefused(String json, String reason) {
        Records.Invalid e = assertThrows(Records.Invalid.class, () -> Records.parse(json, Records.Member.class));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'), "one line: " + e.getMessage());
    }

    @Test
    void theStrictReaderStillReadsARecordWithFieldsItDoesNotKnow() {
        Records.Member m = Records.parse("{" + MEMBER + ",\"pgPort\":5432,\"zone\":\"b\"}", Records.Member.class);
        assertEquals(member("be1", "10.0.0.1"), m);
    }

    @Test
    void historyNumbersMustBeWholeNumbers() {
        for (String json : new String[] {"{\"leader\":\"be1\",\"lsn\":\"lots\",\"timeline\":3}",
            "{\"leader\":\"be1\",\"lsn\":12.5,\"timeline\":3}", "{\"leader\":7,\"lsn\":1234,\"timeline\":3}"}) {
            assertThrows(Records.Invalid.class, () -> Records.parse(json, Records.History.class), json);
        }
    }

    @Test
    void aLeaderIsAMemberAtThatMembersRecordedAddress() {
        Map<String, Records.Member> members = Map.of("be1", member("be1", "10.0.0.1"));
        leader("be1", GUID, "10.0.0.1", 5432, 1).checkAgainst(members);
        String[][] cases = {
            {"be9", GUID, "10.0.0.1", "5432", "name \"be9\" is not a member"},
            {"be1", GUID, "10.6.6.6", "5432", "address 10.6.6.6 is not member be1's recorded 10.0.0.1"},
            {"be1", GUID, "::ffff:10.0.0.1", "5432", "address ::ffff:10.0.0.1 is not member be1's recorded 10.0.0.1"},
            {"be1", "f".repeat(32), "10.0.0.1", "5432", "guid " + "f".repeat(32) + " is not member be1's recorded"}};
        for (String[] c : cases) {
            Records.Leader l = leader(c[0], c[1], c[2], Integer.parseInt(c[3]), 1);
            Records.Invalid e = assertThrows(Records.Invalid.class, () -> l.checkAgainst(members));
            assertTrue(e.getMessage().startsWith(c[4]), e.getMessage());
        }
    }
}
