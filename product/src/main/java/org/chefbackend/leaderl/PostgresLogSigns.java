package org.chefbackend.leaderl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * What PostgreSQL's log said, since leaderl started, about this standby's streaming: WAL gone from its upstream,
 * its timeline forked from its upstream's, its slot missing there. The sole owner of these flags: the facts read
 * them, and the actions that fix a cause clear it. Used only under the loop's acting lock (an iteration or an
 * operator's pgsql-follow), so plain fields.
 */
final class PostgresLogSigns {
    /** The leader no longer has WAL this standby needs (seen in PostgreSQL's log); only a base backup helps. */
    private boolean walGone;
    /** The slot this standby is configured to use is missing on its upstream (e.g. dropped): follow again. */
    private boolean slotMissing;
    /** This standby's timeline forked from its upstream's (it replayed WAL the new leader never had). */
    private boolean diverged;
    private long offset = -1;

    /**
     * PostgreSQL's log is read from here on: what it said while leaderl was stopped (e.g. WAL found missing
     * before an operator's pgsql-follow --force-basebackup fixed it) describes a past state, and acting on it
     * now would resync a node that is fine; a problem that persists is logged again within seconds.
     */
    void restart() {
        offset = -1;
        walGone = false;
        diverged = false;
    }

    /**
     * Reads what PostgreSQL logged since the last look for the signs that streaming cannot work: the walreceiver's
     * "requested WAL segment … has already been removed" (only a base backup helps), "new timeline N forked off
     * current database system timeline M" (this standby replayed WAL the new leader never had, e.g. after an
     * asynchronous failover; pg_rewind helps), and a slot missing on the upstream.
     */
    void scan(Path log) {
        try (FileChannel ch = FileChannel.open(log)) {
            long size = ch.size();
            if (offset < 0 || size < offset) {
                offset = size; // first look, or the log rotated: start from here
                return;
            }
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size - offset, 1 << 20));
            ch.read(buf, offset);
            offset = size;
            String text = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
            walGone |= text.contains("has already been removed");
            diverged |= text.contains("forked off current database system timeline")
                    || text.contains("does not contain minimum recovery point")
                    || text.contains("is ahead of the WAL flush position of this server");
            slotMissing = text.contains("replication slot") && text.contains("does not exist");
        } catch (IOException e) {
            // no log yet
        }
    }

    boolean walGone() {
        return walGone;
    }

    boolean diverged() {
        return diverged;
    }

    boolean slotMissing() {
        return slotMissing;
    }

    /** Read once: following again recreates the slot. */
    void forgetSlotMissing() {
        slotMissing = false;
    }

    /** pg_rewind rejoined the upstream's timeline. */
    void rewound() {
        diverged = false;
    }

    /** A base backup made this node a fresh copy of its upstream. */
    void resynced() {
        walGone = false;
        diverged = false;
    }
}
