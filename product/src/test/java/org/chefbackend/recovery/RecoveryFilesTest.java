package org.chefbackend.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecoveryFilesTest {
    @TempDir
    Path dir;

    Path backupTree() throws Exception {
        for (String f : List.of("pgsql/PG_VERSION", "pgsql/backup_label", "pgsql/global/pg_control",
                "config/chef-backend-secrets.json", "pgsql/base/1/1234")) {
            Files.createDirectories(dir.resolve(f).getParent());
            Files.writeString(dir.resolve(f), "content of " + f);
        }
        Manifest.write(dir, Map.of("lsn", Map.of("end", "0/3000100")), Manifest.checksums(dir));
        return dir;
    }

    @Test
    void aWholeBackupVerifies() throws Exception {
        Path top = backupTree();
        JsonNode m = Manifest.read(top);
        assertEquals("0/3000100", m.at("/lsn/end").asText());
        assertEquals(5, m.path("files").size());
        assertEquals(List.of(), Manifest.verify(top, m));
    }

    @Test
    void everyKindOfDamageIsNamed() throws Exception {
        Path top = backupTree();
        JsonNode m = Manifest.read(top);
        Files.writeString(top.resolve("pgsql/base/1/1234"), "content of pgsql/base/1/1235"); // same size
        Files.writeString(top.resolve("pgsql/PG_VERSION"), "15");
        Files.delete(top.resolve("pgsql/backup_label"));
        Files.writeString(top.resolve("pgsql/extra"), "x");
        List<String> problems = Manifest.verify(top, m);
        assertTrue(problems.contains("pgsql/base/1/1234 does not match its checksum"), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("pgsql/PG_VERSION has 2 bytes")), problems.toString());
        assertTrue(problems.contains("missing pgsql/backup_label"), problems.toString());
        assertTrue(problems.contains("unlisted file pgsql/extra"), problems.toString());
    }

    @Test
    void aManifestThatIsNotOursIsRefused() throws Exception {
        Files.writeString(dir.resolve("manifest.json"), "{\"format\":\"other\"}");
        Exception e = assertThrows(IOException.class, () -> Manifest.read(dir));
        assertTrue(e.getMessage().contains("not a chef-backend backup manifest"), e.getMessage());
        Files.writeString(dir.resolve("manifest.json"), "{\"format\":");
        e = assertThrows(IOException.class, () -> Manifest.read(dir));
        assertTrue(e.getMessage().contains("is damaged"), e.getMessage());
    }

    @Test
    void spaceIsTheCopyTheArchiveAndAMargin() {
        long mb = 1 << 20;
        assertTrue(Backup.shortfall(100 * mb, 300 * mb).isEmpty());
        assertEquals(Long.valueOf(64 * mb), Backup.shortfall(100 * mb, 200 * mb).orElseThrow());
        assertTrue(Backup.shortfall(0, 64 * mb).isEmpty());
    }

    @Test
    void theRestoredConfigurationKeepsThisNodesAddressAndName() {
        String backup = "publish_address '10.0.0.5'\nfqdn 'old-node'\npostgresql.max_connections = 200\n";
        String local = "publish_address '10.0.0.9'\nfqdn 'new-node'\n";
        String restored = Restore.restoredConfig(backup, local, null);
        assertTrue(restored.contains("postgresql.max_connections = 200"), restored);
        assertTrue(restored.contains("publish_address '10.0.0.9'") && restored.contains("fqdn 'new-node'"), restored);
        assertTrue(!restored.contains("10.0.0.5") && !restored.contains("old-node"), restored);

        String given = Restore.restoredConfig(backup, local, "10.0.0.7");
        assertTrue(given.contains("publish_address '10.0.0.7'") && !given.contains("10.0.0.9"), given);

        String bare = Restore.restoredConfig(backup, null, null);
        assertTrue(bare.contains("publish_address '10.0.0.5'"), bare);
        assertTrue(!bare.contains("old-node"), "the old node's name must not follow the data: " + bare);
    }
}
