package org.chefbackend.config;

import static org.chefbackend.config.SettingType.bool;
import static org.chefbackend.config.SettingType.environment;
import static org.chefbackend.config.SettingType.integer;
import static org.chefbackend.config.SettingType.matching;
import static org.chefbackend.config.SettingType.nullable;
import static org.chefbackend.config.SettingType.number;
import static org.chefbackend.config.SettingType.onOff;
import static org.chefbackend.config.SettingType.oneOf;
import static org.chefbackend.config.SettingType.path;
import static org.chefbackend.config.SettingType.pgQuantity;
import static org.chefbackend.config.SettingType.port;
import static org.chefbackend.config.SettingType.string;
import static org.chefbackend.config.SettingType.stringList;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Every chef-backend.rb option Chef's documentation lists (its chef-backend.rb settings page and the HA install
 * page), with its type and documented default. PostgreSQL 9.5-era options keep their documented names and values;
 * the PostgreSQL 15 translation happens where postgresql.conf is rendered.
 */
public final class SettingsSchema {
    /** PostgreSQL major version the product runs; part of the default data and log paths. */
    public static final int POSTGRESQL_MAJOR = 15;

    /** The services every node runs, in the order the documents list their runit flags. */
    public static final List<String> SERVICES = List.of("postgresql", "etcd", "elasticsearch", "leaderl");

    private static final long MAX_INT = Integer.MAX_VALUE;
    private static final Pattern HOSTNAME = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");
    private static final Pattern IP_ADDRESS = Pattern.compile(
            "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
                    + "|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*");
    private static final Pattern PG_IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    private static final Pattern UNIX_NAME = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
    /** pg_hba.conf address field: a keyword, a host name, an IP address with a CIDR mask. */
    private static final Pattern HBA_ADDRESS = Pattern.compile(
            "samehost|samenet|all|[a-zA-Z0-9.][a-zA-Z0-9.-]*|[0-9.]+/[0-9]{1,2}|[0-9A-Fa-f:.]+/[0-9]{1,3}");

    private static final SettingsSchema INSTANCE = new SettingsSchema();

    private final Map<String, SettingDefinition> byKey = new LinkedHashMap<>();
    private final Map<String, String> aliases = new LinkedHashMap<>();

    public static SettingsSchema get() {
        return INSTANCE;
    }

    private SettingsSchema() {
        topLevel();
        for (String service : SERVICES) {
            runitFlags(service);
        }
        runitFlags("pgbackrest"); // run only with backup.repository set
        postgresql();
        etcd();
        elasticsearch();
        leaderl();
        ssl();
        backup();
    }

    public List<SettingDefinition> definitions() {
        return List.copyOf(byKey.values());
    }

    public Optional<SettingDefinition> find(String key) {
        return Optional.ofNullable(byKey.get(aliases.getOrDefault(key, key)));
    }

    /** Old spellings the documents show (the sample of gen-sample-backend-config still prints some). */
    public Map<String, String> aliases() {
        return Collections.unmodifiableMap(aliases);
    }

    /** True when {@code key} is a prefix of options ("postgresql", "leaderl.health_check"), not an option. */
    public boolean isSection(String key) {
        String prefix = key + ".";
        return byKey.keySet().stream().anyMatch(k -> k.startsWith(prefix));
    }

    public List<String> keys() {
        List<String> keys = new ArrayList<>(byKey.keySet());
        keys.addAll(aliases.keySet());
        return keys;
    }

    // ---- the catalog -------------------------------------------------------------------------------------------

    private void topLevel() {
        add("fqdn", matching("a lower-case host name", HOSTNAME), MachineFacts::hostname, true,
                "Host name of this node (lower case). Defaults to this machine's host name; nodes sharing one"
                        + " machine must each set their own.");
        add("hide_sensitive", bool(), true,
                "Set to false to print changes of files holding secrets during reconfigure.");
        add("ip_version", oneOf("ipv4", "ipv6"), "ipv4", "Set to either 'ipv4' or 'ipv6'.");
        add("publish_address", nullable(matching("an IP address", IP_ADDRESS)), null,
                "Externally reachable IP address of this backend node; every service listens on it."
                        + " Required by create-cluster and join-cluster.");
        legacy("vip", nullable(string()), null, "Floating virtual IP of chef-backend 0.x/1.0.",
                "Accepted so old files load; frontends now reach the leader through HAProxy, no VIP is bound.");
        legacy("vip_interface", nullable(string()), null, "Interface the legacy VIP was bound to.",
                "Accepted so old files load; no VIP is bound.");
    }

    private void runitFlags(String service) {
        add(service + ".enable", bool(), true, "Set up and run this service.");
        add(service + ".environment", environment(), Map.of(),
                "Environment variables (a hash) given to the service's process.");
        String logDir = service.equals("postgresql")
                ? "/var/log/chef-backend/postgresql/" + POSTGRESQL_MAJOR
                : "/var/log/chef-backend/" + service;
        add(service + ".log_directory", path(), logDir,
                "Directory of the service's log; the live file is 'current'."
                        + (service.equals("elasticsearch") ? " Also OpenSearch's path.logs." : ""));
        add(service + ".log_rotation.file_maxbytes", integer(1024, Long.MAX_VALUE), 104857600L,
                "Size in bytes at which the log file is rotated.");
        add(service + ".log_rotation.num_to_keep", integer(1, 1000), 10L,
                "Number of rotated log files kept.");
    }

    private void postgresql() {
        add("postgresql.db_superuser", matching("a PostgreSQL role name", PG_IDENTIFIER), "chef_pgsql",
                "Superuser account to create; its password is in chef-backend-secrets.json.");
        add("postgresql.md5_auth_cidr_addresses",
                stringList("pg_hba.conf addresses (samehost, samenet, all, a host name or a CIDR)", HBA_ADDRESS), List.of("samehost", "samenet"),
                "Addresses allowed to connect with a password: 'samehost', 'samenet', 'all', a host name or a"
                        + " CIDR. Each entry gives two pg_hba.conf lines (host all all, hostssl replication); the"
                        + " list replaces the defaults, so keep samehost and samenet. Identical on every node.");
        add("postgresql.replication_user", matching("a PostgreSQL role name", PG_IDENTIFIER), "replicator",
                "Role followers use for streaming replication.");
        add("postgresql.username", matching("a user name", UNIX_NAME), "chef_pgsql",
                "Operating-system user PostgreSQL runs as.");
        add("postgresql.data_dir", path(), "/var/opt/chef-backend/postgresql/" + POSTGRESQL_MAJOR + "/data",
                "PostgreSQL data directory.");
        add("postgresql.port", port(), 5432L, "Port PostgreSQL listens on (on publish_address).");
        add("postgresql.archive_command", string(), "", "postgresql.conf archive_command.");
        add("postgresql.archive_mode", oneOf("on", "off", "always"), "off", "postgresql.conf archive_mode.");
        add("postgresql.archive_timeout", pgQuantity(), 0L, "postgresql.conf archive_timeout.");
        add("postgresql.checkpoint_completion_target", number(0.0, 1.0), 0.5,
                "postgresql.conf checkpoint_completion_target.");
        add("postgresql.checkpoint_timeout", pgQuantity(), "5min", "postgresql.conf checkpoint_timeout.");
        add("postgresql.checkpoint_warning", pgQuantity(), "30s", "postgresql.conf checkpoint_warning.");
        add("postgresql.effective_cache_size", pgQuantity(), m -> (m.memTotalMb() / 2) + "MB", true,
                "postgresql.conf effective_cache_size. Computed: half of the machine's memory.");
        add("postgresql.hot_standby", onOff(), "on", "postgresql.conf hot_standby.");
        add("postgresql.keepalives_count", integer(0, MAX_INT), 2L, "postgresql.conf tcp_keepalives_count.");
        add("postgresql.keepalives_idle", integer(0, MAX_INT), 60L, "postgresql.conf tcp_keepalives_idle.");
        add("postgresql.keepalives_interval", integer(0, MAX_INT), 15L, "postgresql.conf tcp_keepalives_interval.");
        add("postgresql.log_checkpoints", bool(), true, "postgresql.conf log_checkpoints.");
        add("postgresql.log_min_duration_statement", integer(-1, MAX_INT), -1L,
                "postgresql.conf log_min_duration_statement (milliseconds, -1 disables).");
        add("postgresql.max_connections", integer(1, 262143), 350L, "postgresql.conf max_connections.");
        add("postgresql.max_replication_slots", integer(0, 262143), 12L, "postgresql.conf max_replication_slots.");
        add("postgresql.max_wal_senders", integer(0, 262143), 12L, "postgresql.conf max_wal_senders.");
        add("postgresql.max_wal_size", pgQuantity(), 64L,
                "postgresql.conf max_wal_size. A bare number counts 16 MB WAL segments, as in PostgreSQL 9.5"
                        + " (64 = 1024MB); a string with a unit is passed as is.");
        add("postgresql.min_wal_size", pgQuantity(), 5L,
                "postgresql.conf min_wal_size. A bare number counts 16 MB WAL segments (5 = 80MB).");
        add("postgresql.shared_buffers", pgQuantity(), m -> (m.memTotalMb() / 4) + "MB", true,
                "postgresql.conf shared_buffers. Computed: a quarter of the machine's memory.");
        add("postgresql.wal_sender_timeout", nullable(pgQuantity()), null,
                "postgresql.conf wal_sender_timeout (a bare number counts milliseconds): a standby silent this long is"
                        + " disconnected. nil (the default) renders leaderl.leader_ttl_seconds. In synchronous mode"
                        + " the leader stops waiting for a standby silent for half the TTL whatever this says.");
        add("postgresql.wal_keep_segments", integer(0, MAX_INT), 32L,
                "WAL segments kept for followers; rendered for PostgreSQL 15 as wal_keep_size (32 = 512MB).");
        add("postgresql.wal_level", oneOf("hot_standby", "replica", "archive", "logical"), "hot_standby",
                "postgresql.conf wal_level; 9.5's 'hot_standby' and 'archive' are rendered as 'replica'.");
        add("postgresql.wal_log_hints", onOff(), "on", "postgresql.conf wal_log_hints (pg_rewind needs it).");
        add("postgresql.work_mem", pgQuantity(), "8MB", "postgresql.conf work_mem.");
    }

    private void etcd() {
        add("etcd.client_port", port(), 2379L, "Port Chef Server frontends read the etcd members from (GET"
                + " /v2/members, plain HTTP): etcd's client port in an open cluster; in a closed one the agent answers"
                + " that read there and etcd listens on etcd.secure_client_port.");
        add("etcd.secure_client_port", port(), 2378L, "etcd's client port in a closed cluster: HTTPS with a client"
                + " certificate from the cluster CA required (docs/SECURITY.md).");
        add("etcd.peer_port", port(), 2380L, "Port for etcd's peer URLs (ETCD_LISTEN/ADVERTISE_PEER_URLS).");
        add("etcd.heartbeat_interval", integer(1, 60000), 500L,
                "ETCD_HEARTBEAT_INTERVAL in milliseconds: how often the etcd leader sends heartbeats.");
        add("etcd.election_timeout", integer(1, 50000), 5000L,
                "ETCD_ELECTION_TIMEOUT in milliseconds; 5 to 10 times heartbeat_interval.");
        add("etcd.snapshot_count", integer(1, Long.MAX_VALUE), 5000L,
                "ETCD_SNAPSHOT_COUNT: committed transactions that trigger a snapshot to disk.");
        add("etcd.ionice.class", integer(0, 3), 2L,
                "ionice scheduling class for etcd (1 = real-time, for shared or slow disks).");
        add("etcd.ionice.level", integer(0, 7), 0L, "ionice priority level within the class.");
        add("etcd.data_dir", path(), "/var/opt/chef-backend/etcd/data", "etcd data directory.");
    }

    private void elasticsearch() {
        add("elasticsearch.heap_size", integer(64, 32L * 1024), m -> Math.max(256L, Math.min(m.memTotalMb() / 3, 31L * 1024)),
                true, "Search engine JVM heap in MB. Computed: a third of the machine's memory, at most 31 GB"
                        + " (compressed object pointers); pin it when several nodes share a machine.");
        add("elasticsearch.java_opts", string(), "",
                "Flags passed to the search engine's JVM; a heap flag here takes precedence over heap_size.");
        add("elasticsearch.jvm_opts", stringList(), List.of(),
                "The same as java_opts as an array (later chef-backend spelling); both are passed.");
        add("elasticsearch.new_size", nullable(integer(1, 32L * 1024)), null, "Java heap's new generation size in MB.");
        add("elasticsearch.data_dir", path(), "/var/opt/chef-backend/elasticsearch/data", "Sets path.data.");
        add("elasticsearch.plugins_directory", path(), "/var/opt/chef-backend/elasticsearch/plugins",
                "Directory for additional plugins.");
        add("elasticsearch.scripts_directory", path(), "/var/opt/chef-backend/elasticsearch/scripts",
                "Sets path.scripts in Elasticsearch 2/5.");
        add("elasticsearch.temp_directory", path(), "/var/opt/chef-backend/elasticsearch/tmp",
                "JVM temporary directory of the search engine.");
        add("elasticsearch.port", port(), 9200L, "Sets http.port.");
    }

    private void leaderl() {
        add("leaderl.start_down", bool(), true,
                "Keep leaderl down until the node is part of a cluster (runit's down file).");
        add("leaderl.log_rotation.max_messages_per_second", integer(1, MAX_INT), 1000L,
                "Rate limit of leaderl's log messages.");
        add("leaderl.db_timeout", integer(1, MAX_INT), 2000L, "Socket timeout of PostgreSQL connections in ms.");
        add("leaderl.http_acceptors", integer(1, 1000), 10L,
                "Threads that run the HTTP API's slower requests (/status, /position, /cluster, admin calls) at once."
                        + " HAProxy's /leader and reading requests take none: one selector thread reads every connection"
                        + " and answers /leader, so slow clients hold no thread and cannot delay it.");
        add("leaderl.http_address", nullable(matching("an IP address", IP_ADDRESS)), null,
                "Address leaderl's HTTP API listens on. nil means publish_address (the original default"
                        + " 0.0.0.0 would clash when several nodes share a machine). Never 127.0.0.1.");
        add("leaderl.http_port", port(), 7331L, "Port of leaderl's HTTP API (HAProxy checks GET /leader).");
        add("leaderl.leader_ttl_seconds", integer(1, 3600), 30L,
                "Seconds until the leader key expires when its holder stops refreshing it.");
        add("leaderl.synchronous_mode", bool(), false,
                "Zero-loss failover (not in the original): commits wait for one standby (PostgreSQL synchronous"
                        + " replication) and only that standby, recorded in etcd, may be elected automatically. With"
                        + " no standby streaming, the leader first records that none may be elected, then lets"
                        + " commits go on without waiting; only an operator's promote then makes a new leader.");
        add("leaderl.required_active_followers", integer(0, 100), 0L,
                "Followers that must stream through a replication slot before the leader answers 200 on /leader.");
        add("leaderl.runsv_group", matching("a group name", UNIX_NAME), "chef_pgsql",
                "Group that owns files holding passwords. For tests only.");
        add("leaderl.status_internal_update_interval_seconds", integer(1, 3600), 5L,
                "How often leaderl re-reads its own status.");
        add("leaderl.status_post_update_interval_seconds", integer(1, 3600), 10L,
                "How often leaderl publishes its status to etcd.");
        add("leaderl.username", matching("a user name", UNIX_NAME), "chef_pgsql", "User leaderl runs as.");
        add("leaderl.control_worker_timeout_seconds", integer(1, 3600), 30L,
                "Time limit of one control action (promote, follow).");
        legacy("leaderl.epmd_monitor.check_interval", integer(1, MAX_INT), 60000L,
                "How often (ms) leaderl checked its registration with epmd.",
                "Accepted so old files load; there is no Erlang and no epmd here.");
        legacy("leaderl.etcd_pool.ibrowse_options", string(), "{inactivity_timeout, infinity}",
                "Options of the Erlang HTTP client used for etcd.",
                "Accepted so old files load; the agent talks to etcd through etcd's JSON gateway with the JDK's"
                        + " HTTP client.");
        add("leaderl.etcd_pool.cull_interval_seconds", integer(1, MAX_INT), 60L,
                "How often idle etcd connections are culled.");
        add("leaderl.etcd_pool.http_timeout_ms", integer(1, MAX_INT), 5000L, "Time limit of one etcd request in ms.");
        add("leaderl.etcd_pool.init_count", integer(0, 1000), 10L, "etcd connections opened at start.");
        add("leaderl.etcd_pool.max_age_seconds", integer(1, MAX_INT), 60L, "Idle time after which an etcd connection is closed.");
        add("leaderl.etcd_pool.max_connection_duration_seconds", integer(1, MAX_INT), 300L,
                "Time after which an etcd connection is replaced.");
        add("leaderl.etcd_pool.max_count", integer(1, 1000), 10L, "Maximum etcd connections.");
        add("leaderl.health_check.interval_seconds", integer(1, 3600), 5L, "Seconds between health checks.");
        alias("leaderl.health_check_interval_seconds", "leaderl.health_check.interval_seconds");
        add("leaderl.health_check.max_bytes_behind_leader", integer(0, Long.MAX_VALUE), 52428800L,
                "A follower further behind the leader than this (bytes) is not eligible for leadership.");
        add("leaderl.health_check.max_elasticsearch_failures", integer(1, 1000), 5L,
                "Consecutive search engine check failures before the check counts as failed.");
        add("leaderl.health_check.max_etcd_failures", integer(1, 1000), 5L,
                "Consecutive etcd check failures before the check counts as failed.");
        add("leaderl.health_check.max_pgsql_failures", integer(1, 1000), 5L,
                "Consecutive PostgreSQL check failures before the check counts as failed.");
        add("leaderl.health_check.fatal_system_checks", bool(), false,
                "Whether failing system checks (disk space) make the node ineligible for leadership.");
        add("leaderl.health_check.disk_paths", stringList(), List.of("/var/log/chef-backend", "/var/opt/chef-backend"),
                "Paths checked for free disk space.");
        add("leaderl.health_check.disk_min_space_mb", integer(0, Long.MAX_VALUE), 250L,
                "Free space (MB) each disk path needs for the disk check to pass.");
    }

    private void ssl() {
        add("ssl.certificate", nullable(path()), null,
                "Path of a pre-generated certificate for PostgreSQL's TLS; nil generates one.");
        add("ssl.certificate_key", nullable(path()), null, "Path of the pre-generated certificate's key.");
        add("ssl.ciphers", string(),
                "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:"
                        + "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                        + "!aNULL:!eNULL:!MD5",
                "Ordered list of allowed TLS ciphers (OpenSSL syntax).");
        add("ssl.company_name", string(), "YouCorp", "Organization of the generated certificate.");
        add("ssl.country_name", matching("a two-letter country code", Pattern.compile("[A-Z]{2}")), "US",
                "Country of the generated certificate.");
        add("ssl.data_dir", path(), "/var/opt/chef-backend/ssl/", "Where certificates are stored.");
        add("ssl.duration", integer(1, 36500), 3650L, "Validity of the generated certificate in days.");
        add("ssl.key_length", integer(2048, 16384), 2048L, "RSA key length of the generated certificate.");
        add("ssl.organizational_unit_name", string(), "Operations",
                "Organizational unit of the generated certificate.");
    }

    /**
     * Continuous WAL archiving and point-in-time restore (not in the original): off until backup.repository names a
     * directory. pgBackRest does the archiving and the backups; these are its options, named for this product.
     */
    private void backup() {
        add("backup.repository", nullable(path()), null,
                "Directory of the pgBackRest repository every node archives WAL and writes base backups to (e.g. a"
                        + " mount all nodes share), used exactly as written, not under the node root. nil (the"
                        + " default): no archiving, as in the documents.");
        add("backup.archive_timeout", integer(1, 86400), 60L,
                "Seconds after which the leader switches to a new WAL segment so a quiet cluster's last writes reach"
                        + " the repository: the recovery point of a disaster that takes every node."
                        + " postgresql.archive_timeout, when set, wins.");
        add("backup.full_every_hours", integer(0, 87600), 168L,
                "Hours between scheduled full base backups, taken on a follower; 0 takes none.");
        add("backup.diff_every_hours", integer(0, 87600), 24L,
                "Hours between scheduled differential backups (only what changed since the last full); 0 takes none.");
        add("backup.retention_full", integer(1, 9999), 2L,
                "Full backups kept; older ones, their differentials and the WAL only they need are expired.");
        add("backup.encryption", bool(), false,
                "Encrypt the repository (AES-256-CBC) with a passphrase derived from the cluster's secrets: restore"
                        + " needs the secrets file, the repository holds no key.");
        add("backup.archive_queue_max_mb", integer(64, 16L * 1024 * 1024), 4096L,
                "WAL waiting for the repository beyond this many MB is given up (pgBackRest's"
                        + " archive-push-queue-max): archiving then has a gap until the next full backup, but PostgreSQL's"
                        + " disk does not fill and the leader keeps taking writes.");
        add("backup.tls_port", port(), 8432L,
                "Port of this node's pgBackRest TLS server (on publish_address), through which a follower takes base"
                        + " backups of the leader; only the cluster's nodes (certificates from the cluster CA) get in.");
    }

    // ---- builder -----------------------------------------------------------------------------------------------

    private void add(String key, SettingType type, Object constant, String description) {
        put(new SettingDefinition(key, type, m -> constant, false, description, null));
    }

    private void add(String key, SettingType type, Function<MachineFacts, Object> computed, boolean isComputed,
            String description) {
        put(new SettingDefinition(key, type, computed, isComputed, description, null));
    }

    private void legacy(String key, SettingType type, Object constant, String description, String note) {
        put(new SettingDefinition(key, type, m -> constant, false, description, note));
    }

    private void alias(String oldKey, String key) {
        aliases.put(oldKey, key);
    }

    private void put(SettingDefinition definition) {
        if (byKey.putIfAbsent(definition.key(), definition) != null) {
            throw new IllegalStateException("duplicate setting " + definition.key());
        }
    }
}
