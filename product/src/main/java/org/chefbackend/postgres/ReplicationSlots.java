package org.chefbackend.postgres;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.Locale;

/** The physical replication slot a leader keeps per follower, so it holds the WAL that follower has yet to stream. */
public final class ReplicationSlots {
    private static final int MAX_SLOT_NAME = 63; // NAMEDATALEN - 1
    private static final String SLOT_PREFIX = "cb_";
    private static final int HASH_HEX = 8;

    private ReplicationSlots() {
    }

    /**
     * The leader-side slot of the node {@code nodeName}: "cb_" + the name when it is already lower-case
     * [a-z0-9_] and fits; otherwise the sanitized, truncated name + "_" + 8 hex of its SHA-256. A name that already
     * ends like such a hash gets one too, so a kept name can never equal a sanitized one.
     */
    public static String nameFor(String nodeName) {
        if (nodeName == null || nodeName.isEmpty()) {
            throw new IllegalArgumentException("a node name is needed for its replication slot");
        }
        String clean = nodeName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        boolean kept = clean.equals(nodeName) && SLOT_PREFIX.length() + clean.length() <= MAX_SLOT_NAME
                && !clean.matches(".*_[0-9a-f]{" + HASH_HEX + "}");
        if (kept) {
            return SLOT_PREFIX + clean;
        }
        int room = MAX_SLOT_NAME - SLOT_PREFIX.length() - 1 - HASH_HEX;
        String head = clean.length() > room ? clean.substring(0, room) : clean;
        return SLOT_PREFIX + head + "_" + sha256Hex(nodeName).substring(0, HASH_HEX);
    }

    /** Creates the physical slot, reserving WAL from now on, unless it exists. */
    public static void create(Connection leader, String slot) throws SQLException {
        try (PreparedStatement st = leader.prepareStatement("select pg_create_physical_replication_slot(?, true)"
                + " where not exists (select 1 from pg_replication_slots where slot_name = ?)")) {
            st.setString(1, slot);
            st.setString(2, slot);
            st.executeQuery().close();
        } catch (SQLException e) {
            if (!"42710".equals(e.getSQLState())) { // duplicate_object: created concurrently, which is what we want
                throw e;
            }
        }
    }

    /**
     * Drops the slot if it exists. A slot in use cannot be dropped, so its walsender is terminated first; the
     * follower's walreceiver reconnects at once (seen within 20 ms) and may take the slot again, hence the retries.
     */
    public static void drop(Connection leader, String slot) throws SQLException {
        for (int attempt = 1; ; attempt++) {
            try (PreparedStatement st = leader.prepareStatement("select pg_terminate_backend(active_pid, 5000)"
                    + " from pg_replication_slots where slot_name = ? and active_pid is not null")) {
                st.setString(1, slot);
                st.executeQuery().close();
            }
            try (PreparedStatement st = leader.prepareStatement("select pg_drop_replication_slot(slot_name)"
                    + " from pg_replication_slots where slot_name = ?")) {
                st.setString(1, slot);
                st.executeQuery().close();
                return;
            } catch (SQLException e) {
                if ("42704".equals(e.getSQLState())) { // undefined_object: dropped meanwhile
                    return;
                }
                if (!"55006".equals(e.getSQLState()) || attempt >= 10) { // object_in_use: a walsender took it again
                    throw e;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private static String sha256Hex(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JRE has SHA-256
        }
    }
}
