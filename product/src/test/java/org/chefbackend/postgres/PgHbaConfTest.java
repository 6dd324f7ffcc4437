package org.chefbackend.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.Settings;
import org.junit.jupiter.api.Test;

class PgHbaConfTest {
    static String render(String rb) {
        return PgHbaConf.render(Settings.from(ChefBackendRbParser.parse("t.rb", rb), new MachineFacts(1L << 32, "n1")));
    }

    @Test
    void defaultIsTheDocumentsFourLinesAfterLocalPeer() {
        assertEquals(PgHbaConf.HEADER
                + "local   all         all                                peer\n"
                + "host    all         all         samehost               md5\n"
                + "hostssl replication replicator  samehost               md5\n"
                + "host    all         all         samenet                md5\n"
                + "hostssl replication replicator  samenet                md5\n",
                render(""));
    }

    @Test
    void documentsExampleGivesItsSixLines() {
        String hba = render("postgresql.md5_auth_cidr_addresses = [\"samehost\", \"samenet\", \"192.168.1.3/24\"]");
        assertEquals(PgHbaConf.HEADER
                + "local   all         all                                peer\n"
                // as Chef's "High Availability: Backend Cluster" page prints them, verbatim:
                + "host    all         all         samehost               md5\n"
                + "hostssl replication replicator  samehost               md5\n"
                + "host    all         all         samenet                md5\n"
                + "hostssl replication replicator  samenet                md5\n"
                + "host    all         all         192.168.1.3/24         md5\n"
                + "hostssl replication replicator  192.168.1.3/24         md5\n",
                hba);
    }

    @Test
    void longValuesStaySeparatedAndTheListReplacesTheDefaults() {
        String hba = render("postgresql.replication_user = 'a_very_long_replicator'\n"
                + "postgresql.md5_auth_cidr_addresses = ['2001:db8:ffff:ffff:ffff::/80']");
        assertEquals(PgHbaConf.HEADER
                + "local   all         all                                peer\n"
                + "host    all         all         2001:db8:ffff:ffff:ffff::/80 md5\n"
                + "hostssl replication a_very_long_replicator 2001:db8:ffff:ffff:ffff::/80 md5\n",
                hba);
    }
}
