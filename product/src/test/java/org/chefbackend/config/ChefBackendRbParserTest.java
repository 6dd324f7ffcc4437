package org.chefbackend.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ChefBackendRbParserTest {
    private static final String FILE = "chef-backend.rb";

    @Test
    void realisticFile() {
        String text = ""
                + "# chef-backend.rb written by the installer\n"
                + "\n"
                + "publish_address '10.0.0.5' # External ip address of this backend box\n"
                + "postgresql.md5_auth_cidr_addresses = [\"samehost\", \"samenet\", \"192.168.1.0/24\"]\n"
                + "leaderl.health_check.max_bytes_behind_leader = 52428800\n";
        List<Assignment> assignments = parse(text);
        assertEquals(3, assignments.size());
        assertAssignment(assignments.get(0), List.of("publish_address"), "10.0.0.5", 3, 1, 3, 17);
        assertAssignment(assignments.get(1), List.of("postgresql", "md5_auth_cidr_addresses"),
                List.of("samehost", "samenet", "192.168.1.0/24"), 4, 1, 4, 38);
        assertAssignment(assignments.get(2), List.of("leaderl", "health_check", "max_bytes_behind_leader"),
                52428800L, 5, 1, 5, 48);
        assertEquals("leaderl.health_check.max_bytes_behind_leader", assignments.get(2).key());
    }

    @Test
    void emptyAndCommentOnlyFiles() {
        assertEquals(List.of(), parse(""));
        assertEquals(List.of(), parse("\n\n  \t\n"));
        assertEquals(List.of(), parse("# only a comment"));
        assertEquals(List.of(), parse("# a\r\n  # b\r\n"));
        assertEquals(List.of(), parse(";;\n;"));
    }

    @Test
    void methodCallForm() {
        assertSingle("publish_address '10.0.0.5'", List.of("publish_address"), "10.0.0.5");
        assertSingle("fqdn \"be1\"", List.of("fqdn"), "be1");
        assertSingle("leaderl.health_check.interval_seconds 5",
                List.of("leaderl", "health_check", "interval_seconds"), 5L);
        assertSingle("fqdn(\"be1\")", List.of("fqdn"), "be1");
        assertSingle("fqdn (\"be1\")", List.of("fqdn"), "be1");
        assertSingle("fqdn(\n  \"be1\"\n)", List.of("fqdn"), "be1");
        assertSingle("leaderl.health_check.interval_seconds(5)",
                List.of("leaderl", "health_check", "interval_seconds"), 5L);
        assertSingle("fqdn -1", List.of("fqdn"), -1L);
        assertSingle("fqdn ['a']", List.of("fqdn"), List.of("a"));
        assertSingle("fqdn :sym", List.of("fqdn"), new RubySymbol("sym"));
    }

    @Test
    void dottedAssignment() {
        assertSingle("postgresql.md5_auth_cidr_addresses = [\"samehost\", \"samenet\", \"192.168.1.0/24\"]",
                List.of("postgresql", "md5_auth_cidr_addresses"), List.of("samehost", "samenet", "192.168.1.0/24"));
        assertSingle("leaderl.health_check.max_bytes_behind_leader = 52428800",
                List.of("leaderl", "health_check", "max_bytes_behind_leader"), 52428800L);
        assertSingle("a . b.c=1", List.of("a", "b", "c"), 1L);
        assertSingle("fqdn = \"be1\"", List.of("fqdn"), "be1");
        assertSingle("_private2.x_Y9 = 1", List.of("_private2", "x_Y9"), 1L);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "postgresql['port'] = 5432",
        "postgresql[\"port\"] = 5432",
        "postgresql[:port] = 5432",
        "postgresql[:\"port\"] = 5432",
        "postgresql.port = 5432",
        "postgresql.port 5432",
        "postgresql.port(5432)",
    })
    void bracketAndDotFormsAgree(String text) {
        assertSingle(text, List.of("postgresql", "port"), 5432L);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "leaderl['health_check']['interval_seconds'] = 5",
        "leaderl.health_check['interval_seconds'] = 5",
        "leaderl[:health_check].interval_seconds = 5",
        "leaderl[:health_check].interval_seconds 5",
        "leaderl['health_check'][:interval_seconds]=5",
    })
    void mixedPaths(String text) {
        assertSingle(text, List.of("leaderl", "health_check", "interval_seconds"), 5L);
    }

    @Test
    void positions() {
        List<Assignment> assignments = parse("  a.b = 1\n\tc['d'] =  [2]\ne(\n  'x')\n");
        assertAssignment(assignments.get(0), List.of("a", "b"), 1L, 1, 3, 1, 9);
        assertAssignment(assignments.get(1), List.of("c", "d"), List.of(2L), 2, 2, 2, 12);
        assertAssignment(assignments.get(2), List.of("e"), "x", 3, 1, 4, 3);
    }

    @Test
    void statementSeparators() {
        List<Assignment> assignments = parse("a 1; b = 2 ;c(3)\r\nd 4\r\n");
        assertEquals(List.of("a", "b", "c", "d"), assignments.stream().map(Assignment::key).toList());
        assertEquals(List.of(1L, 2L, 3L, 4L), assignments.stream().map(Assignment::value).toList());
        assertEquals(2, assignments.get(3).position().line());
    }

    @Test
    void duplicatesAreKeptInOrder() {
        List<Assignment> assignments = parse("fqdn 'a'\nfqdn 'b'\nfqdn = 'c'");
        assertEquals(List.of("a", "b", "c"), assignments.stream().map(Assignment::value).toList());
    }

    @Test
    void singleQuotedStrings() {
        assertEquals("it's", value("x = 'it\\'s'"));
        assertEquals("a\\b", value("x = 'a\\\\b'"));
        assertEquals("a\\nb", value("x = 'a\\nb'"));
        assertEquals("#{x}", value("x = '#{x}'"));
        assertEquals("\"", value("x = '\"'"));
        assertEquals("", value("x = ''"));
        assertEquals("tab\there", value("x = 'tab\there'"));
        assertEquals("é ☃ \uD83D\uDE00", value("x = 'é ☃ \uD83D\uDE00'"));
    }

    @Test
    void doubleQuotedEscapes() {
        assertEquals("\n\t\r\\\"\0 \u001b\u0007\b\f\u000b", value("x = \"\\n\\t\\r\\\\\\\"\\0\\s\\e\\a\\b\\f\\v\""));
        assertEquals("é", value("x = \"\\u00e9\""));
        assertEquals("AB\uD83D\uDE00", value("x = \"\\u{41 42}\\u{ 1F600 }\""));
        assertEquals("A", value("x = \"\\x41\""));
        assertEquals("\u0007", value("x = \"\\x7\""));
        assertEquals("\n", value("x = \"\\012\""));
        assertEquals("\0" + "8", value("x = \"\\08\""));
        assertEquals("q", value("x = \"\\q\""));
        assertEquals("#{x}", value("x = \"\\#{x}\""));
        assertEquals("#", value("x = \"#\""));
        assertEquals("a # b", value("x = \"a # b\" # comment"));
        assertEquals("'", value("x = \"'\""));
    }

    @Test
    void integers() {
        assertEquals(5432L, value("x = 5432"));
        assertEquals(0L, value("x = 0"));
        assertEquals(1_000_000L, value("x = 1_000_000"));
        assertEquals(-5L, value("x = -5"));
        assertEquals(5L, value("x = +5"));
        assertEquals(255L, value("x = 0xff"));
        assertEquals(-16L, value("x = -0x1_0"));
        assertEquals(5L, value("x = 0b101"));
        assertEquals(493L, value("x = 0755"));
        assertEquals(8L, value("x = 0o10"));
        assertEquals(Long.MAX_VALUE, value("x = 9223372036854775807"));
        assertEquals(Long.MIN_VALUE, value("x = -9223372036854775808"));
        assertEquals(List.of(-1L, 2L), value("x = [-1, +2]"));
    }

    @Test
    void floats() {
        assertEquals(0.5, value("x = 0.5"));
        assertEquals(1000.0, value("x = 1e3"));
        assertEquals(-2.5, value("x = -2.5"));
        assertEquals(1.5e-3, value("x = 1.5E-3"));
        assertEquals(1000.25, value("x = 1_000.25"));
    }

    @Test
    void wordsAndSymbols() {
        assertEquals(true, value("x = true"));
        assertEquals(false, value("x = false"));
        assertNull(value("x = nil"));
        assertEquals(new RubySymbol("sql"), value("x = :sql"));
        assertEquals(new RubySymbol("quoted name"), value("x = :\"quoted name\""));
        assertEquals(new RubySymbol("single"), value("x = :'single'"));
        assertEquals(new RubySymbol("Const_1"), value("x = :Const_1"));
        assertEquals(List.of(new RubySymbol("ok?"), new RubySymbol("go!")), value("x = [:ok?, :go!]"));
    }

    @Test
    void arrays() {
        assertEquals(List.of(), value("x = []"));
        assertEquals(List.of(1L, "two", new RubySymbol("three")), value("x = [1, 'two', :three]"));
        assertEquals(List.of(1L, 2L), value("x = [1, 2,]"));
        assertEquals(List.of(1L, 2L), value("x = [\n  1,\n  2,\n]\n"));
        assertEquals(List.of(1L, 2L), value("x = [ # why\n 1, # one\n 2 # two\n]"));
        assertEquals(List.of(List.of(), List.of(List.of(1L))), value("x = [[], [[1]]]"));
        assertEquals(Arrays.asList(null, true), value("x = [nil, true]"));
    }

    @Test
    void hashes() {
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("k", 1L);
        expected.put("k2", "v");
        expected.put("k3", List.of(true));
        expected.put("k4", null);
        expected.put("k5", Map.of("inner", 2.5));
        assertEquals(expected, value("x = { 'k' => 1, \"k2\" => 'v', k3: [true], :k4 => nil, \"k5\": {inner: 2.5} }"));
        assertEquals(List.copyOf(expected.keySet()),
                List.copyOf(((Map<?, ?>) value("x = {'k'=>1,\"k2\"=>'v',k3:[true],:k4=>nil,\"k5\":{inner:2.5}}")).keySet()));
        assertEquals(Map.of(), value("x = {}"));
        assertEquals(Map.of("a", 1L, "b", 2L), value("x = {\n  a: 1,\n  'b' =>\n    2,\n}"));
        assertEquals(Map.of("a", new RubySymbol("b")), value("x = {a: :b}"));
        assertEquals(Map.of("a", "b"), value("x = {\"a\":\"b\"}"));
        assertEquals(Map.of("a", List.of(Map.of())), value("x = {a: [{}]}"));
    }

    @Test
    void byteOrderMarkIsSkipped() {
        Assignment a = parse("\uFEFFfqdn 'x'").get(0);
        assertEquals(new SourcePosition(FILE, 1, 1), a.position());
    }

    @Test
    void nestingUpToTheLimit() {
        int max = ChefBackendRbParser.MAX_DEPTH;
        parse("x = " + "[".repeat(max) + "]".repeat(max));
        assertError("x = " + "[".repeat(max + 1) + "]".repeat(max + 1), 1, 5 + max, "nesting too deep (more than 64 levels)");
        assertError("x = " + "{a: ".repeat(max + 1), 1, 5 + 4 * max, "nesting too deep (more than 64 levels)");
    }

    // Errors. Columns are 1-based; each case names the exact position of the offending token.

    // In these text blocks \\ stands for one backslash.
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '§', textBlock = """
        fqdn 'be1                      | 1 | 6  | unterminated string
        fqdn "be1                      | 1 | 6  | unterminated string
        fqdn "be1\\                    | 1 | 6  | unterminated string
        fqdn = :"x                     | 1 | 9  | unterminated string
        fqdn "a#{b}"                   | 1 | 8  | string interpolation #{...} is not supported
        fqdn "a#@b"                    | 1 | 8  | string interpolation #@... is not supported
        fqdn "a#$b"                    | 1 | 8  | string interpolation #$... is not supported
        fqdn "\\u12"                   | 1 | 7  | invalid Unicode escape
        fqdn "\\u{}"                   | 1 | 7  | invalid Unicode escape
        fqdn "\\u{110000}"             | 1 | 7  | invalid Unicode escape
        fqdn "\\uD800"                 | 1 | 7  | invalid Unicode escape
        fqdn "\\u{41"                  | 1 | 7  | invalid Unicode escape
        fqdn "\\xZZ"                   | 1 | 7  | invalid hex escape
        fqdn "\\xff"                   | 1 | 7  | unsupported Ruby: byte escapes above \\x7F (use \\u for characters)
        fqdn "\\377"                   | 1 | 7  | unsupported Ruby: byte escapes above \\x7F (use \\u for characters)
        fqdn "\\cA"                    | 1 | 7  | unsupported Ruby: escape '\\c'
        fqdn =                         | 1 | 7  | expected a value after '=' but found end of file
        fqdn =;                        | 1 | 7  | expected a value after '=' but found ';'
        fqdn = )                       | 1 | 8  | expected a value after '=' but found ')'
        fqdn                           | 1 | 1  | expected a value for 'fqdn'
        a.b.c;                         | 1 | 1  | expected a value for 'a.b.c'
        fqdn )                         | 1 | 6  | expected a value for 'fqdn' but found ')'
        fqdn()                         | 1 | 6  | expected a value after '(' but found ')'
        fqdn('x'                       | 1 | 5  | unclosed '('
        fqdn('x' 'y')                  | 1 | 10 | expected ')' but found string 'y'
        )                              | 1 | 1  | unexpected ')'
        = 1                            | 1 | 1  | unexpected '='
        'x' = 1                        | 1 | 1  | expected a setting name but found string 'x'
        5 = 1                          | 1 | 1  | expected a setting name but found '5'
        nil = 1                        | 1 | 1  | expected a setting name but found 'nil'
        a: 1                           | 1 | 1  | expected a setting name but found 'a:'
        a. = 1                         | 1 | 4  | expected a name after '.' but found '='
        a.5 = 1                        | 1 | 3  | expected a name after '.' but found '5'
        a[1] = 1                       | 1 | 3  | expected a string or symbol key after '[' but found '1'
        a[b] = 1                       | 1 | 3  | expected a string or symbol key after '[' but found 'b'
        a['b' = 1                      | 1 | 7  | expected ']' but found '='
        a['b'                          | 1 | 2  | unclosed '['
        a['b'] 1                       | 1 | 8  | expected '=' after 'a.b' but found '1'
        a['b']                         | 1 | 7  | expected '=' after 'a.b' but found end of file
        fqdn 'a' 'b'                   | 1 | 10 | expected end of line after the value of 'fqdn' but found string 'b'
        fqdn 'a', 'b'                  | 1 | 9  | expected end of line after the value of 'fqdn' but found ','
        fqdn = 'a' = 'b'               | 1 | 12 | expected end of line after the value of 'fqdn' but found '='
        x = 1 2                        | 1 | 7  | expected end of line after the value of 'x' but found '2'
        x = [1 2]                      | 1 | 8  | expected ',' or ']' but found '2'
        x = [1,, 2]                    | 1 | 8  | expected a value or ']' but found ','
        x = [1;2]                      | 1 | 7  | expected ',' or ']' but found ';'
        x = [1, 2                      | 1 | 5  | unclosed '['
        x = {a: 1                      | 1 | 5  | unclosed '{'
        x = {a: 1 b: 2}                | 1 | 11 | expected ',' or '}' but found 'b:'
        x = {1 => 2}                   | 1 | 6  | expected a string or symbol hash key but found '1'
        x = {a => 2}                   | 1 | 6  | expected a string or symbol hash key but found 'a'
        x = {'a' 2}                    | 1 | 10 | expected '=>' after hash key 'a' but found '2'
        x = {'a' => }                  | 1 | 13 | expected a value for key 'a' but found '}'
        x = {a: 1, 'a' => 2}           | 1 | 12 | duplicate hash key 'a'
        x = {'b' => 1, :b => 2}        | 1 | 16 | duplicate hash key 'b'
        x = 1_                         | 1 | 5  | malformed number
        x = 1__0                       | 1 | 5  | malformed number
        x = 12abc                      | 1 | 5  | malformed number
        x = 1e                         | 1 | 5  | malformed number
        x = 0x                         | 1 | 5  | malformed number
        x = 09                         | 1 | 5  | malformed number
        x = -0b12                      | 1 | 5  | malformed number
        x = 9223372036854775808        | 1 | 5  | integer out of range
        x = 0x1_0000_0000_0000_0000    | 1 | 5  | integer out of range
        x = 1e999                      | 1 | 5  | float out of range
        x = `ls`                       | 1 | 5  | unexpected character '`'
        x = \\1                        | 1 | 5  | unexpected character '\\'
        x = ＡB                         | 1 | 5  | unexpected character 'Ａ' (U+FF21)
        """)
    void syntaxErrors(String text, int line, int column, String problem) {
        assertError(text, line, column, problem);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '§', textBlock = """
        if true then fqdn 'a' end      | 1 | 1  | unsupported Ruby: 'if' expressions are not allowed in chef-backend.rb
        fqdn 'a' if true               | 1 | 10 | unsupported Ruby: 'if' expressions are not allowed in chef-backend.rb
        fqdn 'a' unless x              | 1 | 10 | unsupported Ruby: 'unless' expressions are not allowed in chef-backend.rb
        case x                         | 1 | 1  | unsupported Ruby: 'case' expressions are not allowed in chef-backend.rb
        def foo                        | 1 | 1  | unsupported Ruby: 'def' method definitions are not allowed in chef-backend.rb
        class Foo                      | 1 | 1  | unsupported Ruby: 'class' definitions are not allowed in chef-backend.rb
        fqdn do                        | 1 | 6  | unsupported Ruby: 'do' blocks are not allowed in chef-backend.rb
        fqdn 'a' do                    | 1 | 10 | unsupported Ruby: 'do' blocks are not allowed in chef-backend.rb
        end                            | 1 | 1  | unsupported Ruby: 'end' blocks are not allowed in chef-backend.rb
        x = self                       | 1 | 5  | unsupported Ruby: 'self' expressions are not allowed in chef-backend.rb
        fqdn { 'a' }                   | 1 | 6  | unsupported Ruby: blocks are not allowed (for a hash write 'fqdn = { ... }')
        x = %w[a b]                    | 1 | 5  | unsupported Ruby: %-literals like %w[] are not allowed
        x = <<~EOS                     | 1 | 5  | unsupported Ruby: heredocs (<<) are not allowed
        x = <<-EOS                     | 1 | 5  | unsupported Ruby: heredocs (<<) are not allowed
        x = 1..2                       | 1 | 6  | unsupported Ruby: ranges ('..') are not allowed
        x = 1...2                      | 1 | 6  | unsupported Ruby: ranges ('..') are not allowed
        x = 1 + 2                      | 1 | 7  | unsupported Ruby: operator '+'
        x = 1 -1                       | 1 | 7  | unsupported Ruby: operator '-'
        x = [1 -1]                     | 1 | 8  | unsupported Ruby: operator '-'
        x = - 1                        | 1 | 5  | unsupported Ruby: operator '-'
        x &&= 1                        | 1 | 3  | unsupported Ruby: operator '&&='
        x += 1                         | 1 | 3  | unsupported Ruby: operator '+='
        x == 1                         | 1 | 3  | unsupported Ruby: operator '=='
        x = !true                      | 1 | 5  | unsupported Ruby: operator '!'
        x = a ? 1 : 2                  | 1 | 5  | unsupported Ruby: variable or method call 'a' (values must be literals)
        Foo = 1                        | 1 | 1  | unsupported Ruby: constant 'Foo'
        a.Foo = 1                      | 1 | 3  | unsupported Ruby: constant 'Foo'
        x = Foo                        | 1 | 5  | unsupported Ruby: constant 'Foo'
        x = ENV['HOME']                | 1 | 5  | unsupported Ruby: constant 'ENV'
        Foo::Bar = 1                   | 1 | 1  | unsupported Ruby: constant 'Foo'
        x = y                          | 1 | 5  | unsupported Ruby: variable or method call 'y' (values must be literals)
        x = node.foo(1)                | 1 | 5  | unsupported Ruby: method call 'node.foo(...)'
        x = node.foo                   | 1 | 5  | unsupported Ruby: method call 'node.foo'
        x = node.foo + 1               | 1 | 5  | unsupported Ruby: method call 'node.foo'
        fqdn y                         | 1 | 6  | unsupported Ruby: variable or method call 'y' (values must be literals)
        x = 'a'.upcase                 | 1 | 8  | unsupported Ruby: method calls on values are not allowed
        x = [1].first                  | 1 | 8  | unsupported Ruby: method calls on values are not allowed
        x = @foo                       | 1 | 5  | unsupported Ruby: instance and global variables are not allowed
        $x = 1                         | 1 | 1  | unsupported Ruby: instance and global variables are not allowed
        x = a::B                       | 1 | 5  | unsupported Ruby: variable or method call 'a' (values must be literals)
        =begin                         | 1 | 1  | unsupported Ruby: =begin comments are not allowed (use #)
        x = ->{ 1 }                    | 1 | 5  | unsupported Ruby: operator '->'
        x = 5 % 2                      | 1 | 7  | unsupported Ruby: operator '%'
        x = 1 << 2                     | 1 | 7  | unsupported Ruby: operator '<<'
        """)
    void unsupportedRuby(String text, int line, int column, String problem) {
        assertError(text, line, column, problem);
    }

    @Test
    void orAssignIsUnsupported() { // apart from the table, whose delimiter is '|'
        assertError("x ||= 1", 1, 3, "unsupported Ruby: operator '||='");
        assertError("x = 1 || 2", 1, 7, "unsupported Ruby: operator '||'");
    }

    @Test
    void controlAndInvalidCharacters() {
        assertError("x = 1\u0007", 1, 6, "unexpected character U+0007");
        assertError("fqdn 'a'\n\u0000", 2, 1, "unexpected character U+0000");
        assertError("x = 1\rfqdn 'a'", 1, 6, "unexpected character U+000D");
        assertError("x = 'a\u0001b'", 1, 7, "control character U+0001 in string");
        assertError("x = \"a\\\u0001\"", 1, 8, "control character U+0001 in string");
        assertError("x = 'a\u007f'", 1, 7, "control character U+007F in string");
        assertError("x\u00a0= 1", 1, 2, "unexpected character U+00A0");
        assertError("x = \uD800", 1, 5, "unexpected character U+D800");
        assertError("x = \uD83D\uDE00", 1, 5, "unexpected character U+1F600");
    }

    @Test
    void errorsInLaterLines() {
        assertError("fqdn 'a'\n\n  x = [\n 1,\n  2 3]", 5, 5, "expected ',' or ']' but found '3'");
        assertError("fqdn 'a'\r\nx =\r\n", 2, 4, "expected a value after '=' but found end of line");
        assertError("fqdn 'a'\n\tx = 'b", 2, 6, "unterminated string");
        assertError("fqdn 'a'\r\nx = 'b\r\n", 2, 5, "unterminated string");
        assertError("x = [\n  1,\n", 1, 5, "unclosed '['");
        assertError("x = 1 # fine\ny = 2 +", 2, 7, "unsupported Ruby: operator '+'");
    }

    @Test
    void longTokensAreAbbreviated() {
        String longString = "'" + "a".repeat(40) + "'";
        assertError("fqdn 'x' " + longString, 1, 10,
                "expected end of line after the value of 'fqdn' but found string '" + "a".repeat(26) + "...");
    }

    @Test
    void firstErrorInSourceOrderWins() {
        // The parser must complain about the first problem, not a lexing problem further on.
        assertError("fqdn\n+", 1, 1, "expected a value for 'fqdn'");
        assertError("x = if +", 1, 5, "unsupported Ruby: 'if' expressions are not allowed in chef-backend.rb");
    }

    private static List<Assignment> parse(String text) {
        return ChefBackendRbParser.parse(FILE, text);
    }

    private static Object value(String text) {
        List<Assignment> assignments = parse(text);
        assertEquals(1, assignments.size());
        return assignments.get(0).value();
    }

    private static void assertSingle(String text, List<String> path, Object value) {
        List<Assignment> assignments = parse(text);
        assertEquals(1, assignments.size(), text);
        assertEquals(path, assignments.get(0).path(), text);
        assertEquals(value, assignments.get(0).value(), text);
    }

    private static void assertAssignment(Assignment a, List<String> path, Object value,
            int line, int column, int valueLine, int valueColumn) {
        assertEquals(path, a.path());
        assertEquals(value, a.value());
        assertEquals(new SourcePosition(FILE, line, column), a.position());
        assertEquals(new SourcePosition(FILE, valueLine, valueColumn), a.valuePosition());
    }

    private static void assertError(String text, int line, int column, String problem) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(text), text);
        assertEquals(FILE + ":" + line + ":" + column + ": " + problem, e.getMessage(), text);
        assertEquals(new SourcePosition(FILE, line, column), e.position(), text);
        assertEquals(problem, e.problem(), text);
    }
}
