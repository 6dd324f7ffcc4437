package org.chefbackend.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The agent never writes a record its readers would refuse: what it takes from elsewhere is checked or cleaned. */
class RecordWritersTest {
    static final String GUID = RecordsTest.GUID;

    @ParameterizedTest(name = "{4}")
    @CsvSource(delimiter = '|', value = {
        "a b|" + GUID + "|10.0.0.2|2380|a join request's name \"a b\" is not a node name",
        "|" + GUID + "|10.0.0.2|2380|a join request's name \"\" is not a node name",
        "be2|wedge|10.0.0.2|2380|a join request's guid \"wedge\" is not a node GUID",
        "be2|" + GUID + "|be2.example.com|2380|a join request's address \"be2.example.com\" is not an IP address",
        "be2|" + GUID + "|10.0.0.2|0|a join request's peer_port 0 is not a port (1..65535)"})
    void aJoinRequestThatWouldMakeAnInvalidMemberIsRefusedBeforeAnythingChanges(String name, String guid,
            String address, int peerPort, String reason) {
        ClusterAgent.Refusal e = assertThrows(ClusterAgent.Refusal.class,
                () -> ClusterAgent.checkJoinRequest(name == null ? "" : name, guid, address, peerPort));
        assertEquals(400, e.status());
        assertEquals(reason, e.getMessage().substring(0, reason.length()));
    }

    @Test
    void aValidJoinRequestPasses() {
        ClusterAgent.checkJoinRequest("be2", GUID, "10.0.0.2", 2380);
        ClusterAgent.checkJoinRequest("vm-FE80--2", GUID, "fe80::2", 2380);
    }

    @Test
    void theStatusNamesItsUpstreamOnlyByAddress() {
        assertEquals("10.0.0.1", StatusSnapshot.followed("10.0.0.1"));
        assertNull(StatusSnapshot.followed("/var/run/postgresql"));
        assertNull(StatusSnapshot.followed(null));
    }
}
