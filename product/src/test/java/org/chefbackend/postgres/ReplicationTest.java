package org.chefbackend.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplicationTest {
    static final Secrets SECRETS = Secrets.generate(new SecureRandom());

    @TempDir
    Path root;

    NodeContext node(String name) {
        Settings settings = Settings.from(ChefBackendRbParser.parse("t.rb", "publish_address '127.0.0.26'\n"),
                new MachineFacts(4L << 30, name));
        return new NodeContext(settings, new NodePaths(root), name, "0123456789abcdef0123456789abcdef", SECRETS);
    }

    // ---- slot names ----

    @Test
    void aNameThatIsAlreadyValidIsKeptAfterThePrefix() {
        assertEquals("cb_be1", Replication.slotName("be1"));
        assertEquals("cb_be_1", Replication.slotName("be_1"));
    }

    @Test
    void aChangedNameGetsAHashSoLookAlikesDoNotCollide() {
        String dash = Replication.slotName("be-1");
        String dot = Replication.slotName("be.1");
        String upper = Replication.slotName("BE_1");
        assertTrue(dash.matches("cb_be_1_[0-9a-f]{8}"), dash);
        assertTrue(upper.matches("cb_be_1_[0-9a-f]{8}"), upper);
        assertEquals(4, Set.of(dash, dot, upper, Replication.slotName("be_1")).size());
        assertEquals(dash, Replication.slotName("be-1"), "deterministic");
    }

    @Test
    void aKeptNameCannotImitateAHashedOne() {
        String hashed = Replication.slotName("be-1");
        String imitation = hashed.substring("cb_".length()); // "be_1_<8 hex>", valid as it stands
        assertNotEquals(hashed, Replication.slotName(imitation));
    }

    @Test
    void fqdnsAndLongNamesFitPostgresLimits() {
        List<String> names = List.of("backend-1.example.com", "x".repeat(60), "x".repeat(61), "y".repeat(300),
                "Ünïcödé-node", "a b", "");
        for (String n : names.subList(0, names.size() - 1)) {
            String slot = Replication.slotName(n);
            assertTrue(slot.matches("[a-z0-9_]{1,63}"), n + " -> " + slot);
        }
        assertEquals("cb_" + "x".repeat(60), Replication.slotName("x".repeat(60)));
        assertEquals(63, Replication.slotName("x".repeat(61)).length());
        assertThrows(IllegalArgumentException.class, () -> Replication.slotName(""));
    }

    @Test
    void namesSharingALongPrefixStayDistinct() {
        Set<String> slots = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            slots.add(Replication.slotName("z".repeat(100) + "-" + i));
        }
        assertEquals(1000, slots.size());
    }

    // ---- LSNs ----

    @Test
    void lsnsBecomeComparableNumbers() {
        assertEquals(0x16B374D848L, Replication.lsnToLong("16/B374D848"));
        assertEquals(0L, Replication.lsnToLong("0/0"));
        assertEquals(0x3000060L, Replication.lsnToLong("0/3000060"));
        assertEquals(0xFFFFFFFFL << 32 | 0xFFFFFFFFL, Replication.lsnToLong("FFFFFFFF/FFFFFFFF"));
        assertTrue(Replication.lsnToLong("1/0") > Replication.lsnToLong("0/FFFFFFFF"));
        for (String bad : new String[] {"", "16", "/1", "1/", "1/2/3", "g/1", "123456789/0", "0/123456789", " 0/1"}) {
            assertThrows(IllegalArgumentException.class, () -> Replication.lsnToLong(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> Replication.lsnToLong(null));
    }

    // ---- files ----

    @Test
    void postgresqlConfIncludesStandbyConfThenSynchronousConfLast() {
        List<String> lines = PostgresRecipe.renderPostgresqlConf(node("n1")).lines().toList();
        assertEquals("include_if_exists = 'standby.conf'", lines.get(lines.size() - 2));
        assertEquals("include_if_exists = 'synchronous.conf'", lines.get(lines.size() - 1));
    }

    @Test
    void synchronousConfNamesTheStandbyQuotedOrNobody() {
        assertTrue(Replication.renderSynchronousConf("n-127-0-0-2")
                .contains("synchronous_standby_names = '\"n-127-0-0-2\"'"), Replication.renderSynchronousConf("x"));
        assertTrue(Replication.renderSynchronousConf(null).contains("synchronous_standby_names = ''"));
    }

    @Test
    void synchronousStandbyNamesParse() {
        assertEquals("n-127-0-0-2", Replication.parseSynchronousStandby("\"n-127-0-0-2\""));
        assertEquals("be2", Replication.parseSynchronousStandby("be2"));
        assertEquals("be2", Replication.parseSynchronousStandby("FIRST 1 (be2, be3)"));
        assertEquals("a\"b", Replication.parseSynchronousStandby("2 (\"a\"\"b\", c)"));
        assertNull(Replication.parseSynchronousStandby(""));
        assertNull(Replication.parseSynchronousStandby(null));
    }

    @Test
    void standbyConfPointsAtTheLeaderThroughTheSlot() {
        NodeContext n = node("be-2.example.com");
        Map<String, String> p = PostgresqlConf.parse(Replication.renderStandbyConf(n, "127.0.0.25", 5432, "cb_x"));
        assertEquals("host=127.0.0.25 port=5432 user=replicator passfile="
                + root.resolve("var/opt/chef-backend/postgresql/.pgpass")
                + " sslmode=require application_name=be-2.example.com connect_timeout=5", p.get("primary_conninfo"));
        assertEquals("cb_x", p.get("primary_slot_name"));
        assertEquals("latest", p.get("recovery_target_timeline"));
        assertEquals("on", p.get("hot_standby_feedback"));
    }

    @Test
    void conninfoValuesAreQuotedOnlyWhenNeeded() {
        assertEquals("127.0.0.1", Replication.conninfoValue("127.0.0.1"));
        assertEquals("'a b'", Replication.conninfoValue("a b"));
        assertEquals("'it\\'s'", Replication.conninfoValue("it's"));
        assertEquals("'c:\\\\x'", Replication.conninfoValue("c:\\x"));
        assertEquals("''", Replication.conninfoValue(""));
    }

    @Test
    void pgpassLinesMatchAnyHostAndEscapeSeparators() {
        assertEquals("*:*:*:replicator:abc\n", Replication.pgpassLine("replicator", "abc"));
        assertEquals("*:*:*:u:a\\:b\\\\c\n", Replication.pgpassLine("u", "a:b\\c"));
    }

    // ---- pg_basebackup output ----

    @Test
    void progressIsSplitAtCarriageReturnsAndNewlines() {
        List<String> lines = new ArrayList<>();
        String last = Replication.forwardLines(new StringReader("pg_basebackup: initiating base backup\n"
                + "  100/2000 kB (5%), 0/1 tablespace\r 2000/2000 kB (100%), 1/1 tablespace\r\n\n"
                + "pg_basebackup: base backup completed"), lines::add);
        assertEquals(List.of("pg_basebackup: initiating base backup", "100/2000 kB (5%), 0/1 tablespace",
                "2000/2000 kB (100%), 1/1 tablespace", "pg_basebackup: base backup completed"), lines);
        assertEquals("pg_basebackup: base backup completed", last);
    }

    @Test
    void errorLinesAreReportedNotTheCleanUpAfterThem() {
        String errors = Replication.forwardLines(new StringReader("pg_basebackup: starting background WAL receiver\n"
                + "pg_basebackup: error: could not send replication command \"START_REPLICATION\": ERROR:  replication"
                + " slot \"cb_x\" does not exist\n"
                + "pg_basebackup: error: background process terminated unexpectedly\n"
                + "pg_basebackup: removing contents of data directory \"/d\"\n"), s -> {
                    throw new IllegalStateException("a failing sink must not stop the reading");
                });
        assertEquals("pg_basebackup: error: could not send replication command \"START_REPLICATION\": ERROR:  replication"
                + " slot \"cb_x\" does not exist; pg_basebackup: error: background process terminated unexpectedly", errors);
        assertEquals(null, Replication.forwardLines(new StringReader(""), s -> { }));
    }
}
