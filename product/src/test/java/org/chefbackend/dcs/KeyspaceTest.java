package org.chefbackend.dcs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class KeyspaceTest {
    @Test
    void relativeKeysLiveUnderThePrefix() {
        Keyspace keys = new Keyspace(Keyspace.DEFAULT_PREFIX);
        assertEquals("/chef-backend/members/be1", keys.absolute("members/be1"));
        assertEquals("members/be1", keys.relative("/chef-backend/members/be1"));
        assertEquals("/chef-backend/members/", keys.absolutePrefix("members/"));
        assertEquals("/chef-backend/", keys.absolutePrefix(""));
    }

    @Test
    void aPrefixWithoutTrailingSlashGetsOneSoItCannotMatchASiblingCluster() {
        Keyspace keys = new Keyspace("/chef-backend");
        assertEquals("/chef-backend/", keys.prefix());
        assertEquals("/chef-backend/leader", keys.absolute("leader"));
        assertThrows(IllegalArgumentException.class, () -> keys.relative("/chef-backend-2/leader"));
    }

    @Test
    void rejectsPrefixesThatNameNothing() {
        for (String bad : new String[] {null, "", " ", "/", "//"}) {
            assertThrows(IllegalArgumentException.class, () -> new Keyspace(bad), String.valueOf(bad));
        }
    }

    @Test
    void rejectsEmptyAbsoluteAndNullKeys() {
        Keyspace keys = new Keyspace("/cb/");
        assertThrows(IllegalArgumentException.class, () -> keys.absolute(""));
        assertThrows(IllegalArgumentException.class, () -> keys.absolute(null));
        assertThrows(IllegalArgumentException.class, () -> keys.absolute("/cb/leader"));
        assertThrows(IllegalArgumentException.class, () -> keys.absolutePrefix("/members/"));
        assertThrows(IllegalArgumentException.class, () -> keys.absolutePrefix(null));
    }

    @Test
    void nonAsciiKeysRoundTrip() {
        Keyspace keys = new Keyspace("/cb/");
        assertEquals("nodes/bé1", keys.relative(keys.absolute("nodes/bé1")));
    }
}
