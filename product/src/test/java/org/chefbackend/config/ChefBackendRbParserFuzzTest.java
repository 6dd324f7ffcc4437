package org.chefbackend.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Whatever an operator or a broken editor writes, the parser either returns or throws a positioned
 * {@link ConfigException}; nothing else may escape, not even on absurd nesting.
 */
class ChefBackendRbParserFuzzTest {
    private static final String FILE = "chef-backend.rb";
    private static final Pattern MESSAGE = Pattern.compile(Pattern.quote(FILE) + ":\\d+:\\d+: [^\\n]+");

    private static final String VALID = ""
            + "# chef-backend.rb\n"
            + "publish_address '10.0.0.5' # External ip address of this backend box\n"
            + "fqdn(\"be1.example.com\")\n"
            + "postgresql.md5_auth_cidr_addresses = [\"samehost\", \"samenet\", \"192.168.1.0/24\"]\n"
            + "leaderl.health_check.max_bytes_behind_leader = 52428800\r\n"
            + "postgresql['port'] = 5432; postgresql[:log_min_duration_statement] = -1\n"
            + "leaderl['health_check']['interval_seconds'] = 0.5e1\n"
            + "opensearch.heap = { 'min' => :auto, \"max\": 0x4_000, sizes: [1, 2,\n  3,], off: nil }\n"
            + "etcd.tls = true\n"
            + "x = \"tab\\there \\u{1F600} \\x41 \\q\"\n";

    private static final String[] VOCABULARY = {
        "fqdn", "postgresql", "leaderl", "Foo", "if", "end", "do", "nil", "true", "a:", "x",
        ".", "=", "==", "=>", "[", "]", "{", "}", "(", ")", ",", ";", ":", "::", "..", "+", "-", "||=", "%w[", "<<~",
        "'str'", "'open", "\"dq\"", "\"esc\\n\"", "\"#{x}\"", "\"\\u{41}\"", "\"\\u{\"", "\"\\x\"", ":sym", ":\"q\"",
        "0", "5432", "-1", "1_000", "0x1f", "0755", "09", "1.5", "1e3", "1e", "99999999999999999999", "1_",
        "#comment", "\n", "\r\n", "\r", "\t", " ", "\\", "@x", "$y", "`", "\u0000", "\u00a0", "é", "\uD800", "?",
    };

    @Test
    void randomCharacters() {
        Random random = new Random(1);
        String alphabet = "abcXYZ_09 \t\n\r.=[]{}()'\":;,#\\-+<>|%&!?@$`~^/*\u0000\u0007\u007f\u00a0é\uD800\uDE00\uFEFF";
        for (int i = 0; i < 3000; i++) {
            StringBuilder sb = new StringBuilder();
            int length = random.nextInt(40);
            for (int j = 0; j < length; j++) {
                sb.append(random.nextInt(4) == 0
                        ? (char) random.nextInt(0x10000)
                        : alphabet.charAt(random.nextInt(alphabet.length())));
            }
            check(sb.toString());
        }
    }

    @Test
    void tokenSoup() {
        Random random = new Random(2);
        for (int i = 0; i < 3000; i++) {
            StringBuilder sb = new StringBuilder();
            int length = random.nextInt(16);
            for (int j = 0; j < length; j++) {
                sb.append(VOCABULARY[random.nextInt(VOCABULARY.length)]);
                if (random.nextBoolean()) sb.append(' ');
            }
            check(sb.toString());
        }
    }

    @Test
    void mutationsOfAValidFile() {
        assertEquals(10, ChefBackendRbParser.parse(FILE, VALID).size());
        Random random = new Random(3);
        for (int i = 0; i < 4000; i++) {
            StringBuilder sb = new StringBuilder(VALID);
            int mutations = 1 + random.nextInt(3);
            for (int j = 0; j < mutations && sb.length() > 0; j++) {
                int at = random.nextInt(sb.length());
                switch (random.nextInt(3)) {
                    case 0 -> sb.deleteCharAt(at);
                    case 1 -> sb.insert(at, sb.charAt(at));
                    default -> sb.setCharAt(at, VALID.charAt(random.nextInt(VALID.length())));
                }
            }
            check(sb.toString());
        }
    }

    @Test
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

    @Test
    void longInputsStayFast() {
        check("x = [" + "1, ".repeat(100_000) + "]");
        check("a" + ".b".repeat(100_000) + " = 1");
        check("# " + "x".repeat(100_000) + "\n".repeat(100_000));
    }

    private static void check(String text) {
        try {
            ChefBackendRbParser.parse(FILE, text);
        } catch (ConfigException e) {
            String message = e.getMessage();
            assertTrue(MESSAGE.matcher(message).matches(), () -> "bad message " + message + " for " + show(text));
            int lines = text.split("\n", -1).length;
            int line = e.position().line();
            assertTrue(line >= 1 && line <= lines + 1, () -> "line " + line + " of " + lines + " for " + show(text));
            assertTrue(e.position().column() >= 1, () -> "column for " + show(text));
            assertTrue(Character.isLowerCase(e.problem().charAt(0)), () -> "message case for " + show(text));
        } catch (RuntimeException | Error e) {
            fail("unexpected " + e + " for " + show(text), e);
        }
    }

    private static String show(String text) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') sb.append(c);
            else sb.append(String.format("\\u%04x", (int) c));
        }
        return sb.append('"').toString();
    }
}
