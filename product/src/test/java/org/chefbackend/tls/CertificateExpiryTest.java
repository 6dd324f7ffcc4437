package org.chefbackend.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CertificateExpiryTest {
    static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");

    @ParameterizedTest(name = "{0} h left -> {1}")
    @CsvSource(delimiter = '|', value = {
        "9600  | ''",
        "745   | ''", // 31 days: not yet
        "696   | node certificate /s/node.crt expires on 2027-01-04 (in 29 days): chef-backend-ctl reconfigure issues a new one",
        "30    | node certificate /s/node.crt expires on 2026-12-07 (in 1 day): chef-backend-ctl reconfigure issues a new one",
        "0     | node certificate /s/node.crt expired on 2026-12-06: chef-backend-ctl reconfigure issues a new one",
        "-48   | node certificate /s/node.crt expired on 2026-12-04: chef-backend-ctl reconfigure issues a new one"})
    void warnsThirtyDaysAhead(long hoursLeft, String expected) {
        List<String> warnings = CertificateExpiry.warnings(List.of(new CertificateExpiry.Entry("node certificate",
                "/s/node.crt", NOW.plus(Duration.ofHours(hoursLeft)), null)), NOW);
        assertEquals(expected.isEmpty() ? List.of() : List.of(expected), warnings);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "cluster CA      | see docs/SECURITY.md, \"Certificates\"",
        "ssl.certificate | replace the file ssl.certificate names and run chef-backend-ctl reconfigure"})
    void eachCertificateSaysWhatToDo(String name, String remedy) {
        List<String> warnings = CertificateExpiry.warnings(List.of(new CertificateExpiry.Entry(name, "/f",
                NOW.plus(Duration.ofDays(3)), null), new CertificateExpiry.Entry("unread", "/g", null, "not issued yet")),
                NOW);
        assertEquals(List.of(name + " /f expires on 2026-12-09 (in 3 days): " + remedy), warnings);
    }
}
