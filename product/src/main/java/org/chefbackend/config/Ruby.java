package org.chefbackend.config;

import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/** Writes canonical setting values back as Ruby literals, and names a literal's kind in error messages. */
public final class Ruby {
    private Ruby() {
    }

    public static String literal(Object value) {
        if (value == null) {
            return "nil";
        }
        if (value instanceof String s) {
            return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
        }
        if (value instanceof Double d) {
            // Ruby needs a digit after the point; Java's repr of whole doubles already has ".0"
            return d.isNaN() || d.isInfinite() ? "nil" : Double.toString(d);
        }
        if (value instanceof List<?> list) {
            StringJoiner j = new StringJoiner(", ", "[", "]");
            list.forEach(item -> j.add(literal(item)));
            return j.toString();
        }
        if (value instanceof Map<?, ?> map) {
            if (map.isEmpty()) {
                return "{}";
            }
            StringJoiner j = new StringJoiner(", ", "{ ", " }");
            map.forEach((k, v) -> j.add(literal(String.valueOf(k)) + " => " + literal(v)));
            return j.toString();
        }
        return String.valueOf(value); // Long, Boolean, RubySymbol
    }

    /** "the string 'x'", "the integer 5", "nil"… */
    public static String describe(Object literal) {
        if (literal == null) {
            return "nil";
        }
        if (literal instanceof String) {
            return "the string " + literal(literal);
        }
        if (literal instanceof Long) {
            return "the integer " + literal;
        }
        if (literal instanceof Double) {
            return "the float " + literal(literal);
        }
        if (literal instanceof Boolean) {
            return String.valueOf(literal);
        }
        if (literal instanceof RubySymbol) {
            return "the symbol " + literal;
        }
        if (literal instanceof List<?>) {
            return "an array";
        }
        if (literal instanceof Map<?, ?>) {
            return "a hash";
        }
        return literal.getClass().getSimpleName();
    }
}
