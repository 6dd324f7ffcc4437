package org.chefbackend.dcs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class DistributedLockTest {
    @Test
    void theValueIsJsonNamingTheHolder() {
        assertEquals("{\"holder\":\"be1\"}", DistributedLock.encode("be1"));
        assertEquals("be \"2\"", DistributedLock.holderOf(DistributedLock.encode("be \"2\"")));
    }

    @Test
    void aValueWeDidNotWriteIsShownAsIs() {
        assertEquals("not json", DistributedLock.holderOf("not json"));
        assertEquals("{\"who\":\"x\"}", DistributedLock.holderOf("{\"who\":\"x\"}"));
        assertEquals("{\"holder\":3}", DistributedLock.holderOf("{\"holder\":3}"));
        assertEquals("", DistributedLock.holderOf(""));
    }
}
