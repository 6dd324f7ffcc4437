package org.chefbackend.system;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class DebianComponentsTest {
    @Test
    void onlyAnInstalledPackageHasAVersion() {
        Object[][] table = {
            {0, "installed 15.18-0+deb12u1", "15.18-0+deb12u1"},
            {0, "installed 3.4.23-4+b4\n", "3.4.23-4+b4"},
            {0, "config-files 3.4.23-4+b4", null}, // removed, configuration kept
            {0, "half-installed 3.4.23-4+b4", null},
            {0, "not-installed ", null},
            {1, "", null}, // dpkg-query: no packages found matching …
            {0, "installed ", null},
        };
        for (Object[] row : table) {
            assertEquals(Optional.ofNullable((String) row[2]),
                    DebianComponents.installedVersion((Integer) row[0], (String) row[1]), (String) row[1]);
        }
    }

    @Test
    void theOwnerOfAFileIsThePackageWithoutItsArchitecture() {
        Object[][] table = {
            {0, "openjdk-17-jre-headless:amd64: /usr/lib/jvm/java-17-openjdk-amd64/bin/java\n", "openjdk-17-jre-headless"},
            {0, "etcd-server: /usr/bin/etcd", "etcd-server"},
            {0, "libc6:amd64, libc6:i386: /usr/share/doc/libc6\n", "libc6"},
            {0, "diversion by foo from: /usr/bin/java\ndiversion by foo to: /usr/bin/java.real", null},
            {1, "", null}, // dpkg-query: no path found matching pattern …
        };
        for (Object[] row : table) {
            assertEquals(Optional.ofNullable((String) row[2]), DebianComponents.owner((Integer) row[0], (String) row[1]),
                    (String) row[1]);
        }
    }
}
