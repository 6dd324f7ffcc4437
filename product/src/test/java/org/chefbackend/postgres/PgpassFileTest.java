package org.chefbackend.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PgpassFileTest {
    @Test
    void pgpassLinesMatchAnyHostAndEscapeSeparators() {
        assertEquals("*:*:*:replicator:abc\n", PgpassFile.line("replicator", "abc"));
        assertEquals("*:*:*:u:a\\:b\\\\c\n", PgpassFile.line("u", "a:b\\c"));
    }
}
