package org.chefbackend.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The field rules of etcd records, and the cleaning by which a writer keeps another program's text valid. */
class RecordRulesTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "127.0.0.64|true", "10.0.0.1|true", "255.255.255.255|true", "0.0.0.0|true",
        "::1|true", "FE80::1|true", "2001:db8::7|true", "::ffff:10.0.0.1|true", "1:2:3:4:5:6:7:8|true",
        "256.0.0.1|false", "10.0.0|false", "10.0.0.1.|false", "010.0.0.1|false", "' 10.0.0.1'|false",
        "localhost|false", "evil.example|false", "be1|false", "abc|false", "deadbeef|false",
        "1:2:3|false", "fe80::1%eth0|false", "[::1]|false", ":::|false", "10.0.0.1:5432|false",
        ".:1|false", "|false"})
    void anAddressIsAnIpLiteralNeverAHostName(String value, boolean literal) {
        assertEquals(literal, RecordRules.isIpLiteral(value == null ? "" : value));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "be1|true", "n-127-0-0-64|true", "backend-127-0-0-2|true", "be1.example.com|true", "vm-FE80--1|true",
        "a_b|true", "9|true",
        "-be1|false", ".be1|false", "be 1|false", "be/1|false", "be:1|false", "be\"1|false", "bé1|false",
        "|false"})
    void aNodeNameIsTheProductsNodeNameRule(String value, boolean name) {
        assertEquals(name, RecordRules.isNodeName(value == null ? "" : value));
    }

    @Test
    void aNodeNameIsAtMost253Characters() {
        assertEquals(true, RecordRules.isNodeName("x".repeat(253)));
        assertEquals(false, RecordRules.isNodeName("x".repeat(254)));
        assertEquals(false, RecordRules.isNodeName(null));
    }

    @Test
    void oneLineBlanksControlCharactersAndCutsToSize() {
        assertEquals("connection refused  at x", RecordRules.oneLine("connection refused\r\nat x", 100));
        assertEquals("a b c d", RecordRules.oneLine("a\u0085b\u2028c\td", 100));
        assertEquals("abc", RecordRules.oneLine("abcdef", 3));
        assertEquals("a", RecordRules.oneLine("a\uD83D\uDE00", 2), "no half a surrogate pair");
        assertNull(RecordRules.oneLine(null, 3));
    }

    @Test
    void aReasonQuotesAValueOnOneLineAndShort() {
        assertEquals("\"a\\u000Ab\\\"c\"", RecordRules.quoted("a\nb\"c"));
        assertEquals("\"" + "x".repeat(60) + "...\"", RecordRules.quoted("x".repeat(500)));
    }

    /** Whatever another program says, what a writer publishes of it is text a reader accepts. */
    @Property(tries = 2000, seed = "20")
    void whatAWriterCleansAReaderAccepts(@ForAll String text, @ForAll @IntRange(min = 1, max = 64) int max) {
        RecordRules.text("field", RecordRules.oneLine(text, max), max);
    }
}
