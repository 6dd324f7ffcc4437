package org.chefbackend.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProcessIdentityTest {
    @Test
    void identifiesThisProcessAndRoundTrips() {
        ProcessIdentity me = ProcessIdentity.of(ProcessHandle.current().pid()).orElseThrow();
        assertTrue(me.isAlive());
        assertEquals(Optional.of(me), ProcessIdentity.parse(me.serialize()));
    }

    @Test
    void aReusedPidWithAnotherStartTimeIsNotTheSameProcess() {
        ProcessIdentity me = ProcessIdentity.of(ProcessHandle.current().pid()).orElseThrow();
        assertFalse(new ProcessIdentity(me.pid(), me.startTicks() + 1).isAlive());
    }

    @Test
    void garbageDoesNotParse() {
        assertEquals(Optional.empty(), ProcessIdentity.parse("12"));
        assertEquals(Optional.empty(), ProcessIdentity.parse("a b"));
    }
}
