package org.chefbackend.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ReplicationStatusTest {
    @Test
    void lsnsBecomeComparableNumbers() {
        assertEquals(0x16B374D848L, ReplicationStatus.lsnToLong("16/B374D848"));
        assertEquals(0L, ReplicationStatus.lsnToLong("0/0"));
        assertEquals(0x3000060L, ReplicationStatus.lsnToLong("0/3000060"));
        assertEquals(0xFFFFFFFFL << 32 | 0xFFFFFFFFL, ReplicationStatus.lsnToLong("FFFFFFFF/FFFFFFFF"));
        assertTrue(ReplicationStatus.lsnToLong("1/0") > ReplicationStatus.lsnToLong("0/FFFFFFFF"));
        for (String bad : new String[] {"", "16", "/1", "1/", "1/2/3", "g/1", "123456789/0", "0/123456789", " 0/1"}) {
            assertThrows(IllegalArgumentException.class, () -> ReplicationStatus.lsnToLong(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> ReplicationStatus.lsnToLong(null));
    }
}
