package org.chefbackend.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretsRotationTest {
    static final ClusterCa CA = new ClusterCa("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
    static final ClusterCa OTHER_CA = new ClusterCa("-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n",
            "-----BEGIN PRIVATE KEY-----\nMIIF\n-----END PRIVATE KEY-----\n");
    final Secrets current = Secrets.generate(new SecureRandom()).withCa(CA);

    @Test
    void newPasswordsKeepWhatARunningClusterCannotChange() {
        Secrets next = current.withNewPasswords(new SecureRandom());
        assertEquals(current.etcdInitialClusterToken(), next.etcdInitialClusterToken());
        assertEquals(current.elasticsearchClusterName(), next.elasticsearchClusterName());
        assertEquals(current.ca(), next.ca());
        assertNotEquals(current.dbSuperuserPassword(), next.dbSuperuserPassword());
        assertNotEquals(current.replicationPassword(), next.replicationPassword());
        assertEquals(100, next.dbSuperuserPassword().length());
        assertEquals(Optional.empty(), SecretsRotation.problem(current, next));
    }

    @Test
    void everyDerivedKeyChangesWithThePasswords() {
        Secrets next = current.withNewPasswords(new SecureRandom());
        assertFalse(Arrays.equals(current.adminKey(), next.adminKey()));
        assertNotEquals(current.etcdPassword(Secrets.ETCD_ROOT_USER), next.etcdPassword(Secrets.ETCD_ROOT_USER));
        assertNotEquals(current.etcdPassword(Secrets.ETCD_CLUSTER_USER), next.etcdPassword(Secrets.ETCD_CLUSTER_USER));
    }

    @Test
    void theFingerprintNamesTheWholeFileAndShowsNoValue() {
        Secrets same = new Secrets(current.dbSuperuserPassword(), current.replicationPassword(),
                current.etcdInitialClusterToken(), current.elasticsearchClusterName(), CA);
        assertEquals(current.fingerprint(), same.fingerprint());
        assertNotEquals(current.fingerprint(), current.withCa(OTHER_CA).fingerprint());
        assertNotEquals(current.fingerprint(), current.withNewPasswords(new SecureRandom()).fingerprint());
        assertTrue(current.fingerprint().matches("[0-9a-f]{64}"));
        current.accessValues().forEach(v -> assertFalse(current.fingerprint().contains(v)));
    }

    @Test
    void aNextFileThatChangesWhatCannotChangeIsRefused() {
        Secrets otherToken = new Secrets("a", "b", "other-token", current.elasticsearchClusterName(), CA);
        Secrets otherName = new Secrets("a", "b", current.etcdInitialClusterToken(), "other", CA);
        Secrets otherCa = current.withNewPasswords(new SecureRandom()).withCa(OTHER_CA);
        Secrets samePasswords = new Secrets(current.dbSuperuserPassword(), "b", current.etcdInitialClusterToken(),
                current.elasticsearchClusterName(), CA);
        assertTrue(SecretsRotation.problem(current, otherToken).orElseThrow().contains("initial cluster token"));
        assertTrue(SecretsRotation.problem(current, otherName).orElseThrow().contains("search cluster name"));
        assertTrue(SecretsRotation.problem(current, otherCa).orElseThrow().contains("another cluster CA"));
        assertTrue(SecretsRotation.problem(current, samePasswords).orElseThrow().contains("keep a database password"));
    }

    @Test
    void anOpenClusterIsRefused() {
        Secrets open = Secrets.generate(new SecureRandom());
        assertTrue(SecretsRotation.problem(open, open.withNewPasswords(new SecureRandom())).orElseThrow()
                .contains("secure-cluster"));
    }

    @Test
    void theNextFileLivesBesideTheSecretsFile() {
        assertEquals(Path.of("/etc/chef-backend/chef-backend-secrets.json.next"),
                SecretsRotation.nextFile(Path.of("/etc/chef-backend/chef-backend-secrets.json")));
    }

    @Test
    void theNextFileIsWrittenRootOnly(@TempDir Path dir) throws Exception {
        Path next = SecretsRotation.nextFile(dir.resolve("chef-backend-secrets.json"));
        Secrets written = current.withNewPasswords(new SecureRandom());
        SecretsFile.write(next, written);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(next)));
        assertEquals(written.fingerprint(), SecretsFile.load(next).fingerprint());
        assertArrayEquals(written.adminKey(), SecretsFile.load(next).adminKey());
    }
}
