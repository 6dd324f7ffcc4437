package org.chefbackend.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Optional;
import org.chefbackend.config.ClusterCa;
import org.chefbackend.config.Secrets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CaRotationTest {
    static ClusterCa oldCa;
    static ClusterCa newCa;
    static ClusterCa otherCa;
    static Secrets current;
    static Secrets next;

    @BeforeAll
    static void cas() {
        Subject subject = new Subject("US", "YouCorp", "Operations");
        oldCa = Authority.generate(subject, 2048, 2);
        newCa = Authority.generate(subject, 2048, 2);
        otherCa = Authority.generate(subject, 2048, 2);
        current = Secrets.generate(new SecureRandom()).withCa(oldCa);
        next = current.withCa(newCa);
    }

    @Test
    void threePhasesFromTheOldCaToTheNew() {
        assertEquals(0, CaRotation.phase(current.ca(), newCa));
        Secrets one = CaRotation.at(current, next, 1);
        assertEquals(1, CaRotation.phase(one.ca(), newCa));
        assertEquals(Authority.fingerprint(oldCa), Authority.fingerprint(one.ca()), "the old CA still signs");
        assertEquals(oldCa.keyPem(), one.ca().keyPem());
        Secrets two = CaRotation.at(one, next, 2);
        assertEquals(2, CaRotation.phase(two.ca(), newCa));
        assertEquals(Authority.fingerprint(newCa), Authority.fingerprint(two.ca()), "the new CA signs");
        assertEquals(newCa.keyPem(), two.ca().keyPem());
        Secrets three = CaRotation.at(two, next, 3);
        assertEquals(3, CaRotation.phase(three.ca(), newCa));
        assertEquals(next, three);
        // the passwords and everything derived from them never change
        assertEquals(current.withCa(null), three.withCa(null));
    }

    @Test
    void bothPhasesThatTrustBothCasTrustTheSameBytes() {
        Secrets one = CaRotation.at(current, next, 1);
        Secrets two = CaRotation.at(one, next, 2);
        assertEquals(CaRotation.trustBundle(one.ca()), CaRotation.trustBundle(two.ca()));
        assertEquals(2, Pem.certificates(CaRotation.trustBundle(one.ca()), "bundle").size());
        assertEquals(1, Pem.certificates(CaRotation.trustBundle(next.ca()), "bundle").size());
    }

    @Test
    void aPhaseIsTakenOnlyFromTheOneBeforeOrAgain() {
        Secrets one = CaRotation.at(current, next, 1);
        assertEquals(one, CaRotation.at(one, next, 1), "again: the same");
        assertThrows(IllegalArgumentException.class, () -> CaRotation.at(current, next, 2));
        assertThrows(IllegalArgumentException.class, () -> CaRotation.at(current, next, 3));
    }

    @Test
    void aNextCaFileThatDoesNotFitIsRefused() {
        assertEquals(Optional.empty(), CaRotation.problem(current, next));
        Secrets otherPasswords = Secrets.generate(new SecureRandom()).withCa(newCa);
        assertTrue(CaRotation.problem(current, otherPasswords).orElseThrow().contains("other secrets"));
        Secrets bundle = current.withCa(new ClusterCa(newCa.certificatePem() + otherCa.certificatePem(), newCa.keyPem()));
        assertTrue(CaRotation.problem(current, bundle).orElseThrow().contains("exactly one CA certificate"));
        Secrets halfwayElsewhere = current.withCa(new ClusterCa(oldCa.certificatePem() + otherCa.certificatePem(),
                oldCa.keyPem()));
        assertEquals(-1, CaRotation.phase(halfwayElsewhere.ca(), newCa));
        assertTrue(CaRotation.problem(halfwayElsewhere, next).orElseThrow().contains("another CA"));
        assertTrue(CaRotation.problem(Secrets.generate(new SecureRandom()), next).orElseThrow()
                .contains("secure-cluster"));
    }

    @Test
    void theNextCaFileLivesBesideTheSecretsFile() {
        assertEquals(Path.of("/etc/chef-backend/chef-backend-secrets.json.next-ca"),
                CaRotation.nextFile(Path.of("/etc/chef-backend/chef-backend-secrets.json")));
    }
}
