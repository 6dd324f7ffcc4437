package org.chefbackend.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReplicationSlotsTest {
    @Test
    void aNameThatIsAlreadyValidIsKeptAfterThePrefix() {
        assertEquals("cb_be1", ReplicationSlots.nameFor("be1"));
        assertEquals("cb_be_1", ReplicationSlots.nameFor("be_1"));
    }

    @Test
    void aChangedNameGetsAHashSoLookAlikesDoNotCollide() {
        String dash = ReplicationSlots.nameFor("be-1");
        String dot = ReplicationSlots.nameFor("be.1");
        String upper = ReplicationSlots.nameFor("BE_1");
        assertTrue(dash.matches("cb_be_1_[0-9a-f]{8}"), dash);
        assertTrue(upper.matches("cb_be_1_[0-9a-f]{8}"), upper);
        assertEquals(4, Set.of(dash, dot, upper, ReplicationSlots.nameFor("be_1")).size());
        assertEquals(dash, ReplicationSlots.nameFor("be-1"), "deterministic");
    }

    @Test
    void aKeptNameCannotImitateAHashedOne() {
        String hashed = ReplicationSlots.nameFor("be-1");
        String imitation = hashed.substring("cb_".length()); // "be_1_<8 hex>", valid as it stands
        assertNotEquals(hashed, ReplicationSlots.nameFor(imitation));
    }

    @Test
    void fqdnsAndLongNamesFitPostgresLimits() {
        List<String> names = List.of("backend-1.example.com", "x".repeat(60), "x".repeat(61), "y".repeat(300),
                "Ünïcödé-node", "a b", "");
        for (String n : names.subList(0, names.size() - 1)) {
            String slot = ReplicationSlots.nameFor(n);
            assertTrue(slot.matches("[a-z0-9_]{1,63}"), n + " -> " + slot);
        }
        assertEquals("cb_" + "x".repeat(60), ReplicationSlots.nameFor("x".repeat(60)));
        assertEquals(63, ReplicationSlots.nameFor("x".repeat(61)).length());
        assertThrows(IllegalArgumentException.class, () -> ReplicationSlots.nameFor(""));
    }

    @Test
    void namesSharingALongPrefixStayDistinct() {
        Set<String> slots = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            slots.add(ReplicationSlots.nameFor("z".repeat(100) + "-" + i));
        }
        assertEquals(1000, slots.size());
    }
}
