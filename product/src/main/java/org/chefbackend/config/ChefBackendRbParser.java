package org.chefbackend.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads chef-backend.rb. The original tool evaluated it as Ruby, but only literal settings ever meant anything, so
 * we accept exactly that subset and name every other Ruby construct in the error instead of guessing.
 *
 * <pre>{@code
 * file      = { [statement] (NEWLINE | ';') }
 * statement = path ( '=' value | '(' value ')' | value )
 * path      = name { '.' name | '[' (string | symbol) ']' }
 * value     = string | integer | float | true | false | nil | symbol | array | hash
 * }</pre>
 */
public final class ChefBackendRbParser {
    /** Deeper literals are surely garbage, and recursion must stay far from the stack limit. */
    static final int MAX_DEPTH = 64;

    private static final Map<String, String> KEYWORDS = new HashMap<>();

    static {
        String expressions = "if unless elsif else then case when while until for in and or not"
                + " return yield break next redo retry self super alias undef defined";
        for (String keyword : expressions.split(" ")) KEYWORDS.put(keyword, "expressions");
        for (String keyword : "begin rescue ensure do end".split(" ")) KEYWORDS.put(keyword, "blocks");
        KEYWORDS.put("def", "method definitions");
        KEYWORDS.put("class", "definitions");
        KEYWORDS.put("module", "definitions");
    }

    private final String fileName;
    private final Lexer lexer;
    private Token ahead;
    private int depth;

    private ChefBackendRbParser(String fileName, String text) {
        this.fileName = fileName;
        this.lexer = new Lexer(fileName, text);
    }

    /**
     * Returns the file's settings in order; duplicates are kept for a later layer to resolve.
     *
     * @throws ConfigException on anything that is not a literal setting, positioned at the offending token
     */
    public static List<Assignment> parse(String fileName, String text) {
        return new ChefBackendRbParser(fileName, text).file();
    }

    private List<Assignment> file() {
        List<Assignment> result = new ArrayList<>();
        while (peek().kind != Kind.EOF) {
            if (peek().kind == Kind.NEWLINE) {
                next();
                continue;
            }
            Assignment assignment = statement();
            endOfStatement(assignment.key());
            result.add(assignment);
        }
        return result;
    }

    private Assignment statement() {
        Token first = next();
        List<String> path = new ArrayList<>();
        path.add(firstName(first));
        boolean endsWithBracket = false;
        while (true) {
            Token t = peek();
            if (t.is(".")) {
                next();
                path.add(name(next()));
                endsWithBracket = false;
            } else if (t.is("[") && !t.spaceBefore) { // with a space before, Ruby reads an array argument
                next();
                path.add(bracketKey(next()));
                close(t, "]", "']'");
                endsWithBracket = true;
            } else {
                break;
            }
        }

        String key = String.join(".", path);
        Token t = peek();
        Token valueStart;
        Object value;
        if (t.is("=")) {
            next();
            valueStart = peek();
            value = value("a value after '='");
        } else if (endsWithBracket) { // Ruby has no method-call form for a[...]
            throw error(t, "expected '=' after " + Excerpt.quoted(key) + " but found " + describe(t));
        } else if (t.kind == Kind.NEWLINE || t.kind == Kind.EOF) {
            throw error(first, "expected a value for " + Excerpt.quoted(key));
        } else if (t.is("(")) {
            next();
            skipNewlines();
            valueStart = peek();
            value = value("a value after '('");
            skipNewlines();
            close(t, ")", "')'");
        } else if (t.is("{")) { // Ruby reads `name { ... }` as a block, not a hash
            throw error(t, "unsupported Ruby: blocks are not allowed (for a hash write '" + Excerpt.of(key) + " = { ... }')");
        } else {
            valueStart = peek();
            value = value("a value for " + Excerpt.quoted(key));
        }
        return new Assignment(List.copyOf(path), value, position(first), position(valueStart));
    }

    private String firstName(Token t) {
        if (t.kind == Kind.WORD) {
            if (KEYWORDS.containsKey(t.text)) throw keyword(t);
            if (isLiteralWord(t)) throw error(t, "expected a setting name but found " + describe(t));
            return name(t);
        }
        if (t.kind == Kind.PUNCT) throw error(t, "unexpected " + describe(t));
        throw error(t, "expected a setting name but found " + describe(t));
    }

    private String name(Token t) {
        if (t.kind != Kind.WORD) throw error(t, "expected a name after '.' but found " + describe(t));
        if (isConstant(t)) throw error(t, "unsupported Ruby: constant " + Excerpt.quoted(t.text));
        return t.text;
    }

    private String bracketKey(Token t) {
        if (t.kind == Kind.LITERAL && t.value instanceof String s) return s;
        if (t.kind == Kind.LITERAL && t.value instanceof RubySymbol symbol) return symbol.name();
        throw error(t, "expected a string or symbol key after '[' but found " + describe(t));
    }

    private void endOfStatement(String key) {
        Token t = peek();
        if (t.kind == Kind.NEWLINE || t.kind == Kind.EOF) return;
        if (t.kind == Kind.WORD && KEYWORDS.containsKey(t.text)) throw keyword(t); // `x 1 if y`, `x 1 do`
        if (t.is(".")) throw error(t, "unsupported Ruby: method calls on values are not allowed");
        throw error(t, "expected end of line after the value of " + Excerpt.quoted(key) + " but found " + describe(t));
    }

    /** Parses one literal; {@code expected} completes "expected ... but found X" when there is none. */
    private Object value(String expected) {
        Token t = next();
        if (t.kind == Kind.LITERAL) return t.value;
        if (t.kind == Kind.WORD) return word(t);
        if (t.is("[")) return array(t);
        if (t.is("{")) return hash(t);
        throw error(t, "expected " + expected + " but found " + describe(t));
    }

    private Object word(Token t) {
        return switch (t.text) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            case "nil" -> null;
            default -> throw notLiteral(t);
        };
    }

    private static boolean isConstant(Token t) {
        return Character.isUpperCase(t.text.charAt(0));
    }

    private static boolean isLiteralWord(Token t) {
        return t.text.equals("true") || t.text.equals("false") || t.text.equals("nil");
    }

    /** Names the call or variable the operator wrote, e.g. {@code node.foo(...)}. */
    private ConfigException notLiteral(Token first) {
        if (KEYWORDS.containsKey(first.text)) return keyword(first);
        if (isConstant(first)) return error(first, "unsupported Ruby: constant " + Excerpt.quoted(first.text));
        StringBuilder call = new StringBuilder(first.text);
        try {
            while (peek().is(".")) {
                next();
                if (peek().kind != Kind.WORD) break;
                call.append('.').append(next().text);
            }
            if (peek().is("(")) call.append("(...)");
        } catch (ConfigException ignored) {
            // A lexing error further on would hide the real problem, which is the call itself.
        }
        String name = call.toString();
        if (name.equals(first.text)) {
            return error(first, "unsupported Ruby: variable or method call " + Excerpt.quoted(name) + " (values must be literals)");
        }
        return error(first, "unsupported Ruby: method call " + Excerpt.quoted(name));
    }

    private List<Object> array(Token open) {
        enter(open);
        List<Object> list = new ArrayList<>();
        skipNewlines();
        while (!peek().is("]") && peek().kind != Kind.EOF) {
            list.add(value("a value or ']'"));
            skipNewlines();
            if (!peek().is(",")) break;
            next();
            skipNewlines();
        }
        close(open, "]", "',' or ']'");
        depth--;
        return list;
    }

    private Map<String, Object> hash(Token open) {
        enter(open);
        Map<String, Object> map = new LinkedHashMap<>();
        skipNewlines();
        while (!peek().is("}") && peek().kind != Kind.EOF) {
            Token keyToken = peek();
            String key = hashKey(next());
            if (map.containsKey(key)) throw error(keyToken, "duplicate hash key " + Excerpt.quoted(key));
            skipNewlines();
            map.put(key, value("a value for key " + Excerpt.quoted(key)));
            skipNewlines();
            if (!peek().is(",")) break;
            next();
            skipNewlines();
        }
        close(open, "}", "',' or '}'");
        depth--;
        return map;
    }

    /** Consumes a key with its '=>' or ':'; symbol keys become their names. */
    private String hashKey(Token t) {
        if (t.kind == Kind.LABEL) return (String) t.value; // key: value
        String key;
        if (t.kind == Kind.LITERAL && t.value instanceof String s) {
            key = s;
            Token colon = peek();
            if (colon.is(":") && !colon.spaceBefore) { // "key": value
                next();
                return key;
            }
        } else if (t.kind == Kind.LITERAL && t.value instanceof RubySymbol symbol) {
            key = symbol.name();
        } else {
            throw error(t, "expected a string or symbol hash key but found " + describe(t));
        }
        Token arrow = next();
        if (!arrow.is("=>")) {
            throw error(arrow, "expected '=>' after hash key " + Excerpt.quoted(key) + " but found " + describe(arrow));
        }
        return key;
    }

    private void enter(Token open) {
        if (++depth > MAX_DEPTH) throw error(open, "nesting too deep (more than " + MAX_DEPTH + " levels)");
    }

    private void close(Token open, String closer, String expected) {
        Token t = next();
        if (t.is(closer)) return;
        if (t.kind == Kind.EOF) throw error(open, "unclosed '" + open.text + "'");
        throw error(t, "expected " + expected + " but found " + describe(t));
    }

    /** Inside brackets and parentheses line breaks are just space (but a ';' there is an error). */
    private void skipNewlines() {
        while (peek().kind == Kind.NEWLINE && !peek().text.equals(";")) next();
    }

    private Token peek() {
        if (ahead == null) ahead = lexer.next();
        return ahead;
    }

    private Token next() {
        Token t = peek();
        ahead = null;
        return t;
    }

    private ConfigException keyword(Token t) {
        String kind = KEYWORDS.get(t.text);
        return error(t, "unsupported Ruby: '" + t.text + "' " + kind + " are not allowed in chef-backend.rb");
    }

    private static String describe(Token t) {
        if (t.kind == Kind.EOF) return "end of file";
        if (t.kind == Kind.NEWLINE && !t.text.equals(";")) return "end of line";
        String text = Excerpt.of(t.text, 30);
        return t.kind == Kind.LITERAL && t.value instanceof String ? "string " + text : "'" + text + "'";
    }

    private SourcePosition position(Token t) {
        return new SourcePosition(fileName, t.line, t.column);
    }

    private ConfigException error(Token t, String problem) {
        return new ConfigException(position(t), problem);
    }

    private enum Kind { WORD, LABEL, LITERAL, PUNCT, NEWLINE, EOF }

    /** {@code text} is the source text, {@code value} the decoded literal or label name. */
    private record Token(Kind kind, String text, Object value, int line, int column, boolean spaceBefore) {
        boolean is(String punct) {
            return kind == Kind.PUNCT && text.equals(punct);
        }
    }

    /** Produces tokens on demand so that errors come out in source order. Literals never span lines. */
    private static final class Lexer {
        private static final Pattern NUMBER = Pattern.compile("0[xX](?<hex>[0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)"
                + "|0[bB](?<bin>[01]+(?:_[01]+)*)"
                + "|0[oO_]?(?<oct>[0-7]+(?:_[0-7]+)*)"
                + "|(?<dec>\\d+(?:_\\d+)*)(?<frac>\\.\\d+(?:_\\d+)*)?(?<exp>[eE][+-]?\\d+(?:_\\d+)*)?");

        /** Longest first, so that the message names the whole operator. */
        private static final String[] OPERATORS = {
            "**=", "||=", "&&=", "<<=", ">>=", "<=>", "===", "...",
            "**", "+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=", "||", "&&", "<<", ">>", "<=", ">=",
            "==", "!=", "=~", "!~", "&.", "->", "::", "..",
            "+", "-", "*", "/", "%", "<", ">", "!", "&", "|", "^", "~", "?",
        };

        private static final String HEX_DIGITS = "0123456789abcdef";

        private final String file;
        private final String text;
        private int pos;
        private int line = 1;
        private int lineStart;
        private Token previous;

        Lexer(String file, String text) {
            this.file = file;
            this.text = text;
            if (text.startsWith("\uFEFF")) pos = lineStart = 1; // a BOM, as Windows editors write
        }

        Token next() {
            boolean space = skipBlanks();
            previous = pos >= text.length() ? token(Kind.EOF, pos, space, null) : lex(space);
            return previous;
        }

        private boolean skipBlanks() {
            int start = pos;
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c == ' ' || c == '\t') {
                    pos++;
                } else if (c == '#') {
                    while (pos < text.length() && text.charAt(pos) != '\n') pos++;
                } else {
                    break;
                }
            }
            return pos > start;
        }

        private Token lex(boolean space) {
            int start = pos;
            char c = text.charAt(pos);
            if (c == '\n' || (c == '\r' && charAt(pos + 1) == '\n')) {
                pos += c == '\r' ? 2 : 1;
                Token t = token(Kind.NEWLINE, start, space, null);
                line++;
                lineStart = pos;
                return t;
            }
            if (c == ';') return punct(Kind.NEWLINE, 1, space);
            if (c == '\'' || c == '"') return token(Kind.LITERAL, start, space, string());
            if (c == ':' && charAt(pos + 1) != ':') return colon(space);
            if (isDigit(c) || ((c == '-' || c == '+') && isDigit(charAt(pos + 1)) && signAllowed(space))) {
                return number(space);
            }
            if (isIdentStart(c)) return word(space);
            if (c == '=' && text.startsWith("=>", pos)) return punct(Kind.PUNCT, 2, space);
            if (c == '=' && start == lineStart && text.startsWith("=begin", pos)) {
                throw error(start, "unsupported Ruby: =begin comments are not allowed (use #)");
            }
            if (c == '=' && !text.startsWith("==", pos) && !text.startsWith("=~", pos)) {
                return punct(Kind.PUNCT, 1, space);
            }
            if ("[]{}(),".indexOf(c) >= 0 || (c == '.' && charAt(pos + 1) != '.')) return punct(Kind.PUNCT, 1, space);
            throw unsupported();
        }

        /** A sign starts a number unless it follows an operand (then it's an operator); `name -1` is a call. */
        private boolean signAllowed(boolean space) {
            if (previous == null) return true;
            boolean afterOperand = previous.kind == Kind.WORD || previous.kind == Kind.LITERAL
                    || previous.is("]") || previous.is(")") || previous.is("}");
            return !afterOperand || (previous.kind == Kind.WORD && space);
        }

        private Token punct(Kind kind, int length, boolean space) {
            pos += length;
            return token(kind, pos - length, space, null);
        }

        private Token colon(boolean space) {
            int start = pos++;
            char c = charAt(pos);
            if (!space && previous != null && previous.value instanceof String && previous.kind == Kind.LITERAL) {
                return token(Kind.PUNCT, start, space, null); // "key": value
            }
            if (c == '"' || c == '\'') return token(Kind.LITERAL, start, space, new RubySymbol(string()));
            if (!isIdentStart(c)) return token(Kind.PUNCT, start, space, null);
            while (isIdentPart(charAt(pos))) pos++;
            if ((charAt(pos) == '?' || charAt(pos) == '!') && charAt(pos + 1) != '=') pos++; // :enabled?
            return token(Kind.LITERAL, start, space, new RubySymbol(text.substring(start + 1, pos)));
        }

        private Token word(boolean space) {
            int start = pos;
            while (isIdentPart(charAt(pos))) pos++;
            if (charAt(pos) == ':' && charAt(pos + 1) != ':') { // key: value
                pos++;
                return token(Kind.LABEL, start, space, text.substring(start, pos - 1));
            }
            return token(Kind.WORD, start, space, null);
        }

        private Token number(boolean space) {
            int start = pos;
            boolean negative = text.charAt(pos) == '-';
            if (!isDigit(text.charAt(pos))) pos++;
            Matcher m = NUMBER.matcher(text).region(pos, text.length());
            if (!m.lookingAt() || isIdentPart(charAt(m.end()))) throw error(start, "malformed number");
            pos = m.end();
            if (m.group("frac") != null || m.group("exp") != null) {
                double d = Double.parseDouble(text.substring(start, pos).replace("_", ""));
                if (Double.isInfinite(d)) throw error(start, "float out of range");
                return token(Kind.LITERAL, start, space, d);
            }
            int radix = m.group("hex") != null ? 16 : m.group("bin") != null ? 2 : m.group("oct") != null ? 8 : 10;
            String digits = m.group(radix == 16 ? "hex" : radix == 2 ? "bin" : radix == 8 ? "oct" : "dec");
            if (radix == 10 && digits.length() > 1 && digits.startsWith("0")) { // Ruby reads 0-prefixed as octal
                throw error(start, "malformed number");
            }
            try {
                long value = Long.parseLong((negative ? "-" : "") + digits.replace("_", ""), radix);
                return token(Kind.LITERAL, start, space, value);
            } catch (NumberFormatException e) {
                throw error(start, "integer out of range");
            }
        }

        /** Reads a quoted string at {@code pos}, as Ruby decodes it. */
        private String string() {
            int open = pos;
            char quote = text.charAt(pos++);
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = charAt(pos);
                if (pos >= text.length() || c == '\n' || (c == '\r' && charAt(pos + 1) == '\n')) {
                    throw error(open, "unterminated string");
                }
                if (c == quote) {
                    pos++;
                    return sb.toString();
                }
                if (c == '\\' && quote == '\'') {
                    char e = charAt(pos + 1);
                    boolean escape = e == '\\' || e == '\'';
                    sb.append(escape ? e : c);
                    pos += escape ? 2 : 1;
                } else if (c == '\\') {
                    escape(open, sb);
                } else if (c == '#' && quote == '"' && charAt(pos + 1) == '{') {
                    throw error(pos, "string interpolation #{...} is not supported");
                } else if (c == '#' && quote == '"' && (charAt(pos + 1) == '@' || charAt(pos + 1) == '$')) {
                    throw error(pos, "string interpolation #" + charAt(pos + 1) + "... is not supported");
                } else {
                    sb.append(printable(c, pos));
                    pos++;
                }
            }
        }

        private void escape(int open, StringBuilder sb) {
            int at = pos++;
            char e = charAt(pos);
            if (pos >= text.length() || e == '\n' || (e == '\r' && charAt(pos + 1) == '\n')) {
                throw error(open, "unterminated string"); // Ruby would continue on the next line
            }
            pos++;
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case 's' -> sb.append(' ');
                case 'e' -> sb.append('\u001b');
                case 'a' -> sb.append('\u0007');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'v' -> sb.append('\u000b');
                case 'u' -> unicode(at, sb);
                case 'x' -> sb.append(byteEscape(at, hex(1, 2)));
                case '0', '1', '2', '3', '4', '5', '6', '7' -> {
                    pos--;
                    int value = 0;
                    for (int i = 0; i < 3 && charAt(pos) >= '0' && charAt(pos) <= '7'; i++) {
                        value = value * 8 + (text.charAt(pos++) - '0');
                    }
                    sb.append(byteEscape(at, value));
                }
                case 'c', 'C', 'M' -> throw error(at, "unsupported Ruby: escape '\\" + e + "'");
                default -> sb.append(printable(e, pos - 1)); // Ruby drops the backslash of unknown escapes
            }
        }

        /** Ruby makes raw bytes above 0x7f, which would not be valid UTF-8; refuse rather than guess. */
        private char byteEscape(int at, int value) {
            if (value < 0) throw error(at, "invalid hex escape");
            if (value > 0x7f) throw error(at, "unsupported Ruby: byte escapes above \\x7F (use \\u for characters)");
            return (char) value;
        }

        private void unicode(int at, StringBuilder sb) {
            if (charAt(pos) != '{') {
                sb.appendCodePoint(codePoint(at, hex(4, 4)));
                return;
            }
            pos++;
            for (int count = 0; ; count++) { // Ruby allows several code points in one pair of braces
                while (charAt(pos) == ' ' || charAt(pos) == '\t') pos++;
                if (count > 0 && charAt(pos) == '}') {
                    pos++;
                    return;
                }
                sb.appendCodePoint(codePoint(at, hex(1, 6)));
            }
        }

        private int codePoint(int at, int value) {
            if (value < 0 || value > Character.MAX_CODE_POINT || (value >= 0xd800 && value <= 0xdfff)) {
                throw error(at, "invalid Unicode escape");
            }
            return value;
        }

        /** Reads min to max hex digits, or returns -1. */
        private int hex(int min, int max) {
            int value = 0;
            int count = 0;
            while (count < max && HEX_DIGITS.indexOf(Character.toLowerCase(charAt(pos))) >= 0) {
                value = value * 16 + HEX_DIGITS.indexOf(Character.toLowerCase(text.charAt(pos++)));
                count++;
            }
            return count < min ? -1 : value;
        }

        private char printable(char c, int at) {
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                throw error(at, String.format("control character U+%04X in string", (int) c));
            }
            return c;
        }

        /** Everything left is Ruby we don't take, or not Ruby at all. */
        private ConfigException unsupported() {
            char c = text.charAt(pos);
            char n = charAt(pos + 1);
            if (c == '%' && (Character.isLetter(n) || "[({<|!/^".indexOf(n) >= 0)) {
                return error(pos, "unsupported Ruby: %-literals like %w[] are not allowed");
            }
            char afterShift = charAt(pos + 2);
            if (text.startsWith("<<", pos) && (isIdentStart(afterShift) || "~-'\"".indexOf(afterShift) >= 0)) {
                return error(pos, "unsupported Ruby: heredocs (<<) are not allowed");
            }
            if (c == '@' || c == '$') {
                return error(pos, "unsupported Ruby: instance and global variables are not allowed");
            }
            for (String op : OPERATORS) {
                if (!text.startsWith(op, pos)) continue;
                if (op.startsWith("..")) return error(pos, "unsupported Ruby: ranges ('..') are not allowed");
                return error(pos, "unsupported Ruby: operator '" + op + "'");
            }
            return error(pos, "unexpected character " + describeChar(text.codePointAt(pos)));
        }

        private static String describeChar(int cp) {
            String hex = String.format("U+%04X", cp);
            if (cp > 0x20 && cp < 0x7f) return "'" + (char) cp + "'";
            if (cp > 0x7f && Character.isLetterOrDigit(cp)) return "'" + Character.toString(cp) + "' (" + hex + ")";
            return hex;
        }

        private Token token(Kind kind, int start, boolean space, Object value) {
            return new Token(kind, text.substring(start, pos), value, line, start - lineStart + 1, space);
        }

        private ConfigException error(int at, String problem) {
            return new ConfigException(new SourcePosition(file, line, at - lineStart + 1), problem);
        }

        /** The char at {@code i}, or 0 past the end, so lookahead needs no bounds checks. */
        private char charAt(int i) {
            return i < text.length() ? text.charAt(i) : 0;
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        private static boolean isIdentStart(char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        }

        private static boolean isIdentPart(char c) {
            return isIdentStart(c) || isDigit(c);
        }
    }
}
