package org.chefbackend.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Map;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.Settings;
import org.junit.jupiter.api.Test;

class PostgresqlConfTest {
    static final MachineFacts MACHINE = new MachineFacts(4L * 1024 * 1024 * 1024, "n1");

    static Map<String, String> render(String rb) {
        return PostgresqlConf.parameters(Settings.from(ChefBackendRbParser.parse("t.rb", rb), MACHINE));
    }

    @Test
    void ninePointFiveDefaultsAreTranslatedForFifteen() {
        Map<String, String> p = render("");
        assertEquals("1024MB", p.get("max_wal_size"));   // 64 segments of 16 MB
        assertEquals("80MB", p.get("min_wal_size"));     // 5 segments
        assertEquals("512MB", p.get("wal_keep_size"));   // wal_keep_segments 32
        assertFalse(p.containsKey("wal_keep_segments")); // removed in PostgreSQL 13
        assertEquals("replica", p.get("wal_level"));     // 'hot_standby' is 9.5's name
        assertEquals("2", p.get("tcp_keepalives_count"));
        assertEquals("60", p.get("tcp_keepalives_idle"));
        assertEquals("15", p.get("tcp_keepalives_interval"));
        assertEquals("on", p.get("log_checkpoints"));
        assertEquals("on", p.get("wal_log_hints"));
        assertEquals("1024MB", p.get("shared_buffers"));
        assertEquals("2048MB", p.get("effective_cache_size"));
        assertEquals("8MB", p.get("work_mem"));
        assertEquals("5min", p.get("checkpoint_timeout"));
        assertEquals("0.5", p.get("checkpoint_completion_target"));
        assertEquals("350", p.get("max_connections"));
        assertEquals("12", p.get("max_wal_senders"));
        assertEquals("30s", p.get("wal_sender_timeout"));          // the leader TTL
        assertEquals("3s", p.get("wal_receiver_status_interval")); // a tenth of it
    }

    @Test
    void walSenderTimeoutFollowsTheLeaderTtlUnlessSet() {
        assertEquals("5s", render("leaderl.leader_ttl_seconds = 5").get("wal_sender_timeout"));
        assertEquals("1s", render("leaderl.leader_ttl_seconds = 5").get("wal_receiver_status_interval"));
        assertEquals("10s", render("leaderl.leader_ttl_seconds = 600").get("wal_receiver_status_interval"));
        assertEquals("60000ms", render("postgresql.wal_sender_timeout = 60000").get("wal_sender_timeout"));
        assertEquals("2min", render("leaderl.leader_ttl_seconds = 5\npostgresql.wal_sender_timeout = '2min'")
                .get("wal_sender_timeout"));
    }

    @Test
    void eachOptionChangesItsParameter() {
        assertEquals("2048MB", render("postgresql.max_wal_size = 128").get("max_wal_size"));
        assertEquals("2GB", render("postgresql.max_wal_size = '2GB'").get("max_wal_size"));
        assertEquals("160MB", render("postgresql.min_wal_size = 10").get("min_wal_size"));
        assertEquals("1024MB", render("postgresql.wal_keep_segments = 64").get("wal_keep_size"));
        assertEquals("logical", render("postgresql.wal_level = 'logical'").get("wal_level"));
        assertEquals("100", render("postgresql.max_connections = 100").get("max_connections"));
        assertEquals("off", render("postgresql.log_checkpoints = false").get("log_checkpoints"));
        assertEquals("300s", render("postgresql.checkpoint_timeout = 300").get("checkpoint_timeout"));
        assertEquals("5433", render("postgresql.port = 5433").get("port"));
        assertEquals("128MB", render("postgresql.shared_buffers = '128MB'").get("shared_buffers"));
    }

    @Test
    void linesQuoteValuesAsPostgresqlRequires() {
        assertEquals("archive_command = 'cp ''%p'' /a'",
                PostgresqlConf.lines(Map.of("archive_command", "cp '%p' /a")).get(0));
    }
}
