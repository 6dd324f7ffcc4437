package org.chefbackend.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.chefbackend.agent.NodeContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RewindTest {
    @Test
    void pgRewindsOwnWordsForMissingWalMeanNoRetry() {
        // seen on this machine after a crash recovery that recycled the segment (issue 17)
        assertTrue(Rewind.walGone("pg_rewind failed (exit 1): pg_rewind: error: could not open file "
                + "\"/var/opt/chef-backend/postgresql/15/data/pg_wal/000000010000000000000002\": No such file or "
                + "directory pg_rewind: error: could not find previous WAL record at 0/2000100"));
        assertTrue(Rewind.walGone("could not find previous WAL record at 0/57BBDF8: invalid record length"));
        assertFalse(Rewind.walGone("pg_rewind failed (exit 1): could not connect to server: Connection refused"));
        assertFalse(Rewind.walGone("could not open file \"global/pg_control\" for reading"));
    }

    @Test
    void theSourceServerIsVerifiedAsEveryConnectionBetweenNodes(@TempDir Path root) {
        NodeContext n = PeerTlsTest.node(root, "", null);
        Path pgpass = root.resolve("pg pass");
        assertEquals("host=127.0.0.25 port=5432 user=chef_pgsql dbname=postgres sslmode=require connect_timeout=10"
                + " passfile='" + pgpass + "'", Rewind.sourceServer(n, "127.0.0.25", 5432, pgpass, PeerTls.of(n)));
        NodeContext closed = PeerTlsTest.node(root, "", PeerTlsTest.ca());
        assertEquals("host=127.0.0.25 port=5432 user=chef_pgsql dbname=postgres sslmode=verify-full sslrootcert="
                + root.resolve("var/opt/chef-backend/postgresql/root.crt") + " connect_timeout=10 passfile='" + pgpass
                + "'", Rewind.sourceServer(closed, "127.0.0.25", 5432, pgpass, PeerTls.of(closed)));
    }

    @Test
    void onlyACleanStopOfAPrimaryOrAStandbyNeedsNoCrashRecovery() {
        assertTrue(Rewind.cleanlyShutDown("shut down"));
        assertTrue(Rewind.cleanlyShutDown("shut down in recovery"));
        assertFalse(Rewind.cleanlyShutDown("in production"));
        assertFalse(Rewind.cleanlyShutDown("in archive recovery"));
        assertFalse(Rewind.cleanlyShutDown(null));
    }

    @Test
    void controlDataIsReadFieldByField() {
        Map<String, String> f = Rewind.parseControlData("pg_control version number:            1300\n"
                + "Database cluster state:               in production\n"
                + "Latest checkpoint location:           0/2000060\n");
        assertEquals("in production", f.get("Database cluster state"));
        assertEquals("0/2000060", f.get("Latest checkpoint location"));
    }
}
