package org.chefbackend.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;

class SettingsTest {
    static final MachineFacts MACHINE = new MachineFacts(24L * 1024 * 1024 * 1024, "be1.example.com");

    static Settings parse(String text) {
        return Settings.from(ChefBackendRbParser.parse("chef-backend.rb", text), MACHINE);
    }

    static ConfigException error(String text) {
        return assertThrows(ConfigException.class, () -> parse(text));
    }

    @Test
    void documentedDefaults() {
        Settings s = Settings.defaults(MACHINE);
        assertEquals(30L, s.integer("leaderl.leader_ttl_seconds"));
        assertEquals(0L, s.integer("leaderl.required_active_followers"));
        assertEquals(5L, s.integer("leaderl.health_check.interval_seconds"));
        assertEquals(52428800L, s.integer("leaderl.health_check.max_bytes_behind_leader"));
        assertEquals(7331L, s.integer("leaderl.http_port"));
        assertEquals(500L, s.integer("etcd.heartbeat_interval"));
        assertEquals(5000L, s.integer("etcd.election_timeout"));
        assertEquals(350L, s.integer("postgresql.max_connections"));
        assertEquals(List.of("samehost", "samenet"), s.list("postgresql.md5_auth_cidr_addresses"));
        assertEquals(List.of("/var/log/chef-backend", "/var/opt/chef-backend"), s.list("leaderl.health_check.disk_paths"));
        assertEquals("/var/log/chef-backend/postgresql/15", s.string("postgresql.log_directory"));
        assertEquals(104857600L, s.integer("etcd.log_rotation.file_maxbytes"));
        assertEquals(10L, s.integer("elasticsearch.log_rotation.num_to_keep"));
        assertEquals(true, s.bool("leaderl.start_down"));
        assertNull(s.string("publish_address"));
        assertNull(s.string("ssl.certificate"));
        assertEquals("YouCorp", s.string("ssl.company_name"));
    }

    @Test
    void computedDefaultsFollowTheMachine() {
        Settings big = Settings.defaults(MACHINE);
        assertEquals("6144MB", big.get("postgresql.shared_buffers"));
        assertEquals("12288MB", big.get("postgresql.effective_cache_size"));
        assertEquals(8192L, big.integer("elasticsearch.heap_size"));
        assertEquals("be1.example.com", big.string("fqdn"));

        Settings small = Settings.defaults(new MachineFacts(992L * 1024 * 1024, "x"));
        // the documents' sample (a 1 GB machine) shows 248MB and 496MB
        assertEquals("248MB", small.get("postgresql.shared_buffers"));
        assertEquals("496MB", small.get("postgresql.effective_cache_size"));

        Settings huge = Settings.defaults(new MachineFacts(512L * 1024 * 1024 * 1024, "x"));
        assertEquals(31L * 1024, huge.integer("elasticsearch.heap_size"));
    }

    @Test
    void allSyntaxFormsReachTheSameSetting() {
        assertEquals(5433L, parse("postgresql.port = 5433").integer("postgresql.port"));
        assertEquals(5433L, parse("postgresql['port'] = 5433").integer("postgresql.port"));
        assertEquals(5433L, parse("postgresql[:port] = 5433").integer("postgresql.port"));
        assertEquals(7L, parse("leaderl['health_check']['interval_seconds'] = 7")
                .integer("leaderl.health_check.interval_seconds"));
        assertEquals("10.0.0.5", parse("publish_address '10.0.0.5'").string("publish_address"));
        assertEquals("be1", parse("fqdn \"be1\"").string("fqdn"));
    }

    @Test
    void laterAssignmentWinsAndPositionIsKept() {
        Settings s = parse("postgresql.port = 5433\npostgresql.port = 5434\n");
        assertEquals(5434L, s.integer("postgresql.port"));
        assertEquals(2, s.setAt("postgresql.port").orElseThrow().line());
        assertTrue(s.setAt("etcd.client_port").isEmpty());
    }

    @Test
    void oldKeySpellingIsAnAlias() {
        assertEquals(2L, parse("leaderl.health_check_interval_seconds = 2").integer("leaderl.health_check.interval_seconds"));
    }

    @Test
    void unknownKeySuggestsTheClosest() {
        ConfigException e = error("publish_address '10.0.0.5'\npostgresql.max_conections = 100\n");
        assertEquals("chef-backend.rb:2:1: unknown setting 'postgresql.max_conections'; "
                + "did you mean 'postgresql.max_connections'?", e.getMessage());
    }

    @Test
    void unknownKeyWithoutCloseMatchHasNoSuggestion() {
        assertEquals("chef-backend.rb:1:1: unknown setting 'frobnicate.everything'",
                error("frobnicate.everything = 1").getMessage());
    }

    @Test
    void sectionIsNotASetting() {
        ConfigException e = error("postgresql = { 'port' => 5432 }");
        assertTrue(e.getMessage().startsWith("chef-backend.rb:1:1: 'postgresql' is a group of settings"), e.getMessage());
    }

    @Test
    void wrongTypePointsAtTheValue() {
        assertEquals("chef-backend.rb:1:19: postgresql.port: expected an integer from 1 to 65535, got the string '5432'",
                error("postgresql.port = '5432'").getMessage());
        assertEquals("chef-backend.rb:1:19: postgresql.port: expected an integer from 1 to 65535, got 70000",
                error("postgresql.port = 70000").getMessage());
        assertEquals("chef-backend.rb:1:22: leaderl.start_down: expected true or false, got the string 'yes'",
                error("leaderl.start_down = 'yes'").getMessage());
        assertTrue(error("postgresql.md5_auth_cidr_addresses = 'samenet'").getMessage()
                .contains("expected an array of pg_hba.conf addresses"));
        assertTrue(error("postgresql.md5_auth_cidr_addresses = ['samenet', 'bad entry']").getMessage()
                .contains("'bad entry' is not one"));
        assertTrue(error("publish_address 'not-an-ip'").getMessage().contains("expected an IP address"));
        assertTrue(error("fqdn 'BE1'").getMessage().contains("expected a lower-case host name"));
        assertTrue(error("postgresql.data_dir = 'relative/path'").getMessage().contains("expected an absolute path"));
        assertTrue(error("ip_version 'ipv5'").getMessage().contains("expected one of ipv4, ipv6"));
        assertTrue(error("postgresql.environment = { 'BAD-NAME' => 'x' }").getMessage()
                .contains("invalid environment variable name"));
    }

    @Test
    void typesAcceptTheirDocumentedSpellings() {
        Settings s = parse(String.join("\n",
                "postgresql.wal_log_hints = true",
                "postgresql.hot_standby = :off",
                "postgresql.max_wal_size = '2GB'",
                "postgresql.checkpoint_completion_target = 1",
                "ip_version :ipv6",
                "etcd.environment = { 'GOMAXPROCS' => 2, TZ: 'UTC' }",
                "elasticsearch.new_size = 32"));
        assertEquals("on", s.get("postgresql.wal_log_hints"));
        assertEquals("off", s.get("postgresql.hot_standby"));
        assertEquals("2GB", s.get("postgresql.max_wal_size"));
        assertEquals(1.0, s.number("postgresql.checkpoint_completion_target"));
        assertEquals("ipv6", s.string("ip_version"));
        assertEquals(Map.of("GOMAXPROCS", "2", "TZ", "UTC"), s.map("etcd.environment"));
        assertEquals(32L, s.integer("elasticsearch.new_size"));
    }

    @Test
    void sampleConfigRoundTripsToTheSameSettings() {
        String sample = SampleConfig.render(MACHINE, List.of("192.0.2.10"));
        Settings parsed = Settings.from(ChefBackendRbParser.parse("sample.rb", sample), MACHINE);
        assertEquals(Settings.defaults(MACHINE), parsed);
        // every option appears, each exactly once as an assignment
        for (SettingDefinition def : SettingsSchema.get().definitions()) {
            long count = sample.lines().filter(l -> l.startsWith(def.key() + " = ")).count();
            assertEquals(1, count, def.key());
        }
    }

    @Test
    void sampleForAnotherMachineDiffersOnlyInComputedValues() {
        MachineFacts other = new MachineFacts(8L * 1024 * 1024 * 1024, "other");
        Settings fromOtherSample = Settings.from(
                ChefBackendRbParser.parse("s.rb", SampleConfig.render(other, List.of())), MACHINE);
        for (SettingDefinition def : SettingsSchema.get().definitions()) {
            boolean same = Objects.equals(Settings.defaults(MACHINE).get(def.key()),
                    fromOtherSample.get(def.key()));
            assertEquals(!def.computed(), same, def.key());
        }
    }

    @Test
    void everyDefinitionHasADescriptionAndAValidDefault() {
        for (SettingDefinition def : SettingsSchema.get().definitions()) {
            assertTrue(def.description() != null && !def.description().isBlank(), def.key());
            def.defaultFor(MACHINE); // must not throw
        }
    }

    @Test
    void withRevalidates() {
        Settings s = Settings.defaults(MACHINE).with("publish_address", "127.0.0.2");
        assertEquals("127.0.0.2", s.string("publish_address"));
        assertThrows(IllegalArgumentException.class, () -> s.with("publish_address", "nope"));
    }
}
