package org.chefbackend.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;
import org.junit.jupiter.api.Test;

class PostgresArchivingTest {
    static final MachineFacts MACHINE = new MachineFacts(4L * 1024 * 1024 * 1024, "n1");

    static Settings settings(String rb) {
        return Settings.from(ChefBackendRbParser.parse("chef-backend.rb", rb), MACHINE);
    }

    static Map<String, String> rendered(String rb) {
        Settings s = settings(rb);
        Map<String, String> p = new LinkedHashMap<>(PostgresqlConf.parameters(s));
        PostgresRecipe.archiving(p, s, new NodePaths(Path.of("/n1")));
        return p;
    }

    @Test
    void withoutARepositoryTheDocumentsArchiveSettingsStand() {
        Map<String, String> p = rendered("");
        assertEquals("off", p.get("archive_mode"));
        assertEquals("", p.get("archive_command"));
    }

    @Test
    void withARepositoryEveryNodeArchivesThroughTheScript() {
        Map<String, String> p = rendered("backup.repository = '/mnt/b'\n");
        assertEquals("always", p.get("archive_mode"), "the same on every role: archive_mode needs a restart");
        assertEquals("'/n1/var/opt/chef-backend/pgbackrest/archive-wal' \"%p\" \"%f\"", p.get("archive_command"));
        assertEquals("60s", p.get("archive_timeout"));
        assertEquals("30s", rendered("backup.repository = '/mnt/b'\npostgresql.archive_timeout = 30\n")
                .get("archive_timeout"), "the documents' own option, when set, wins");
    }

    @Test
    void aSecondArchiverIsRefusedNamingItsLine() {
        ServiceSetupException e = assertThrows(ServiceSetupException.class, () -> PostgresRecipe.requireOneArchiver(
                settings("backup.repository = '/mnt/b'\npostgresql.archive_command = 'cp %p /x/%f'\n")));
        assertEquals("chef-backend.rb:2:1: postgresql.archive_command and backup.repository both archive WAL; remove "
                + "postgresql.archive_command (with backup.repository, pgBackRest archives)", e.getMessage());
    }
}
