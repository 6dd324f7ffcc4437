package org.chefbackend.repository;

/** WAL positions as PostgreSQL prints them ("0/5000028"), the one place this package reads and writes that form. */
public final class Lsn {
    private Lsn() {
    }

    /** The position {@code text} names; {@link IllegalArgumentException} saying so when it names none. */
    public static long parse(String text) {
        int slash = text == null ? -1 : text.indexOf('/');
        if (slash < 1 || slash == text.length() - 1 || slash > 8 || text.length() - slash - 1 > 8
                || !text.matches("[0-9A-Fa-f]+/[0-9A-Fa-f]+")) {
            throw new IllegalArgumentException("not an LSN: " + text);
        }
        return (Long.parseLong(text.substring(0, slash), 16) << 32) | Long.parseLong(text.substring(slash + 1), 16);
    }

    /** {@code lsn} as PostgreSQL prints it: high and low 32 bits in upper-case hex, no leading zeros. */
    public static String format(long lsn) {
        return String.format("%X/%X", lsn >>> 32, lsn & 0xFFFF_FFFFL);
    }
}
