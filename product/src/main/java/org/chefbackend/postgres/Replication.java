package org.chefbackend.postgres;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.chefbackend.agent.Change;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.ServiceSetupException;
import org.chefbackend.agent.ServiceUsers;
import org.chefbackend.system.Binaries;

/**
 * How a node follows a leader: a physical replication slot per follower on the leader, a base backup into an empty
 * data directory, and the standby settings in {@code DATA/standby.conf} (included last by the rendered
 * postgresql.conf) plus {@code DATA/standby.signal}. Stateless; the HA loop decides when to call what.
 *
 * <p>Standby settings live in a file of their own, not in postgresql.auto.conf: base backups and pg_rewind copy
 * the source's auto.conf (and with it the source's stale primary_conninfo), and the recipe re-renders
 * postgresql.conf on every prepare.
 */
public final class Replication {
    public static final String STANDBY_CONF = "standby.conf";
    public static final String STANDBY_SIGNAL = "standby.signal";
    /**
     * {@code synchronous_standby_names}, set by leaderl on a leader in synchronous mode, in a file of its own that
     * postgresql.conf includes last (a reload applies it). A standby has none: it would be stale after a promotion.
     */
    public static final String SYNCHRONOUS_CONF = "synchronous.conf";
    static final String PGPASS = "/var/opt/chef-backend/postgresql/.pgpass";
    static final int MAX_SLOT_NAME = 63; // NAMEDATALEN - 1
    static final String SLOT_PREFIX = "cb_";
    private static final int HASH_HEX = 8;

    private Replication() {
    }

    // ---- slots -------------------------------------------------------------------------------------------------

    /**
     * The leader-side slot of the node {@code nodeName}: "cb_" + the name when it is already lower-case
     * [a-z0-9_] and fits; otherwise the sanitized, truncated name + "_" + 8 hex of its SHA-256. A name that already
     * ends like such a hash gets one too, so a kept name can never equal a sanitized one.
     */
    public static String slotName(String nodeName) {
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
    public static void createSlot(Connection leader, String slot) throws SQLException {
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
    public static void dropSlot(Connection leader, String slot) throws SQLException {
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

    // ---- standby configuration ---------------------------------------------------------------------------------

    /** The libpq password file of the service user: replication user and superuser, any host (the leader moves). */
    public static Path pgpassFile(NodeContext node) {
        return node.paths().resolve(PGPASS);
    }

    /** Writes {@link #pgpassFile} (service user, 0600; libpq ignores a file others can read). */
    public static Path writePgpass(NodeContext node) throws IOException {
        PostgresLayout layout = PostgresLayout.of(node);
        ServiceUsers.ensureUser(layout.user());
        Path file = pgpassFile(node);
        PostgresRecipe.traversableParents(file);
        String text = pgpassLine(node.settings().string("postgresql.replication_user"), node.secrets().replicationPassword())
                + pgpassLine(node.settings().string("postgresql.db_superuser"), node.secrets().dbSuperuserPassword());
        PostgresRecipe.writeOwned(file, text.getBytes(StandardCharsets.UTF_8), layout.user(), "rw-------");
        return file;
    }

    static String pgpassLine(String user, String password) {
        return "*:*:*:" + pgpassEscape(user) + ":" + pgpassEscape(password) + "\n";
    }

    private static String pgpassEscape(String field) {
        return field.replace("\\", "\\\\").replace(":", "\\:");
    }

    /** The text of DATA/standby.conf. */
    static String renderStandbyConf(NodeContext node, String leaderAddress, int leaderPort, String slot) {
        Map<String, String> conninfo = new LinkedHashMap<>();
        conninfo.put("host", leaderAddress);
        conninfo.put("port", String.valueOf(leaderPort));
        conninfo.put("user", node.settings().string("postgresql.replication_user"));
        conninfo.put("passfile", pgpassFile(node).toString());
        conninfo.put("sslmode", "require"); // pg_hba admits replication over hostssl only
        conninfo.put("application_name", node.nodeName()); // what synchronous_standby_names and replicas() see
        conninfo.put("connect_timeout", "5");
        StringBuilder ci = new StringBuilder();
        conninfo.forEach((k, v) -> ci.append(ci.length() == 0 ? "" : " ").append(k).append('=').append(conninfoValue(v)));

        Map<String, String> p = new LinkedHashMap<>();
        p.put("primary_conninfo", ci.toString());
        p.put("primary_slot_name", slot);
        p.put("recovery_target_timeline", "latest"); // follow the leader across promotions
        p.put("hot_standby_feedback", "on");
        return "# Generated by chef-backend: this node follows " + leaderAddress + ":" + leaderPort
                + "; removed on promotion\n" + String.join("\n", PostgresqlConf.lines(p)) + "\n";
    }

    /** libpq conninfo quoting: plain when safe, else single quotes with backslash escapes. */
    static String conninfoValue(String v) {
        if (!v.isEmpty() && v.chars().noneMatch(c -> Character.isWhitespace(c) || c == '\'' || c == '\\')) {
            return v;
        }
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    /**
     * Makes the node a standby of the leader at its next start, or re-points a running standby.
     *
     * @return what a running server needs: RELOAD when only standby.conf changed (primary_conninfo and
     *     primary_slot_name reload since PostgreSQL 13), RESTART when standby.signal is new (a running primary
     *     becomes a standby only by a restart, and must be rewound first if it diverged)
     */
    public static Change writeStandbyConfig(NodeContext node, String leaderAddress, int leaderPort, String slot)
            throws IOException {
        PostgresLayout layout = PostgresLayout.of(node);
        writePgpass(node);
        Path conf = layout.dataDir().resolve(STANDBY_CONF);
        Path signal = layout.dataDir().resolve(STANDBY_SIGNAL);
        String before = Files.exists(conf) ? Files.readString(conf) : "";
        String after = renderStandbyConf(node, leaderAddress, leaderPort, slot);
        boolean wasStandby = Files.exists(signal);
        PostgresRecipe.writeOwned(conf, after.getBytes(StandardCharsets.UTF_8), layout.user(), "rw-------");
        PostgresRecipe.writeOwned(signal, new byte[0], layout.user(), "rw-------");
        Files.deleteIfExists(layout.dataDir().resolve(SYNCHRONOUS_CONF)); // copied from the leader by a sync
        if (!wasStandby) {
            return Change.RESTART;
        }
        return PostgresqlConf.changeBetween(PostgresqlConf.parse(before), PostgresqlConf.parse(after));
    }

    /**
     * Makes the (stopped) data directory a standby that follows nobody: read-only at its next start, replaying its
     * own WAL, until leaderl promotes it or points it at a leader.
     */
    public static void makeStandbyWithoutUpstream(NodeContext node) throws IOException {
        PostgresLayout layout = PostgresLayout.of(node);
        Files.deleteIfExists(layout.dataDir().resolve(STANDBY_CONF));
        Files.deleteIfExists(layout.dataDir().resolve(SYNCHRONOUS_CONF));
        PostgresRecipe.writeOwned(layout.dataDir().resolve(STANDBY_SIGNAL), new byte[0], layout.user(), "rw-------");
    }

    /**
     * Removes standby.conf and standby.signal. Call it once promotion has finished (pg_promote removes
     * standby.signal itself and fails hard if the file vanished under it) or with the server stopped.
     */
    public static void clearStandbyConfig(NodeContext node) throws IOException {
        PostgresLayout layout = PostgresLayout.of(node);
        Files.deleteIfExists(layout.dataDir().resolve(STANDBY_SIGNAL));
        Files.deleteIfExists(layout.dataDir().resolve(STANDBY_CONF));
    }

    // ---- synchronous replication -------------------------------------------------------------------------

    /**
     * Makes commits wait for {@code standby} (null: for nobody) once PostgreSQL reloads.
     *
     * @return true when the file changed, so a reload is due
     */
    public static boolean writeSynchronousStandby(NodeContext node, String standby) throws IOException {
        PostgresLayout layout = PostgresLayout.of(node);
        Path conf = layout.dataDir().resolve(SYNCHRONOUS_CONF);
        String after = renderSynchronousConf(standby);
        if (Files.exists(conf) && Files.readString(conf).equals(after)) {
            return false;
        }
        PostgresRecipe.writeOwned(conf, after.getBytes(StandardCharsets.UTF_8), layout.user(), "rw-------");
        return true;
    }

    static String renderSynchronousConf(String standby) {
        // a quoted name: node names hold dashes and dots
        String names = standby == null ? "" : "\"" + standby.replace("\"", "\"\"") + "\"";
        return "# Generated by leaderl (synchronous mode): the standby every commit waits for\n"
                + String.join("\n", PostgresqlConf.lines(Map.of("synchronous_standby_names", names))) + "\n";
    }

    /** The standby {@code synchronous_standby_names} names on the server {@code c} is connected to, null when none. */
    public static String synchronousStandby(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("show synchronous_standby_names")) {
            rs.next();
            return parseSynchronousStandby(rs.getString(1));
        }
    }

    /** The first name of a synchronous_standby_names value ({@code "a"}, {@code a}, {@code FIRST 1 (a, b)}). */
    static String parseSynchronousStandby(String value) {
        String v = value == null ? "" : value.strip();
        java.util.regex.Matcher m = java.util.regex.Pattern
                .compile("^(?:(?:FIRST|ANY)\\s+\\d+\\s*\\(|\\d+\\s*\\()?\\s*(\"(?:[^\"]|\"\")*\"|[^,\\s()]+)",
                        java.util.regex.Pattern.CASE_INSENSITIVE)
                .matcher(v);
        if (v.isEmpty() || !m.find()) {
            return null;
        }
        String name = m.group(1);
        return name.startsWith("\"") ? name.substring(1, name.length() - 1).replace("\"\"", "\"") : name;
    }

    /**
     * Waits until the server has applied {@code standby} as its synchronous standby and that standby has flushed
     * everything written before: from then on it holds every acknowledged commit.
     *
     * @return false when the deadline passed first
     */
    public static boolean awaitSynchronousStandby(Connection c, String standby, long deadlineNanos)
            throws SQLException, InterruptedException {
        while (!java.util.Objects.equals(synchronousStandby(c), standby)) {
            if (System.nanoTime() >= deadlineNanos) {
                return false;
            }
            Thread.sleep(50);
        }
        if (standby == null) {
            return true;
        }
        String sql = "select count(*) from pg_stat_replication where application_name = ? and sync_state = 'sync'"
                + " and flush_lsn >= pg_current_wal_lsn()";
        // pg_current_wal_lsn() is read anew each poll, but a flush at or past any later value covers the first
        while (System.nanoTime() < deadlineNanos) {
            try (PreparedStatement st = c.prepareStatement(sql)) {
                st.setString(1, standby);
                try (ResultSet rs = st.executeQuery()) {
                    if (rs.next() && rs.getLong(1) > 0) {
                        return true;
                    }
                }
            }
            Thread.sleep(50);
        }
        return false;
    }

    // ---- base backup -------------------------------------------------------------------------------------------

    /**
     * Copies the leader's cluster into this node's (absent or empty) data directory with pg_basebackup, through
     * the slot, and makes it a standby of the leader. The slot must exist: the caller creates it on the leader
     * ({@link #createSlot}), and writes the unsynced sentinel around the whole sync. The server must be stopped;
     * the recipe's prepare and launch then start it as a streaming standby (prepare sees PG_VERSION and skips
     * initdb). No overall time limit: a large copy takes long; interrupting the calling thread ends it.
     *
     * @param progress receives pg_basebackup's verbose and -P lines ("12345/67890 kB (18%), …") as they come
     */
    public static void baseBackup(NodeContext node, String leaderAddress, int leaderPort, String slot,
            Consumer<String> progress) throws IOException {
        PostgresLayout layout = PostgresLayout.of(node);
        Path data = layout.dataDir();
        if (Files.exists(data, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> entries = Files.list(data)) {
                if (entries.findAny().isPresent()) {
                    throw new ServiceSetupException("postgresql.data_dir " + data
                            + " is not empty; a base backup needs an empty data directory (move it away first)");
                }
            }
        }
        Path pgpass = writePgpass(node);
        ServiceUsers.requireOwnedBy(data, layout.user(), "postgresql.data_dir");
        PostgresRecipe.traversableParents(data);
        ServiceUsers.ownedDirectory(data, layout.user(), "rwx------");

        List<String> command = Commands.asUser(layout.user(), List.of(binDir().resolve("pg_basebackup").toString(),
                "-h", leaderAddress, "-p", String.valueOf(leaderPort),
                "-U", node.settings().string("postgresql.replication_user"), "-D", data.toString(),
                "-X", "stream", "-S", slot, "-c", "fast", "-P", "-v", "--no-password"));
        ProcessBuilder pb = new ProcessBuilder(command).directory(data.getParent().toFile()).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        pb.environment().put("LANG", "C.UTF-8");
        pb.environment().put("PGPASSFILE", pgpass.toString());
        pb.environment().put("PGSSLMODE", "require");
        pb.environment().put("PGCONNECT_TIMEOUT", "10");

        Process p = pb.start();
        p.getOutputStream().close();
        // Read on a thread of its own: a blocked read would not notice an interrupt, waitFor does.
        CompletableFuture<String> output = CompletableFuture.supplyAsync(
                () -> forwardLines(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8), progress), r -> {
            Thread t = new Thread(r, "pg_basebackup output");
            t.setDaemon(true);
            t.start();
        });
        int exit;
        try {
            exit = p.waitFor();
        } catch (InterruptedException e) {
            // the interrupt is the caller's stop request: it must survive a failing clean-up, or the caller's
            // loop runs on after its stop
            Thread.currentThread().interrupt();
            destroyWithChildren(p);
            emptyDirectory(data);
            throw new ServiceSetupException("pg_basebackup from " + leaderAddress + " interrupted");
        }
        String errors = output.join();
        if (exit != 0) {
            emptyDirectory(data); // pg_basebackup cleans up after itself, but not when killed
            throw new ServiceSetupException("pg_basebackup from " + leaderAddress + ":" + leaderPort + " failed (exit "
                    + exit + "): " + (errors == null ? "no output" : errors));
        }
        writeStandbyConfig(node, leaderAddress, leaderPort, slot);
        ServiceUsers.chownTree(data, layout.user());
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
    }

    /**
     * Kills {@code p} and every process it started, and waits (bounded) until they are gone: pg_basebackup -X stream
     * forks a child that streams WAL into pg_wal, and it would go on writing into a directory being emptied.
     */
    static void destroyWithChildren(Process p) {
        List<ProcessHandle> all = new ArrayList<>(p.descendants().toList()); // before the parent dies and they move
        all.add(p.toHandle());
        all.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle h : all) {
            try {
                h.onExit().orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();
            } catch (java.util.concurrent.CompletionException e) {
                // still there after SIGKILL and 10 s: nothing more to do from here
            }
        }
    }

    /**
     * Reads output to its end, handing every non-blank line (split at \r, which -P uses on a terminal, and at \n)
     * to {@code sink}. Returns the error lines joined by "; " (the first names the cause, the last is where
     * pg_basebackup gave up), else the last line, null if there was none.
     */
    static String forwardLines(Reader in, Consumer<String> sink) {
        Reader r = new BufferedReader(in);
        StringBuilder line = new StringBuilder();
        String last = null;
        List<String> errors = new ArrayList<>();
        while (true) {
            int c;
            try {
                c = r.read();
            } catch (IOException e) {
                c = -1; // the process was killed: what was read so far is all there is
            }
            if (c >= 0 && c != '\r' && c != '\n') {
                line.append((char) c);
                continue;
            }
            String text = line.toString().strip();
            line.setLength(0);
            if (!text.isEmpty()) {
                last = text;
                if (text.contains("error:") || text.contains("FATAL:")) {
                    errors.add(text);
                }
                try {
                    sink.accept(text);
                } catch (RuntimeException e) {
                    // progress is advisory; stopping to read would block pg_basebackup on a full pipe
                }
            }
            if (c < 0) {
                return errors.isEmpty() ? last : String.join("; ", errors);
            }
        }
    }

    // ---- status ------------------------------------------------------------------------------------------------

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
        int slash = lsn == null ? -1 : lsn.indexOf('/');
        if (slash < 1 || slash == lsn.length() - 1 || slash > 8 || lsn.length() - slash - 1 > 8
                || !lsn.matches("[0-9A-Fa-f]+/[0-9A-Fa-f]+")) {
            throw new IllegalArgumentException("not an LSN: " + lsn);
        }
        long high = Long.parseLong(lsn.substring(0, slash), 16);
        long low = Long.parseLong(lsn.substring(slash + 1), 16);
        return (high << 32) | low;
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private static String sha256Hex(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JRE has SHA-256
        }
    }

    private static Path binDir() {
        try {
            return Binaries.postgresBinDir();
        } catch (Binaries.MissingBinaryException e) {
            throw new ServiceSetupException(e.getMessage());
        }
    }

    /** Deletes what is inside {@code dir}, keeping the directory (and its owner and mode). */
    public static void emptyDirectory(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(dir)).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
