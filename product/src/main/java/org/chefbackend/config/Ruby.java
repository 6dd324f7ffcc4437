package org.chefbackend.config;

import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.regex.Pattern;

/** Writes canonical setting values back as Ruby literals, and names a literal's kind in error messages. */
public final class Ruby {
    /** A symbol written bare, {@code :name}; any other needs quotes, {@code :'a b'}. */
    private static final Pattern SYMBOL_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*[?!]?");

    private Ruby() {
    }

    public static String literal(Object value) {
        if (value == null) {
            return "nil";
        }
        if (value instanceof String s) {
            return string(s);
        }
        if (value instanceof RubySymbol symbol) {
            return ":" + (SYMBOL_NAME.matcher(symbol.name()).matches() ? symbol.name() : string(symbol.name()));
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
        return String.valueOf(value); // Long, Boolean
    }

    /** A value as an error message quotes it: its literal, cut to {@link Excerpt#MAX} characters. */
    public static String shown(Object value) {
        return Excerpt.of(literal(value));
    }

    /** Single-quoted as written by hand; double-quoted with escapes when the text has characters that need them. */
    private static String string(String s) {
        if (s.codePoints().noneMatch(Ruby::needsEscape)) {
            return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
        }
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == '\\' || cp == '"') {
                sb.append('\\').appendCodePoint(cp);
            } else if (cp == '#' && i < s.length() && "{@$".indexOf(s.charAt(i)) >= 0) {
                sb.append("\\#"); // not an interpolation
            } else {
                sb.append(escape(cp));
            }
        }
        return sb.append('"').toString();
    }

    /**
     * Characters that would break a line or hide in it: C0 and C1 controls (tab included), DEL, the Unicode line and
     * paragraph separators, the byte-order mark and unpaired surrogates.
     */
    static boolean needsEscape(int cp) {
        return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff
                || (cp >= 0xd800 && cp <= 0xdfff);
    }

    /** The character as written inside a double-quoted Ruby string, escaped when {@link #needsEscape} says so. */
    static String escape(int cp) {
        if (!needsEscape(cp)) {
            return Character.toString(cp);
        }
        return switch (cp) {
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            case 0x1b -> "\\e";
            default -> String.format("\\u{%X}", cp);
        };
    }

    /** "the string 'x'", "the integer 5", "nil"… */
    public static String describe(Object literal) {
        if (literal == null) {
            return "nil";
        }
        if (literal instanceof String) {
            return "the string " + shown(literal);
        }
        if (literal instanceof Long) {
            return "the integer " + literal;
        }
        if (literal instanceof Double) {
            return "the float " + shown(literal);
        }
        if (literal instanceof Boolean) {
            return String.valueOf(literal);
        }
        if (literal instanceof RubySymbol) {
            return "the symbol " + shown(literal);
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
