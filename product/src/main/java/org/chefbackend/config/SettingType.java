package org.chefbackend.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The type of one setting: which literals it accepts, the canonical Java value it turns them into, and how that
 * value is written back as Ruby (so a generated sample parses to the same settings).
 *
 * <p>Canonical values: String, Long, Double, Boolean, {@code List<String>}, {@code Map<String,String>}, or null.
 */
public abstract class SettingType {
    private final String description;

    private SettingType(String description) {
        this.description = description;
    }

    /** What the setting expects, for error messages: "an integer", "true or false"… */
    public String description() {
        return description;
    }

    /** Converts a parsed literal to the canonical value, or throws {@link IllegalArgumentException} saying why not. */
    public abstract Object coerce(Object literal);

    /** The canonical value as a Ruby literal. */
    public String toRuby(Object value) {
        return Ruby.literal(value);
    }

    // ---- factories ---------------------------------------------------------------------------------------------

    public static SettingType string() {
        return new SettingType("a string") {
            @Override
            public Object coerce(Object literal) {
                return requireString(literal, this);
            }
        };
    }

    /** A string matching {@code pattern}; {@code what} names the format in errors. */
    public static SettingType matching(String what, Pattern pattern) {
        return new SettingType(what) {
            @Override
            public Object coerce(Object literal) {
                String s = requireString(literal, this);
                if (!pattern.matcher(s).matches()) {
                    throw new IllegalArgumentException("expected " + what + ", got " + Ruby.shown(s));
                }
                return s;
            }
        };
    }

    /** An absolute file system path (interpreted under the node root). */
    public static SettingType path() {
        return new SettingType("an absolute path") {
            @Override
            public Object coerce(Object literal) {
                String s = requireString(literal, this);
                if (!s.startsWith("/")) {
                    throw new IllegalArgumentException("expected an absolute path, got " + Ruby.shown(s));
                }
                return s;
            }
        };
    }

    public static SettingType oneOf(String... choices) {
        List<String> allowed = List.of(choices);
        return new SettingType("one of " + String.join(", ", allowed)) {
            @Override
            public Object coerce(Object literal) {
                String s = requireString(literal, this);
                if (!allowed.contains(s)) {
                    throw new IllegalArgumentException(
                            "expected one of " + String.join(", ", allowed) + ", got " + Ruby.shown(s));
                }
                return s;
            }
        };
    }

    public static SettingType integer(long min, long max) {
        String range = max == Long.MAX_VALUE ? "an integer >= " + min : "an integer from " + min + " to " + max;
        return new SettingType(range) {
            @Override
            public Object coerce(Object literal) {
                if (!(literal instanceof Long n)) {
                    throw mismatch(this, literal);
                }
                if (n < min || n > max) {
                    throw new IllegalArgumentException("expected " + range + ", got " + n);
                }
                return n;
            }
        };
    }

    public static SettingType port() {
        return integer(1, 65535);
    }

    public static SettingType number(double min, double max) {
        String range = "a number from " + Ruby.literal(min) + " to " + Ruby.literal(max);
        return new SettingType(range) {
            @Override
            public Object coerce(Object literal) {
                double d;
                if (literal instanceof Long n) {
                    d = n;
                } else if (literal instanceof Double x) {
                    d = x;
                } else {
                    throw mismatch(this, literal);
                }
                if (!(d >= min && d <= max)) {
                    throw new IllegalArgumentException("expected " + range + ", got " + Ruby.literal(d));
                }
                return d;
            }
        };
    }

    public static SettingType bool() {
        return new SettingType("true or false") {
            @Override
            public Object coerce(Object literal) {
                if (literal instanceof Boolean b) {
                    return b;
                }
                throw mismatch(this, literal);
            }
        };
    }

    /** A PostgreSQL on/off switch: true/false, 'on'/'off' or :on/:off; canonically "on" or "off". */
    public static SettingType onOff() {
        return new SettingType("'on' or 'off' (or true/false)") {
            @Override
            public Object coerce(Object literal) {
                if (literal instanceof Boolean b) {
                    return b ? "on" : "off";
                }
                Object s = literal instanceof RubySymbol sym ? sym.name() : literal;
                if ("on".equals(s) || "off".equals(s)) {
                    return s;
                }
                throw mismatch(this, literal);
            }
        };
    }

    /**
     * A PostgreSQL parameter that PostgreSQL itself accepts as a number or as a string with a unit ('8MB', '5min').
     * Kept as given; PostgreSQL validates the unit when it loads the file.
     */
    public static SettingType pgQuantity() {
        return new SettingType("an integer or a string with a unit such as '8MB' or '5min'") {
            @Override
            public Object coerce(Object literal) {
                if (literal instanceof Long) {
                    return literal;
                }
                if (literal instanceof String s && PG_QUANTITY.matcher(s).matches()) {
                    return s;
                }
                throw mismatch(this, literal);
            }
        };
    }

    public static SettingType stringList() {
        return new SettingType("an array of strings") {
            @Override
            public Object coerce(Object literal) {
                if (!(literal instanceof List<?> items)) {
                    throw mismatch(this, literal);
                }
                List<String> out = new ArrayList<>();
                for (Object item : items) {
                    Object s = item instanceof RubySymbol sym ? sym.name() : item;
                    if (!(s instanceof String str)) {
                        throw new IllegalArgumentException(
                                "expected an array of strings, but an element is " + Ruby.describe(item));
                    }
                    out.add(str);
                }
                return Collections.unmodifiableList(out);
            }
        };
    }

    /** An array of strings each matching {@code element}; {@code what} names one element's format. */
    public static SettingType stringList(String what, Pattern element) {
        SettingType plain = stringList();
        return new SettingType("an array of " + what) {
            @Override
            public Object coerce(Object literal) {
                if (!(literal instanceof List<?>)) {
                    throw mismatch(this, literal);
                }
                @SuppressWarnings("unchecked")
                List<String> items = (List<String>) plain.coerce(literal);
                for (String item : items) {
                    if (!element.matcher(item).matches()) {
                        throw new IllegalArgumentException("expected an array of " + what + ", but "
                                + Ruby.shown(item) + " is not one");
                    }
                }
                return items;
            }
        };
    }

    /** Environment variables: a hash from names to values; numbers and booleans are written as their text. */
    public static SettingType environment() {
        return new SettingType("a hash of environment variables, e.g. { 'TZ' => 'UTC' }") {
            @Override
            public Object coerce(Object literal) {
                if (!(literal instanceof Map<?, ?> map)) {
                    throw mismatch(this, literal);
                }
                Map<String, String> out = new LinkedHashMap<>();
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    String name = String.valueOf(e.getKey());
                    if (!ENV_NAME.matcher(name).matches()) {
                        throw new IllegalArgumentException("invalid environment variable name " + Ruby.shown(name));
                    }
                    Object v = e.getValue();
                    if (v instanceof String || v instanceof Long || v instanceof Double || v instanceof Boolean) {
                        out.put(name, String.valueOf(v));
                    } else {
                        throw new IllegalArgumentException(
                                "environment variable " + Excerpt.of(name) + " must be a string, got " + Ruby.describe(v));
                    }
                }
                return Collections.unmodifiableMap(out);
            }
        };
    }

    /** The same type, also accepting nil. */
    public static SettingType nullable(SettingType inner) {
        return new SettingType(inner.description() + " or nil") {
            @Override
            public Object coerce(Object literal) {
                return literal == null ? null : inner.coerce(literal);
            }
        };
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private static final Pattern PG_QUANTITY = Pattern.compile("-?[0-9]+(\\.[0-9]+)?\\s*(B|kB|MB|GB|TB|us|ms|s|min|h|d)?");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private static String requireString(Object literal, SettingType type) {
        if (literal instanceof String s) {
            return s;
        }
        if (literal instanceof RubySymbol sym) {
            return sym.name();
        }
        throw mismatch(type, literal);
    }

    private static IllegalArgumentException mismatch(SettingType type, Object literal) {
        return new IllegalArgumentException("expected " + type.description() + ", got " + Ruby.describe(literal));
    }

    @Override
    public String toString() {
        return description;
    }
}
