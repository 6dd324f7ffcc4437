package org.chefbackend.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.chefbackend.repository.Lsn;

/** Where a server stands in replication, and who streams from it: WAL positions, timeline, walsenders. */
public final class ReplicationStatus {
    private ReplicationStatus() {
    }

    /**
     * One walsender on the leader.
     *
     * @param slot the physical slot it streams through, null without one (e.g. a base backup's WAL stream)
     * @param state startup, catchup, streaming, backup or stopping
     * @param syncState async, potential, sync or quorum
     * @param replayLagBytes how far the standby's replay is behind the leader's current WAL position, -1 if unknown
     * @param clientAddr where it connects from, null over a unix socket
     * @param replyTime the send time of the standby's last reply ({@code reply_time}, on the standby's clock), as
     *     text, null before its first reply
     */
    public record ReplicaInfo(String applicationName, String slot, String state, String syncState,
            long replayLagBytes, String clientAddr, String replyTime) {
    }

    /** Every walsender of {@code leader}, by application_name. */
    public static List<ReplicaInfo> replicas(Connection leader) throws SQLException {
        // On a cascading standby pg_current_wal_lsn() fails; its own replay position is the reference there.
        String sql = "select r.application_name, s.slot_name, r.state, r.sync_state,"
                + " coalesce(pg_wal_lsn_diff(case when pg_is_in_recovery() then pg_last_wal_replay_lsn()"
                + " else pg_current_wal_lsn() end, r.replay_lsn), -1)::bigint, host(r.client_addr), r.reply_time::text"
                + " from pg_stat_replication r left join pg_replication_slots s on s.active_pid = r.pid"
                + " order by r.application_name, r.pid";
        List<ReplicaInfo> out = new ArrayList<>();
        try (PreparedStatement st = leader.prepareStatement(sql); ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
                out.add(new ReplicaInfo(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getLong(5), rs.getString(6), rs.getString(7)));
            }
        }
        return out;
    }

    /**
     * Where a server stands.
     *
     * @param inRecovery true on a standby
     * @param currentOrReceiveLsn a primary's current WAL position, a standby's last received one (null before any)
     * @param replayLsn a standby's last replayed position; on a primary its current position (all of it applied)
     * @param timeline a primary's current timeline; a standby's last received one, else its last restartpoint's
     * @param senderHost the host a standby streams from, null when its WAL receiver is not running
     * @param walReceiverStatus e.g. "streaming" or "waiting", null when no WAL receiver runs
     */
    public record LocalState(boolean inRecovery, String currentOrReceiveLsn, String replayLsn, long timeline,
            String senderHost, String walReceiverStatus) {
    }

    /** The state of the server {@code c} is connected to (as a superuser: pg_stat_wal_receiver hides the rest). */
    public static LocalState localState(Connection c) throws SQLException {
        // pg_walfile_name's first 8 hex digits are the timeline WAL is written on now; pg_control_checkpoint()
        // still names the old timeline right after a promotion until the next checkpoint.
        String sql = "select pg_is_in_recovery(),"
                + " case when pg_is_in_recovery() then pg_last_wal_receive_lsn() else pg_current_wal_lsn() end::text,"
                + " case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end::text,"
                // a standby whose upstream is gone has no received_tli, and its last restartpoint may predate
                // the switch to the newest timeline; the newest timeline history file it fetched does not
                + " case when pg_is_in_recovery()"
                + "  then greatest((select received_tli from pg_stat_wal_receiver),"
                + "                (select timeline_id from pg_control_checkpoint()),"
                + "                (select max(('x' || substr(name, 1, 8))::bit(32)::bigint) from pg_ls_waldir()"
                + "                  where name ~ '^[0-9A-F]{8}[.]history$'))"
                + "  else ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint end,"
                + " (select sender_host from pg_stat_wal_receiver), (select status from pg_stat_wal_receiver)";
        try (PreparedStatement st = c.prepareStatement(sql); ResultSet rs = st.executeQuery()) {
            rs.next();
            return new LocalState(rs.getBoolean(1), rs.getString(2), rs.getString(3), rs.getLong(4),
                    rs.getString(5), rs.getString(6));
        }
    }

    /**
     * An LSN as PostgreSQL prints it ("16/B374D848": high and low 32 bits in hex) as one number. Real positions
     * stay far below 2^63, so plain comparison orders them.
     */
    public static long lsnToLong(String lsn) {
        return Lsn.parse(lsn);
    }
}
