package org.chefbackend.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every setting that takes text refuses a newline, a carriage return and a NUL, with file:line:column and the
 * setting's name: each of them is rendered into a file or a command line that holds one value a line.
 */
class ControlCharactersTest {
    static final MachineFacts MACHINE = SettingsTest.MACHINE;
    static final SourcePosition AT = new SourcePosition("chef-backend.rb", 7, 1);
    static final SourcePosition VALUE_AT = new SourcePosition("chef-backend.rb", 7, 30);
    /** Valid text for settings whose default is nil. */
    static final Map<String, Object> NIL_DEFAULT_SAMPLES = Map.of(
            "publish_address", "10.0.0.1", "leaderl.http_address", "10.0.0.1", "vip", "10.0.0.9",
            "vip_interface", "eth0", "ssl.certificate", "/etc/x.crt", "ssl.certificate_key", "/etc/x.key",
            "postgresql.wal_sender_timeout", "60s");

    static Stream<Arguments> textSettingsAndCharacters() {
        List<Arguments> rows = new ArrayList<>();
        for (SettingDefinition def : SettingsSchema.get().definitions()) {
            Object sample = textSample(def);
            if (sample == null) {
                continue;
            }
            for (String[] c : new String[][] {{"\n", "\\n"}, {"\r", "\\r"}, {"\0", "\\0"}}) {
                rows.add(Arguments.of(def.key(), spoil(sample, c[0]), c[1]));
            }
        }
        return rows.stream();
    }

    /** A literal the setting accepts that holds text, or null when it takes none (integers, booleans). */
    static Object textSample(SettingDefinition def) {
        Object value = def.defaultFor(MACHINE);
        if (value == null) {
            value = NIL_DEFAULT_SAMPLES.get(def.key());
        }
        if (value instanceof List<?> || value instanceof Map<?, ?>) {
            return value;
        }
        String text = String.valueOf(value);
        try {
            def.type().coerce(text); // pgQuantity takes "64" as well as 64
            return text;
        } catch (IllegalArgumentException notText) {
            return null;
        }
    }

    static Object spoil(Object sample, String c) {
        if (sample instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list);
            out.add(0, "a" + c + "b");
            return out;
        }
        if (sample instanceof Map<?, ?>) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("TZ", "UTC" + c);
            return out;
        }
        String s = (String) sample;
        return s.substring(0, s.length() / 2) + c + s.substring(s.length() / 2);
    }

    @ParameterizedTest(name = "{0} {2}")
    @MethodSource("textSettingsAndCharacters")
    void isRefusedWithItsPositionAndName(String key, Object literal, String escape) {
        Assignment a = new Assignment(List.of(key.split("\\.")), literal, AT, VALUE_AT);
        ConfigException e = assertThrows(ConfigException.class, () -> Settings.from(List.of(a), MACHINE));
        assertTrue(e.getMessage().startsWith("chef-backend.rb:7:30: " + key + ": holds the control character "
                + escape + ";"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    @Test
    void theTableCoversTheSettingsRenderedIntoConfigurationFiles() {
        List<String> covered = textSettingsAndCharacters().map(a -> (String) a.get()[0]).distinct().toList();
        for (String key : List.of("postgresql.archive_command", "ssl.ciphers", "postgresql.data_dir",
                "postgresql.md5_auth_cidr_addresses", "postgresql.work_mem", "postgresql.max_wal_size",
                "postgresql.wal_sender_timeout", "publish_address", "leaderl.http_address", "fqdn",
                "elasticsearch.java_opts", "elasticsearch.jvm_opts", "elasticsearch.data_dir", "etcd.data_dir",
                "etcd.environment", "postgresql.replication_user")) {
            assertTrue(covered.contains(key), key + " is not in the table");
        }
    }

    @Test
    void aNewlineFromAnEscapeInTheFileIsRefusedAtItsLine() {
        ConfigException e = assertThrows(ConfigException.class, () -> SettingsTest.parse(
                "publish_address '10.0.0.1'\npostgresql.archive_command = \"cp %p /a/%f\\nrm %p\"\n"));
        assertTrue(e.getMessage().startsWith(
                "chef-backend.rb:2:30: postgresql.archive_command: holds the control character \\n;"), e.getMessage());
    }

    @Test
    void aTabIsText() {
        Settings s = SettingsTest.parse("postgresql.archive_command = \"cp\\t%p /a/%f\"\n");
        assertEquals("cp\t%p /a/%f", s.string("postgresql.archive_command"));
    }

    @Test
    void withRefusesThemToo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Settings.defaults(MACHINE).with("publish_address", "10.0.0.1\n"));
        assertTrue(e.getMessage().startsWith("holds the control character \\n"), e.getMessage());
    }
}
