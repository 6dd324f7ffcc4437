package org.chefbackend.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Whatever an operator, a broken editor or an attacker puts into chef-backend.rb, loading it (parser, then settings)
 * either gives settings or throws one {@link ConfigException} whose message is a single line naming
 * file:line:column; no other exception escapes, and every input is decided quickly. Each property pins its seed and
 * number of tries, so every build replays the same inputs (16,000 in all, a few seconds).
 */
class ChefBackendRbFuzzTest {
    private static final String FILE = "chef-backend.rb";
    private static final MachineFacts MACHINE = new MachineFacts(8L << 30, "be1.example.com");
    /** One line: no C0 or C1 control character (tab included), no DEL, no Unicode line or paragraph separator. */
    private static final Pattern MESSAGE = Pattern.compile(Pattern.quote(FILE)
            + ":\\d+:\\d+: [^\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029]+");
    /** Messages show at most a short excerpt of what the file says, so even a huge value gives a short line. */
    private static final int MAX_MESSAGE = 400;
    /** Generous: inputs here are at most a few KiB and take microseconds; a slow path is orders of magnitude off. */
    private static final long MAX_NANOS_PER_INPUT = 1_000_000_000L;

    private static final String VALID = ""
            + "# chef-backend.rb\n"
            + "publish_address '10.0.0.5' # External ip address of this backend box\n"
            + "fqdn(\"be1.example.com\")\n"
            + "postgresql.md5_auth_cidr_addresses = [\"samehost\", \"samenet\", \"192.168.1.0/24\"]\n"
            + "leaderl.health_check.max_bytes_behind_leader = 52428800\r\n"
            + "postgresql['port'] = 5432; postgresql[:log_min_duration_statement] = -1\n"
            + "postgresql.checkpoint_completion_target = 0.5e0\n"
            + "elasticsearch.environment = { 'TZ' => 'UTC', \"ES_X\": 0x4_000, LANG: 'C',\n  N: 1.5 }\n"
            + "leaderl.health_check.disk_paths = ['/var/log/chef-backend',\n  '/var/opt/chef-backend',]\n"
            + "etcd.enable true\n"
            + "ssl.company_name = \"tab\\there \\u{1F600} \\x41 \\q\"\n";

    private static final List<String> VOCABULARY = List.of(
            "fqdn", "postgresql", "leaderl", "Foo", "if", "end", "do", "nil", "true", "a:", "x",
            ".", "=", "==", "=>", "[", "]", "{", "}", "(", ")", ",", ";", ":", "::", "..", "+", "-", "||=", "%w[", "<<~",
            "'str'", "'open", "\"dq\"", "\"esc\\n\"", "\"#{x}\"", "\"\\u{41}\"", "\"\\u{\"", "\"\\x\"", ":sym", ":\"q\"",
            "\"\\n\"", "'\\n'", "\"\\e[2J\"", "\"\\u2028\"", "\"\\u{85}\"", "\"\\r\"", "\"\\0\"", "\"\\x7f\"",
            "0", "5432", "-1", "1_000", "0x1f", "0755", "09", "1.5", "1e3", "1e", "99999999999999999999", "1_",
            "1e400", "-0.0", "0b101", "0o17",
            "#comment", "\n", "\r\n", "\r", "\t", " ", "\\", "@x", "$y", "`", "\u0000", "\u00a0", "é", "\uD800", "?",
            "\u0085", "\u2028", "\u001b", "\uFEFF");

    /** Pieces of string literals' contents: plain text, escapes (control characters among them) and raw oddities. */
    private static final List<String> STRING_PIECES = List.of(
            "a", "x1", " ", "-", ".", "/", "/var/opt", "127.0.0.1", "10.0.0.0/8", "samehost", "MB", "5min", "on", "é",
            "\\n", "\\r", "\\t", "\\e", "\\a", "\\0", "\\x1b", "\\x7f", "\\x85", "\\u0085", "\\u2028", "\\u{2029}",
            "\\u{1F600}", "\\u{D800}", "\\u{110000}", "\\'", "\\\"", "\\\\", "\\q", "#{x}", "#@x", "\t", "\u00a0",
            "\u2028", "\u0085", "\u009b", "\u0007", "😀");

    private static Path dir;

    @BeforeContainer
    static void makeDirectory() throws IOException {
        dir = Files.createTempDirectory("rb-fuzz");
    }

    @AfterContainer
    static void removeDirectory() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }

    // ---- properties -------------------------------------------------------------------------------------------

    /** Random bytes as the file: invalid UTF-8 included, read as the CLI and the agent read it. */
    @Property(tries = 1000, seed = "20261206")
    void randomBytes(@ForAll("bytes") byte[] content) throws IOException {
        Path file = dir.resolve(FILE);
        Files.write(file, content);
        long t0 = System.nanoTime();
        try {
            Settings.load(file, MACHINE);
        } catch (ConfigException e) {
            assertOneLine(e, file.toString(), content.length == 0 ? "" : new String(content, StandardCharsets.UTF_8));
        } catch (RuntimeException | Error e) {
            fail("unexpected " + e + " for the bytes " + Arrays.toString(content), e);
        }
        assertQuick(t0, "bytes of length " + content.length);
    }

    @Property(tries = 3000, seed = "1")
    void randomCharacters(@ForAll("characters") String text) {
        check(text);
    }

    @Property(tries = 3000, seed = "2")
    void tokenSoup(@ForAll("tokens") String text) {
        check(text);
    }

    /** Real setting names with literals of every kind: what exercises the settings layer's coercion and messages. */
    @Property(tries = 3000, seed = "3")
    void settingLines(@ForAll("settingFiles") String text) {
        check(text);
    }

    @Property(tries = 4000, seed = "4")
    void mutationsOfAValidFile(@ForAll("mutations") String text) {
        check(text);
    }

    /** A control or line-separator character inside strings, keys, comments and values of a valid line. */
    @Property(tries = 2000, seed = "5")
    void controlCharacters(@ForAll("controlLines") String text) {
        check(text);
    }

    // ---- examples -----------------------------------------------------------------------------------------------

    @Example
    void theValidFileLoads() {
        assertEquals(11, ChefBackendRbParser.parse(FILE, VALID).size());
        Settings s = Settings.from(ChefBackendRbParser.parse(FILE, VALID), MACHINE);
        assertEquals("tab\there \uD83D\uDE00 A q", s.string("ssl.company_name"));
    }

    @Example
    void hugeNumbers() {
        for (String n : List.of("99999999999999999999", "-99999999999999999999", "0x" + "f".repeat(40), "1e400",
                "-1e400", "1e-400", "1" + "0".repeat(5000), "9223372036854775807", "-9223372036854775808",
                "9223372036854775808", "1_" + "0".repeat(30), "0b" + "1".repeat(100), "0." + "1".repeat(5000))) {
            check("postgresql.port = " + n);
            check("elasticsearch.heap_size " + n);
            check("postgresql.checkpoint_completion_target = " + n);
            check("x = [" + n + "]");
        }
    }

    @Example
    void unterminatedStrings() {
        for (String s : List.of("'", "\"", "'abc", "\"abc", "\"abc\\", "'abc\\'", "\"\\u{41", "\"\\u{41 42",
                "\"#{", ":\"", "['a', 'b", "{'a' => 'b", "fqdn('x'")) {
            check("fqdn " + s);
            check("fqdn " + s + "\nfqdn 'b'");
            check("x = " + s + "\r\n");
        }
    }

    @Example
    void deepNestingIsAnErrorNotAStackOverflow() {
        for (String text : new String[] {
            "[".repeat(10_000),
            "x = " + "[".repeat(10_000),
            "x = " + "[".repeat(10_000) + "]".repeat(10_000),
            "x = " + "{a: ".repeat(10_000),
            "x = " + "[{'a' => ".repeat(5_000),
            "fqdn(" + "(".repeat(10_000),
        }) {
            check(text);
            assertThrows(ConfigException.class, () -> ChefBackendRbParser.parse(FILE, text));
        }
        ConfigException e = assertThrows(ConfigException.class,
                () -> ChefBackendRbParser.parse(FILE, "x = " + "[".repeat(10_000)));
        assertEquals(FILE + ":1:69: nesting too deep (more than 64 levels)", e.getMessage());
    }

    @Example
    void longInputsStayFast() {
        checkWithin(5, "x = [" + "1, ".repeat(100_000) + "]");
        checkWithin(5, "a" + ".b".repeat(100_000) + " = 1");
        checkWithin(5, "a" + "b".repeat(1_000_000) + " = 1");
        checkWithin(5, "# " + "x".repeat(100_000) + "\n".repeat(100_000));
        checkWithin(5, "fqdn '" + "a".repeat(1_000_000) + "'");
        checkWithin(5, "postgresql.md5_auth_cidr_addresses = [" + "'samehost', ".repeat(50_000) + "'a b']");
    }

    // ---- what the properties found (each failed before its fix) -----------------------------------------------

    /**
     * A decoded escape ("\\n") in a value came out raw in the type error: a message of two lines. Control characters
     * are now refused before any type check, and named escaped.
     */
    @Example
    void aValueWithALineBreakIsQuotedOnOneLine() {
        assertMessage("fqdn \"be1\\nexample.com\"",
                "1:6: fqdn: holds the control character \\n; PostgreSQL, OpenSearch and etcd take each setting as one "
                        + "line of text, so no newline, NUL or other control character");
        assertMessage("postgresql.md5_auth_cidr_addresses = ['samehost', \"a\\u2028b\"]",
                "1:38: postgresql.md5_auth_cidr_addresses: expected an array of pg_hba.conf addresses (samehost, samenet, "
                        + "all, a host name or a CIDR), but \"a\\u{2028}b\" is not one");
        assertMessage("elasticsearch.environment = { \"A\\e[2J\" => 'b' }",
                "1:29: elasticsearch.environment: holds the control character \\e; PostgreSQL, OpenSearch and etcd take "
                        + "each setting as one line of text, so no newline, NUL or other control character");
    }

    /** Decoded key segments and hash keys came out raw in the parser's and the settings' messages. */
    @Example
    void aKeyWithALineBreakIsQuotedOnOneLine() {
        assertMessage("postgresql[\"po\\nrt\"] = 1", "1:1: unknown setting 'postgresql.po\\nrt'; did you mean 'postgresql.port'?");
        assertMessage("x = { \"a\\fb\\nc\" 1 }", "1:17: expected '=>' after hash key 'a\\u{C}b\\nc' but found '1'");
        assertMessage("x = { 'k' => 1, \"k\\r\" => 2, \"k\\r\" => 3 }", "1:29: duplicate hash key 'k\\r'");
        assertMessage("'aa\t'", "1:1: expected a setting name but found string 'aa\\t'");
    }

    /** A 200,000-character key was quoted whole, after 4 s of edit distances to every known key. */
    @Example
    void aHugeUnknownKeyIsQuickAndQuotedShort() {
        long t0 = System.nanoTime();
        assertMessage("a" + ".b".repeat(100_000) + " = 1",
                "1:1: unknown setting '" + "a" + ".b".repeat(28) + "...'");
        assertTrue(System.nanoTime() - t0 < 500_000_000L, "took " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }

    /** Values with such characters are written back as Ruby that reads as the same value (and on one line). */
    @Example
    void literalsOfAnyTextReadBackAsTheSameValue() {
        for (String value : List.of("plain", "it's", "back\\slash", "a\nb", "tab\there", "\u001b[2J", "#{x}", "#@x",
                "quote\"and\\\n", "\u0085\u2028\u2029\uFEFF", "é😀")) {
            String literal = Ruby.literal(value);
            assertTrue(literal.lines().count() == 1, literal);
            assertEquals(value, ChefBackendRbParser.parse(FILE, "x = " + literal).get(0).value(), literal);
        }
        assertEquals(":'a b'", Ruby.literal(new RubySymbol("a b")));
        assertEquals(":on", Ruby.literal(new RubySymbol("on")));
    }

    private static void assertMessage(String text, String expected) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> Settings.from(ChefBackendRbParser.parse(FILE, text), MACHINE));
        assertEquals(FILE + ":" + expected, e.getMessage());
    }

    // ---- what is checked ----------------------------------------------------------------------------------------

    private static void check(String text) {
        checkWithin(1, text);
    }

    /** Parses and loads {@code text} as chef-backend.rb within {@code seconds}. */
    private static void checkWithin(int seconds, String text) {
        long t0 = System.nanoTime();
        try {
            Settings.from(ChefBackendRbParser.parse(FILE, text), MACHINE);
        } catch (ConfigException e) {
            assertOneLine(e, FILE, text);
        } catch (RuntimeException | Error e) {
            fail("unexpected " + e + " for " + show(text), e);
        }
        long nanos = System.nanoTime() - t0;
        assertTrue(nanos < seconds * MAX_NANOS_PER_INPUT,
                () -> "took " + nanos / 1_000_000 + " ms for " + show(text));
    }

    private static void assertQuick(long t0, String what) {
        long nanos = System.nanoTime() - t0;
        assertTrue(nanos < MAX_NANOS_PER_INPUT, () -> "took " + nanos / 1_000_000 + " ms for " + what);
    }

    private static void assertOneLine(ConfigException e, String file, String text) {
        String message = e.getMessage();
        String expected = message.startsWith(file + ":") ? FILE + message.substring(file.length()) : message;
        assertTrue(MESSAGE.matcher(expected).matches(), () -> "not one line: " + show(message) + " for " + show(text));
        assertTrue(message.length() <= file.length() + MAX_MESSAGE,
                () -> "message of " + message.length() + " characters for " + show(text));
        int lines = text.split("\n", -1).length;
        int line = e.position().line();
        assertTrue(line >= 1 && line <= lines + 1, () -> "line " + line + " of " + lines + " for " + show(text));
        assertTrue(e.position().column() >= 1, () -> "column for " + show(text));
        // as the rest of the line after "file:line:col: ": lower case, or a quoted name
        assertTrue(!Character.isUpperCase(e.problem().charAt(0)), () -> "message case for " + show(text));
    }

    /** The text in Java notation, its first 300 characters. */
    private static String show(String text) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : text.substring(0, Math.min(300, text.length())).toCharArray()) {
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                sb.append(c);
            } else {
                sb.append(String.format("\\u%04x", (int) c));
            }
        }
        return sb.append(text.length() > 300 ? "\"... (" + text.length() + " characters)" : "\"").toString();
    }

    // ---- generators ---------------------------------------------------------------------------------------------

    @Provide
    Arbitrary<byte[]> bytes() {
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(200);
        Arbitrary<byte[]> mutatedUtf8 = mutations().map(s -> s.getBytes(StandardCharsets.UTF_8))
                .flatMap(b -> Arbitraries.integers().between(0, b.length).map(cut -> {
                    byte[] copy = b.clone();
                    if (cut < copy.length) {
                        copy[cut] = (byte) (copy[cut] | 0x80); // a stray continuation or lead byte
                    }
                    return copy;
                }));
        return Arbitraries.oneOf(random, mutatedUtf8);
    }

    @Provide
    Arbitrary<String> characters() {
        String alphabet = "abcXYZ_09 \t\n\r.=[]{}()'\":;,#\\-+<>|%&!?@$`~^/*\u0000\u0007\u007f\u0085\u00a0é\u2028"
                + "\uD800\uDE00\uFEFF";
        Arbitrary<Character> common = Arbitraries.of(alphabet.chars().mapToObj(c -> (char) c).toList());
        Arbitrary<Character> any = Arbitraries.chars();
        return Arbitraries.frequencyOf(
                        Tuple.of(3, common), Tuple.of(1, any))
                .list().ofMaxSize(40)
                .map(cs -> cs.stream().map(String::valueOf).collect(Collectors.joining()));
    }

    @Provide
    Arbitrary<String> tokens() {
        List<String> words = new ArrayList<>(VOCABULARY);
        words.addAll(SettingsSchema.get().keys());
        Arbitrary<String> spaced = Combinators.combine(Arbitraries.of(words), Arbitraries.of("", " "))
                .as(String::concat);
        return spaced.list().ofMaxSize(16).map(l -> String.join("", l));
    }

    @Provide
    Arbitrary<String> settingFiles() {
        return settingLine().list().ofMinSize(1).ofMaxSize(4)
                .flatMap(lines -> Arbitraries.of("\n", "\r\n", "; ").map(sep -> String.join(sep, lines)));
    }

    private static Arbitrary<String> settingLine() {
        List<String> keys = new ArrayList<>(SettingsSchema.get().keys());
        keys.addAll(List.of("postgresql", "leaderl.health_check", "postgresq.port", "leaderl.health_check.intervl",
                "elasticsearch.enviroment"));
        Arbitrary<String> key = Arbitraries.oneOf(Arbitraries.of(keys), Arbitraries.of(keys).map(ChefBackendRbFuzzTest::bracketed));
        return Combinators.combine(key, Arbitraries.of(" = ", " ", "(", "=", " =\n  "), literal())
                .as((k, form, v) -> k + form + v + (form.equals("(") ? ")" : ""));
    }

    /** {@code a.b.c} as {@code a['b'][:c]}: the spelling whose key segments are decoded strings. */
    private static String bracketed(String key) {
        String[] parts = key.split("\\.");
        StringBuilder sb = new StringBuilder(parts[0]);
        for (int i = 1; i < parts.length; i++) {
            sb.append(i % 2 == 1 ? "['" + parts[i] + "']" : "[:" + parts[i] + "]");
        }
        return sb.toString();
    }

    private static Arbitrary<String> literal() {
        return Arbitraries.recursive(ChefBackendRbFuzzTest::scalar,
                inner -> Arbitraries.oneOf(
                        inner.list().ofMaxSize(3).map(l -> "[" + String.join(", ", l) + "]"),
                        Combinators.combine(stringLiteral(), inner).as((k, v) -> k + " => " + v)
                                .list().ofMaxSize(3).map(l -> "{ " + String.join(", ", l) + " }")),
                0, 3);
    }

    private static Arbitrary<String> scalar() {
        return Arbitraries.oneOf(
                stringLiteral(),
                Arbitraries.longs().map(String::valueOf),
                Arbitraries.bigIntegers().between(BigInteger.TEN.pow(30).negate(),
                        BigInteger.TEN.pow(30)).map(String::valueOf),
                Arbitraries.doubles().map(String::valueOf),
                Arbitraries.of("nil", "true", "false", ":on", ":off", ":auto", ":\"a b\"", "0x1F", "0b11", "0o17",
                        "1_000", "1e400", "-0.0", "1.5e-3", "65536", "0", "-1", "'8MB'", "'on'", "'samehost'",
                        "'/var/opt/x'", "'10.0.0.5'", "'be1.example.com'", "'ipv6'", "x", "Foo", "node.name"));
    }

    private static Arbitrary<String> stringLiteral() {
        Arbitrary<String> content = Arbitraries.of(STRING_PIECES).list().ofMaxSize(6).map(l -> String.join("", l));
        return Combinators.combine(Arbitraries.of("'", "\""), content, Arbitraries.of(true, true, true, false))
                .as((q, c, closed) -> q + c + (closed ? q : ""));
    }

    @Provide
    Arbitrary<String> mutations() {
        Arbitrary<int[]> edit = Combinators.combine(Arbitraries.integers().between(0, 2),
                        Arbitraries.integers().between(0, VALID.length() - 1),
                        Arbitraries.integers().between(0, VALID.length() - 1))
                .as((op, at, from) -> new int[] {op, at, from});
        return edit.list().ofMinSize(1).ofMaxSize(3).map(edits -> {
            StringBuilder sb = new StringBuilder(VALID);
            for (int[] e : edits) {
                if (sb.length() == 0) {
                    break;
                }
                int at = e[1] % sb.length();
                switch (e[0]) {
                    case 0 -> sb.deleteCharAt(at);
                    case 1 -> sb.insert(at, sb.charAt(at));
                    default -> sb.setCharAt(at, VALID.charAt(e[2]));
                }
            }
            return sb.toString();
        });
    }

    @Provide
    Arbitrary<String> controlLines() {
        Arbitrary<Character> odd = Arbitraries.oneOf(Arbitraries.chars().range('\u0000', '\u001f'),
                Arbitraries.of('\u007f', '\u0085', '\u009b', '\u2028', '\u2029', '\uFEFF', '\uD800', '\u00a0'));
        Arbitrary<String> escaped = Arbitraries.integers().between(0, 0x9f)
                .map(c -> String.format("\\u{%X}", c));
        Arbitrary<String> inserted = Arbitraries.oneOf(odd.map(String::valueOf), escaped);
        List<String> templates = List.of(
                "fqdn 'be1%sexample.com'", "fqdn \"be1%sexample.com\"", "postgresql['po%srt'] = 1",
                "postgresql[\"po%srt\"] = 1", "leaderl.%shttp_port = 1", "x = { \"k%s\" => 1 }", "x = { \"k%s\": 1 }",
                "elasticsearch.environment = { \"A%s\" => 'b' }", "elasticsearch.environment = { 'A' => \"b%s\" }",
                "postgresql.md5_auth_cidr_addresses = ['samehost', \"a%sb\"]", "# comment %s here\nfqdn 'a'",
                "ssl.country_name = \"U%sS\"", "postgresql.data_dir = \"/var%s/x\"", "ip_version \"ipv%s4\"",
                "postgresql.work_mem = \"8%sMB\"", "postgresql.hot_standby = :\"o%sn\"", "unknown_%s = 1",
                "x = { 'k' => 1, 'k%s' => 2, 'k' => 3 }", "postgresql.port = 54%s32");
        return Combinators.combine(Arbitraries.of(templates), inserted).as((t, s) -> String.format(t, s));
    }
}
