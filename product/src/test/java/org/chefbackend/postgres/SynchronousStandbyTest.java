package org.chefbackend.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SynchronousStandbyTest {
    @Test
    void synchronousConfNamesTheStandbyQuotedOrNobody() {
        assertTrue(SynchronousStandby.render("n-127-0-0-2")
                .contains("synchronous_standby_names = '\"n-127-0-0-2\"'"), SynchronousStandby.render("x"));
        assertTrue(SynchronousStandby.render(null).contains("synchronous_standby_names = ''"));
    }

    @Test
    void synchronousStandbyNamesParse() {
        assertEquals("n-127-0-0-2", SynchronousStandby.parse("\"n-127-0-0-2\""));
        assertEquals("be2", SynchronousStandby.parse("be2"));
        assertEquals("be2", SynchronousStandby.parse("FIRST 1 (be2, be3)"));
        assertEquals("a\"b", SynchronousStandby.parse("2 (\"a\"\"b\", c)"));
        assertNull(SynchronousStandby.parse(""));
        assertNull(SynchronousStandby.parse(null));
    }
}
