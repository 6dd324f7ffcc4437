package org.chefbackend.postgres;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.chefbackend.agent.Change;
import org.chefbackend.config.Settings;

/**
 * The postgresql.conf parameters chef-backend.rb controls, translated from the documents' PostgreSQL 9.5 options to
 * PostgreSQL 15: size options given as bare numbers counted 16 MB WAL segments in 9.5, wal_keep_segments became
 * wal_keep_size, wal_level hot_standby/archive became replica, keepalives_* are the tcp_keepalives_* parameters.
 */
public final class PostgresqlConf {
    /** WAL segment size of a default initdb, and of 9.5, in MB. */
    static final long WAL_SEGMENT_MB = 16;

    /**
     * Parameters PostgreSQL 15 reads only at server start (pg_settings.context = 'postmaster'); any other change
     * is picked up by a reload. The ssl_* files are reloadable since PostgreSQL 10.
     */
    static final Set<String> RESTART_PARAMETERS = Set.of(
            "archive_mode", "cluster_name", "config_file", "data_directory", "dynamic_shared_memory_type",
            "hba_file", "hot_standby", "huge_pages", "ident_file", "listen_addresses", "logging_collector",
            "max_connections", "max_files_per_process", "max_locks_per_transaction", "max_logical_replication_workers",
            "max_pred_locks_per_transaction", "max_prepared_transactions", "max_replication_slots",
            "max_wal_senders", "max_worker_processes", "port", "recovery_target_timeline", "shared_buffers",
            "shared_memory_type",
            "shared_preload_libraries", "superuser_reserved_connections", "track_commit_timestamp",
            "unix_socket_directories", "unix_socket_group", "unix_socket_permissions", "wal_buffers", "wal_level",
            "wal_log_hints");

    private PostgresqlConf() {
    }

    /** Parameter name to its postgresql.conf value text, in a stable order. */
    public static Map<String, String> parameters(Settings s) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("port", String.valueOf(s.integer("postgresql.port")));
        p.put("max_connections", String.valueOf(s.integer("postgresql.max_connections")));
        p.put("shared_buffers", quantity(s.get("postgresql.shared_buffers"), "MB"));
        p.put("effective_cache_size", quantity(s.get("postgresql.effective_cache_size"), "MB"));
        p.put("work_mem", quantity(s.get("postgresql.work_mem"), "kB"));
        p.put("tcp_keepalives_count", String.valueOf(s.integer("postgresql.keepalives_count")));
        p.put("tcp_keepalives_idle", String.valueOf(s.integer("postgresql.keepalives_idle")));
        p.put("tcp_keepalives_interval", String.valueOf(s.integer("postgresql.keepalives_interval")));
        p.put("wal_level", walLevel(s.string("postgresql.wal_level")));
        p.put("wal_log_hints", s.string("postgresql.wal_log_hints"));
        p.put("max_wal_senders", String.valueOf(s.integer("postgresql.max_wal_senders")));
        p.put("max_replication_slots", String.valueOf(s.integer("postgresql.max_replication_slots")));
        p.put("wal_keep_size", (s.integer("postgresql.wal_keep_segments") * WAL_SEGMENT_MB) + "MB");
        p.put("max_wal_size", walSize(s.get("postgresql.max_wal_size")));
        p.put("min_wal_size", walSize(s.get("postgresql.min_wal_size")));
        p.put("hot_standby", s.string("postgresql.hot_standby"));
        p.put("checkpoint_timeout", quantity(s.get("postgresql.checkpoint_timeout"), "s"));
        p.put("checkpoint_completion_target", String.valueOf(s.number("postgresql.checkpoint_completion_target")));
        p.put("checkpoint_warning", quantity(s.get("postgresql.checkpoint_warning"), "s"));
        p.put("archive_mode", s.string("postgresql.archive_mode"));
        p.put("archive_command", s.string("postgresql.archive_command"));
        p.put("archive_timeout", quantity(s.get("postgresql.archive_timeout"), "s"));
        p.put("log_checkpoints", s.bool("postgresql.log_checkpoints") ? "on" : "off");
        p.put("log_min_duration_statement", String.valueOf(s.integer("postgresql.log_min_duration_statement")));
        long ttl = s.integer("leaderl.leader_ttl_seconds");
        Object senderTimeout = s.get("postgresql.wal_sender_timeout");
        p.put("wal_sender_timeout", senderTimeout == null ? ttl + "s" : quantity(senderTimeout, "ms"));
        p.put("wal_receiver_status_interval", walReceiverStatusIntervalSeconds(ttl) + "s");
        return p;
    }

    /**
     * How often a standby replies to its leader when nothing else makes it: a tenth of the leader TTL, 1 to 10 s
     * (PostgreSQL's default is 10 s). In synchronous mode the leader takes a synchronous standby whose last reply is
     * older than half the TTL (at least 2 s; HaSettings.syncReplyTimeoutMillis) for one that stopped answering, so a
     * healthy standby's reply, even on an idle leader, is always less than half that old.
     */
    public static long walReceiverStatusIntervalSeconds(long leaderTtlSeconds) {
        return Math.max(1, Math.min(10, leaderTtlSeconds / 10));
    }

    /** The lines of postgresql.conf for these parameters, strings quoted as PostgreSQL requires. */
    public static List<String> lines(Map<String, String> parameters) {
        List<String> lines = new ArrayList<>();
        parameters.forEach((name, value) -> lines.add(name + " = " + quote(value)));
        return lines;
    }

    static String quote(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    /** 9.5 counted max_wal_size/min_wal_size in 16 MB segments; 15 counts MB. A string with a unit passes. */
    static String walSize(Object value) {
        if (value instanceof Long segments) {
            return (segments * WAL_SEGMENT_MB) + "MB";
        }
        return String.valueOf(value);
    }

    /** A bare number is in the parameter's base unit; PostgreSQL wants it spelled out only for clarity. */
    static String quantity(Object value, String baseUnit) {
        if (value instanceof Long n) {
            return n + baseUnit;
        }
        return String.valueOf(value);
    }

    static String walLevel(String level) {
        return switch (level) {
            case "hot_standby", "archive" -> "replica";
            default -> level;
        };
    }

    /**
     * Reads the parameters of a postgresql.conf: {@code name = value} lines, values quoted or bare, comments
     * dropped. Enough for the files we render and for initdb's; include directives are not followed.
     */
    public static Map<String, String> parse(String text) {
        Map<String, String> parameters = new LinkedHashMap<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int end = 0;
            while (end < line.length() && line.charAt(end) != '=' && !Character.isWhitespace(line.charAt(end))) {
                end++;
            }
            if (end == 0 || end == line.length()) {
                continue;
            }
            String name = line.substring(0, end).toLowerCase(Locale.ROOT);
            String rest = line.substring(end).strip();
            if (rest.startsWith("=")) {
                rest = rest.substring(1).strip();
            }
            parameters.put(name, value(rest));
        }
        return parameters;
    }

    private static String value(String rest) {
        if (!rest.startsWith("'")) {
            int comment = rest.indexOf('#');
            return (comment < 0 ? rest : rest.substring(0, comment)).strip();
        }
        StringBuilder v = new StringBuilder();
        for (int i = 1; i < rest.length(); i++) {
            char c = rest.charAt(i);
            if (c == '\\' && i + 1 < rest.length()) {
                v.append(rest.charAt(++i));
            } else if (c == '\'' && i + 1 < rest.length() && rest.charAt(i + 1) == '\'') {
                v.append('\'');
                i++;
            } else if (c == '\'') {
                break;
            } else {
                v.append(c);
            }
        }
        return v.toString();
    }

    /** What a running server needs to pick up the step from {@code before} to {@code after}. */
    public static Change changeBetween(Map<String, String> before, Map<String, String> after) {
        Set<String> names = new TreeSet<>(before.keySet());
        names.addAll(after.keySet());
        Change change = Change.NONE;
        for (String name : names) {
            if (!Objects.equals(before.get(name), after.get(name))) {
                change = change.and(RESTART_PARAMETERS.contains(name) ? Change.RESTART : Change.RELOAD);
            }
        }
        return change;
    }
}
