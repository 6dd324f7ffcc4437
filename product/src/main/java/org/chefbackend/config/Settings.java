package org.chefbackend.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The effective settings of one node: every option of {@link SettingsSchema}, from chef-backend.rb where it is set
 * and from the documented default otherwise. Immutable.
 */
public final class Settings {
    private final Map<String, Object> values;
    private final Map<String, SourcePosition> setAt;

    private Settings(Map<String, Object> values, Map<String, SourcePosition> setAt) {
        this.values = Collections.unmodifiableMap(values);
        this.setAt = Collections.unmodifiableMap(setAt);
    }

    public static Settings defaults(MachineFacts machine) {
        return from(List.of(), machine);
    }

    /** Reads and validates a chef-backend.rb file; any problem is a {@link ConfigException} naming file:line:col. */
    public static Settings load(Path file, MachineFacts machine) {
        return from(ChefBackendRbParser.parse(file.toString(), read(file)), machine);
    }

    public static Settings from(List<Assignment> assignments, MachineFacts machine) {
        SettingsSchema schema = SettingsSchema.get();
        Map<String, Object> values = new LinkedHashMap<>();
        for (SettingDefinition def : schema.definitions()) {
            values.put(def.key(), def.defaultFor(machine));
        }
        Map<String, SourcePosition> setAt = new LinkedHashMap<>();
        for (Assignment a : assignments) {
            SettingDefinition def = schema.find(a.key()).orElseThrow(() -> unknown(a, schema));
            try {
                ControlCharacters.reject(a.value()); // first: a type's message would quote the character as is
                values.put(def.key(), def.type().coerce(a.value()));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(a.valuePosition(), a.key() + ": " + e.getMessage());
            }
            setAt.put(def.key(), a.position());
        }
        return new Settings(values, setAt);
    }

    private static ConfigException unknown(Assignment a, SettingsSchema schema) {
        String key = a.key();
        if (schema.isSection(key)) {
            String example = schema.definitions().stream().map(SettingDefinition::key)
                    .filter(k -> k.startsWith(key + ".")).findFirst().orElse(key);
            return new ConfigException(a.position(),
                    "'" + key + "' is a group of settings, not a setting; set its members one by one, e.g. " + example);
        }
        String hint = DidYouMean.closest(key, schema.keys()).map(k -> "; did you mean '" + k + "'?").orElse("");
        return new ConfigException(a.position(), "unknown setting " + Excerpt.quoted(key) + hint);
    }

    private static String read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(new SourcePosition(file.toString(), 1, 1), "file does not exist");
        } catch (IOException e) {
            throw new ConfigException(new SourcePosition(file.toString(), 1, 1), "cannot read file: " + e.getMessage());
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ConfigException(new SourcePosition(file.toString(), 1, 1), "file is not valid UTF-8 text");
        }
    }

    // ---- access ------------------------------------------------------------------------------------------------

    public Object get(String key) {
        String canonical = SettingsSchema.get().find(key)
                .orElseThrow(() -> new IllegalArgumentException("no such setting: " + key)).key();
        return values.get(canonical);
    }

    public String string(String key) {
        return (String) get(key);
    }

    public long integer(String key) {
        return (Long) get(key);
    }

    public int intValue(String key) {
        return Math.toIntExact(integer(key));
    }

    public double number(String key) {
        return (Double) get(key);
    }

    public boolean bool(String key) {
        return (Boolean) get(key);
    }

    @SuppressWarnings("unchecked")
    public List<String> list(String key) {
        return (List<String>) get(key);
    }

    @SuppressWarnings("unchecked")
    public Map<String, String> map(String key) {
        return (Map<String, String>) get(key);
    }

    public Optional<String> optionalString(String key) {
        return Optional.ofNullable(string(key));
    }

    /** Where chef-backend.rb set this option, empty when it has its default. */
    public Optional<SourcePosition> setAt(String key) {
        return Optional.ofNullable(setAt.get(SettingsSchema.get().find(key).orElseThrow().key()));
    }

    /** Flat view: canonical key to value, in schema order. */
    public Map<String, Object> asMap() {
        return values;
    }

    /** Nested view for JSON: {"postgresql": {"port": 5432, "log_rotation": {…}}, …}. */
    public Map<String, Object> asTree() {
        Map<String, Object> root = new LinkedHashMap<>();
        values.forEach((key, value) -> {
            String[] parts = key.split("\\.");
            Map<String, Object> node = root;
            for (int i = 0; i < parts.length - 1; i++) {
                @SuppressWarnings("unchecked")
                Map<String, Object> child = (Map<String, Object>) node.computeIfAbsent(parts[i], k -> new LinkedHashMap<>());
                node = child;
            }
            node.put(parts[parts.length - 1], value);
        });
        return root;
    }

    /** A copy with one option changed, validated like a file would be (e.g. join-cluster's -p). */
    public Settings with(String key, Object literal) {
        SettingDefinition def = SettingsSchema.get().find(key).orElseThrow();
        Map<String, Object> copy = new LinkedHashMap<>(values);
        ControlCharacters.reject(literal);
        copy.put(def.key(), def.type().coerce(literal));
        return new Settings(copy, setAt);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Settings other && values.equals(other.values);
    }

    @Override
    public int hashCode() {
        return Objects.hash(values);
    }
}
