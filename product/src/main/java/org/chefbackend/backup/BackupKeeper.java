package org.chefbackend.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.postgres.LocalSession;
import org.chefbackend.postgres.PostgresLayout;
import org.chefbackend.repository.PgBackRestFiles;
import org.chefbackend.repository.RepositorySettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's side of continuous archiving (backup.repository set): the leader makes sure the repository has the
 * cluster's stanza (pgBackRest's stanza-create, idempotent; run again at every new leadership, so a restored cluster
 * or a wiped repository archives again), and every node reports what its archiver does, for {@code status}.
 */
public final class BackupKeeper implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BackupKeeper.class);
    static final Duration TICK = Duration.ofSeconds(10);

    private final Supplier<NodeContext> node;
    private final BooleanSupplier leads;
    private final LocalSession postgres;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "backup-keeper");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean stanzaReady;
    private volatile String stanzaProblem;

    public BackupKeeper(Supplier<NodeContext> node, BooleanSupplier leads, LocalSession postgres) {
        this.node = node;
        this.leads = leads;
        this.postgres = postgres;
    }

    public void start() {
        timer.scheduleWithFixedDelay(this::tick, 1, TICK.toSeconds(), TimeUnit.SECONDS);
    }

    void tick() {
        NodeContext ctx = node.get();
        if (RepositorySettings.of(ctx.settings()).isEmpty()) {
            return;
        }
        if (!leads.getAsBoolean()) {
            stanzaReady = false; // checked again when this node next leads
            return;
        }
        if (stanzaReady) {
            return;
        }
        try {
            PgBackRest.run(ctx, Duration.ofMinutes(2), List.of("--log-level-console=warn", "stanza-create"),
                    line -> log.info("pgbackrest stanza-create: {}", line));
            stanzaReady = true;
            stanzaProblem = null;
            log.info("the repository has stanza {}: this leader archives WAL to it", RepositorySettings.STANZA);
        } catch (IOException e) {
            stanzaProblem = e.getMessage();
            log.warn("cannot make the repository's stanza: {}", e.getMessage());
        } catch (RuntimeException e) {
            stanzaProblem = e.getMessage();
            log.warn("cannot make the repository's stanza", e);
        }
    }

    /** What {@code /status} says under "backup": where the repository is and how archiving goes on this node. */
    public Map<String, Object> snapshot() {
        NodeContext ctx = node.get();
        Map<String, Object> doc = new LinkedHashMap<>();
        RepositorySettings r = RepositorySettings.of(ctx.settings()).orElse(null);
        if (r == null) {
            return doc;
        }
        PostgresLayout layout = PostgresLayout.of(ctx);
        doc.put("repository", r.directory().toString());
        doc.put("repository_reachable", Files.isDirectory(r.directory()));
        doc.put("tls_port", r.tlsPort());
        // what a follower backing this node up passes to pgBackRest as the leader's PostgreSQL (pg2-*)
        doc.put("pgbackrest_conf", PgBackRestFiles.of(ctx).conf().toString());
        doc.put("pg_path", layout.dataDir().toString());
        doc.put("pg_socket_path", layout.socketDir().toString());
        doc.put("pg_port", layout.port());
        doc.put("pg_user", ctx.settings().string("postgresql.db_superuser"));
        doc.put("stanza_ready", stanzaReady);
        if (stanzaProblem != null) {
            doc.put("stanza_problem", stanzaProblem);
        }
        doc.put("waiting_segments", readyFiles(layout.dataDir().resolve("pg_wal/archive_status")));
        try {
            doc.put("archiver", postgres.use(c -> {
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select archived_count,"
                        + " last_archived_wal, extract(epoch from last_archived_time)::bigint, failed_count,"
                        + " last_failed_wal, extract(epoch from last_failed_time)::bigint, pg_is_in_recovery()"
                        + " from pg_stat_archiver")) {
                    rs.next();
                    Map<String, Object> a = new LinkedHashMap<>();
                    a.put("archived_count", rs.getLong(1));
                    a.put("last_archived_wal", rs.getString(2));
                    a.put("last_archived_at", rs.getObject(3));
                    a.put("failed_count", rs.getLong(4));
                    a.put("last_failed_wal", rs.getString(5));
                    a.put("last_failed_at", rs.getObject(6));
                    a.put("in_recovery", rs.getBoolean(7));
                    return a;
                }
            }));
        } catch (SQLException | RuntimeException e) {
            doc.put("archiver", null); // PostgreSQL is down: the postgresql line says so
        }
        return doc;
    }

    /** Segments PostgreSQL has marked for archiving and not yet seen archived (held, on a follower). */
    static long readyFiles(Path archiveStatus) {
        try (Stream<Path> files = Files.list(archiveStatus)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".ready")).count();
        } catch (IOException e) {
            return -1; // unreadable or absent (no data directory yet)
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
