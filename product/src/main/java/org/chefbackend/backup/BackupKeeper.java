package org.chefbackend.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.cluster.ClusterAgent;
import org.chefbackend.cluster.ClusterView;
import org.chefbackend.cluster.Records;
import org.chefbackend.cluster.RemoteAgent;
import org.chefbackend.dcs.ClusterStore;
import org.chefbackend.dcs.LeaseKeeper;
import org.chefbackend.postgres.LocalSession;
import org.chefbackend.postgres.PostgresLayout;
import org.chefbackend.repository.BackupInfo;
import org.chefbackend.repository.PgBackRestFiles;
import org.chefbackend.repository.RepositorySettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's side of continuous archiving (backup.repository set): the leader makes sure the repository has the
 * cluster's stanza (pgBackRest's stanza-create, idempotent; run again at every new leadership, so a restored cluster
 * or a wiped repository archives again), the node chosen by {@link BackupSchedule} takes the scheduled base
 * backups, and every node reports what its archiver does, for {@code status}.
 */
public final class BackupKeeper implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BackupKeeper.class);
    static final Duration TICK = Duration.ofSeconds(10);
    static final Duration INFO_EVERY = Duration.ofMinutes(5);
    /** A scheduled backup gives up after this long (pgBackRest is stopped, and the next tick may try again). */
    static final Duration BACKUP_LIMIT = Duration.ofHours(12);
    /** Statuses older than this are not a node's present (leaderl publishes every few seconds). */
    static final Duration FRESH = Duration.ofSeconds(60);
    static final String LOCK = "locks/backup";
    /** pgBackRest info's status code for a stanza without a backup yet. */
    static final int NO_VALID_BACKUP = 2;

    private final Supplier<NodeContext> node;
    private final BooleanSupplier leads;
    private final LocalSession postgres;
    private final ClusterAgent cluster;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "backup-keeper");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean stanzaReady;
    private volatile String stanzaProblem;
    /** The repository's backups as last read (every {@link #INFO_EVERY}, and after each backup); null before. */
    private volatile BackupInfo info;
    private volatile long infoReadNanos;
    private volatile String scheduleProblem;
    private volatile String running;
    private volatile boolean repositoryReachable = true;
    private volatile long retryAfterNanos = System.nanoTime();
    /** When this node was first seen leading (epoch seconds), 0 while it follows. */
    private volatile long leadingSince;

    public BackupKeeper(Supplier<NodeContext> node, BooleanSupplier leads, LocalSession postgres,
            ClusterAgent cluster) {
        this.node = node;
        this.leads = leads;
        this.postgres = postgres;
        this.cluster = cluster;
    }

    public void start() {
        timer.scheduleWithFixedDelay(this::tick, 1, TICK.toSeconds(), TimeUnit.SECONDS);
    }

    void tick() {
        NodeContext ctx = node.get();
        Optional<RepositorySettings> r = RepositorySettings.of(ctx.settings());
        if (r.isEmpty()) {
            return;
        }
        // here, not in /status: a hung network mount must not hang the agent's API
        repositoryReachable = Files.isDirectory(r.get().directory());
        keepStanza(ctx);
        if (System.nanoTime() < retryAfterNanos) {
            return;
        }
        try {
            schedule(ctx, r.get());
        } catch (IOException | RuntimeException e) {
            scheduleProblem = e.getMessage();
            retryAfterNanos = System.nanoTime() + INFO_EVERY.toNanos(); // not every tick: each try logs and loads
            log.warn("scheduled backup: {}", e.getMessage());
        }
    }

    private long leadingSince() {
        if (!leads.getAsBoolean()) {
            leadingSince = 0;
        } else if (leadingSince == 0) {
            leadingSince = Instant.now().getEpochSecond();
        }
        return leadingSince;
    }

    private void keepStanza(NodeContext ctx) {
        leadingSince();
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

    /**
     * Takes the scheduled backup when one is due and this node is the one to take it (BackupSchedule), holding the
     * cluster's backup lock in etcd meanwhile, so two nodes whose views differ for a moment never back up at once.
     */
    private void schedule(NodeContext ctx, RepositorySettings r) throws IOException {
        if (!cluster.connected() || !stanzaReadyOrFollower()) {
            return;
        }
        if (info == null || System.nanoTime() - infoReadNanos > INFO_EVERY.toNanos()) {
            info = RepositoryReport.info(ctx);
            infoReadNanos = System.nanoTime();
        }
        if (info.status().code() != 0 && info.status().code() != NO_VALID_BACKUP) {
            return; // no stanza yet: the leader makes it first (pgBackRest's status says what else is wrong)
        }
        Instant now = Instant.now();
        Optional<String> type = BackupSchedule.due(now, newest(info, BackupInfo.Type.FULL),
                newest(info, BackupInfo.Type.FULL, BackupInfo.Type.DIFF), Duration.ofHours(r.fullEveryHours()),
                Duration.ofHours(r.diffEveryHours()));
        if (type.isEmpty()) {
            return;
        }
        Optional<Records.Leader> leader = cluster.leader();
        List<BackupSchedule.Candidate> nodes = new ArrayList<>();
        // a follower backs up through the leader's TLS server, which needs the cluster CA: an open cluster's leader
        // backs itself up
        boolean followersCan = ctx.secrets().ca() != null;
        cluster.statuses().values().forEach(st -> nodes.add(new BackupSchedule.Candidate(st.name(), followersCan &&
                st.pgsql().inRecovery() && !ClusterView.STOPPED.equals(st.role())
                        && leader.map(l -> !l.name().equals(st.name())).orElse(true),
                !st.partiallySynced(), now.toEpochMilli() - st.updatedAt() <= FRESH.toMillis())));
        if (!BackupSchedule.taker(leader.map(Records.Leader::name).orElse(null), nodes).equals(
                Optional.of(ctx.nodeName()))) {
            return;
        }
        Optional<RepositoryBackup.Leader> target = Optional.empty();
        if (!leads.getAsBoolean()) {
            Records.Leader l = leader.orElseThrow();
            Records.Member m = cluster.members().get(l.name());
            if (m == null) {
                return;
            }
            target = RemoteAgent.status(m.address(), m.httpPort())
                    .flatMap(st -> RepositoryBackup.Leader.fromStatus(m.address(), st));
            if (target.isEmpty()) {
                throw new IOException("leader " + l.name() + " does not say where its PostgreSQL is (no backup.repository"
                        + " there?)");
            }
        }
        ClusterStore store = cluster.store();
        try (LeaseKeeper lease = LeaseKeeper.start(store, 30, why -> log.warn("backup lock lease lost: {}", why))) {
            if (!store.putIfAbsentWithLease(LOCK, ctx.nodeName(), lease.leaseId())) {
                return; // another node backs up now
            }
            running = type.get();
            long started = System.nanoTime();
            log.info("scheduled {} backup into {} starts", type.get(), r.directory());
            RepositoryBackup.take(ctx, target, type.get(), BACKUP_LIMIT, line -> log.info("pgbackrest: {}", line));
            log.info("scheduled {} backup done in {} s", type.get(), (System.nanoTime() - started) / 1_000_000_000L);
            scheduleProblem = null;
            store.deleteIfLease(LOCK, lease.leaseId());
        } finally {
            running = null;
            info = null; // read again: the new backup, and what retention expired
        }
    }

    private boolean stanzaReadyOrFollower() {
        return stanzaReady || !leads.getAsBoolean();
    }

    /** When the newest valid backup of one of {@code types} finished. */
    static Optional<Instant> newest(BackupInfo info, BackupInfo.Type... types) {
        List<BackupInfo.Type> wanted = List.of(types);
        return info.backups().stream().filter(b -> !b.error() && wanted.contains(b.type()))
                .map(BackupInfo.Backup::stopped).max(Comparator.naturalOrder());
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
        doc.put("repository_reachable", repositoryReachable);
        doc.put("tls_port", r.tlsPort());
        // what a follower backing this node up passes to pgBackRest as the leader's PostgreSQL (pg2-*)
        doc.put("pgbackrest_conf", PgBackRestFiles.of(ctx).conf().toString());
        doc.put("pg_path", layout.dataDir().toString());
        doc.put("pg_socket_path", layout.socketDir().toString());
        doc.put("pg_port", layout.port());
        doc.put("pg_user", ctx.settings().string("postgresql.db_superuser"));
        doc.put("stanza_ready", stanzaReady);
        // as a follower the archiver "failed" at every segment it held: failures before this are not the leader's
        doc.put("leading_since", leadingSince());
        BackupInfo known = info;
        if (known != null) {
            known.newestValid().ifPresent(b -> doc.put("last_backup", Map.of("label", b.label(), "type",
                    b.type().name().toLowerCase(Locale.ROOT), "finished_at", b.stopped().getEpochSecond())));
        }
        if (running != null) {
            doc.put("backup_running", running);
        }
        if (scheduleProblem != null) {
            doc.put("schedule_problem", scheduleProblem);
        }
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
