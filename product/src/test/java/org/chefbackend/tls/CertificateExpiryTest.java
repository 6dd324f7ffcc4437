package org.chefbackend.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CertificateExpiryTest {
    static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");
    /** This node's reconfigure as status gets it: to be pasted on this node. */
    static final String RECONFIGURE = "CHEF_BACKEND_ROOT=/tmp/demo/node1 /src/bin/chef-backend-ctl reconfigure";

    @ParameterizedTest(name = "{0} h left -> {1}")
    @CsvSource(delimiter = '|', value = {
        "9600  | ''",
        "745   | ''", // 31 days: not yet
        "696   | node certificate /s/node.crt expires on 2027-01-04 (in 29 days): CHEF_BACKEND_ROOT=/tmp/demo/node1 /src/bin/chef-backend-ctl reconfigure issues a new one",
        "30    | node certificate /s/node.crt expires on 2026-12-07 (in 1 day): CHEF_BACKEND_ROOT=/tmp/demo/node1 /src/bin/chef-backend-ctl reconfigure issues a new one",
        "0     | node certificate /s/node.crt expired on 2026-12-06: CHEF_BACKEND_ROOT=/tmp/demo/node1 /src/bin/chef-backend-ctl reconfigure issues a new one",
        "-48   | node certificate /s/node.crt expired on 2026-12-04: CHEF_BACKEND_ROOT=/tmp/demo/node1 /src/bin/chef-backend-ctl reconfigure issues a new one"})
    void warnsThirtyDaysAhead(long hoursLeft, String expected) {
        List<String> warnings = CertificateExpiry.warnings(List.of(new CertificateExpiry.Entry("node certificate",
                "/s/node.crt", NOW.plus(Duration.ofHours(hoursLeft)), null)), NOW, RECONFIGURE);
        assertEquals(expected.isEmpty() ? List.of() : List.of(expected), warnings);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "cluster CA      | see docs/SECURITY.md, \"Certificates\"",
        "ssl.certificate | replace the file ssl.certificate names and run CHEF_BACKEND_ROOT=/tmp/demo/node1 /src/bin/chef-backend-ctl reconfigure"})
    void eachCertificateSaysWhatToDo(String name, String remedy) {
        List<String> warnings = CertificateExpiry.warnings(List.of(new CertificateExpiry.Entry(name, "/f",
                NOW.plus(Duration.ofDays(3)), null), new CertificateExpiry.Entry("unread", "/g", null, "not issued yet")),
                NOW, RECONFIGURE);
        assertEquals(List.of(name + " /f expires on 2026-12-09 (in 3 days): " + remedy), warnings);
    }
}
