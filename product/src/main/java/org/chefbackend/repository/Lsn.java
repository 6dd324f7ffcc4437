package org.chefbackend.repository;

import org.chefbackend.postgres.ReplicationStatus;

/** WAL positions as PostgreSQL prints them ("0/5000028"), the one place this package reads and writes that form. */
public final class Lsn {
    private Lsn() {
    }

    /** The position {@code text} names; {@link IllegalArgumentException} saying so when it names none. */
    public static long parse(String text) {
        return ReplicationStatus.lsnToLong(text);
    }

    /** {@code lsn} as PostgreSQL prints it: high and low 32 bits in upper-case hex, no leading zeros. */
    public static String format(long lsn) {
        return String.format("%X/%X", lsn >>> 32, lsn & 0xFFFF_FFFFL);
    }
}
