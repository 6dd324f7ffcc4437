package org.chefbackend.config;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Control characters in setting values. Every string setting ends up in postgresql.conf, pg_hba.conf, opensearch.yml,
 * jvm.options, an etcd flag or a service's environment, which take a value on one line (PostgreSQL refuses a quoted
 * value with a newline and then does not start) and none of which can hold a NUL. Tabs pass, as in the file itself.
 */
final class ControlCharacters {
    private ControlCharacters() {
    }

    /** Refuses a setting's literal (a string or symbol, an array or hash of them) holding a control character. */
    static void reject(Object value) {
        first(value).ifPresent(c -> {
            throw new IllegalArgumentException("holds the control character " + c + "; PostgreSQL, OpenSearch and"
                    + " etcd take each setting as one line of text, so no newline, NUL or other control character");
        });
    }

    /** The first control character in the literal, spelled as a Ruby escape ("\n", "\0"), or empty. */
    static Optional<String> first(Object value) {
        if (value instanceof RubySymbol symbol) {
            return first(symbol.name());
        }
        if (value instanceof String s) {
            return s.chars().filter(ControlCharacters::isControl).mapToObj(ControlCharacters::escape).findFirst();
        }
        if (value instanceof List<?> items) {
            return items.stream().map(ControlCharacters::first).flatMap(Optional::stream).findFirst();
        }
        if (value instanceof Map<?, ?> map) {
            return map.entrySet().stream().flatMap(e -> first(e.getKey()).or(() -> first(e.getValue())).stream())
                    .findFirst();
        }
        return Optional.empty();
    }

    private static boolean isControl(int c) {
        return (c < 0x20 && c != '\t') || c == 0x7f;
    }

    private static String escape(int c) {
        return switch (c) {
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case 0 -> "\\0";
            case 0x1b -> "\\e";
            case 0x07 -> "\\a";
            case '\b' -> "\\b";
            case '\f' -> "\\f";
            case 0x0b -> "\\v";
            default -> String.format("\\x%02X", c);
        };
    }
}
