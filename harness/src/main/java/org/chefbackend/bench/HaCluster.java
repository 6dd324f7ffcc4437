package org.chefbackend.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * A 3-node HA PostgreSQL cluster with HAProxy in front, as the benchmarks drive it: chef-backend or Patroni, on the
 * same PostgreSQL 15, etcd and HAProxy, with the same crash definition (kill -9 of every process of a host).
 */
public interface HaCluster extends AutoCloseable {
    /** "chef-backend" or "Patroni". */
    String system();

    List<String> addresses();

    /** HAProxy's address (port 5432). */
    String proxy();

    String superuser();

    String password();

    /** Builds the cluster from nothing and returns once it is healthy (or throws after a bounded wait). */
    void coldStart() throws Exception;

    /** One leader, two followers streaming from it and eligible to take over. */
    boolean healthy();

    /** Index of the node whose health endpoint answers 200 (HAProxy's view of "leader"), -1 when none. */
    int leader();

    /** Node name as the system's CLI takes it (promote NODE / switchover --candidate NAME). */
    String nodeName(int i);

    /**
     * The body of a 200 answer of host i's etcd member to GET {@code path} ("/health", "/v2/stats/self"), reached as
     * the system's own clients reach it; null otherwise.
     */
    String etcdGet(int i, String path);

    /** Every process of host i (its etcd member, agent, PostgreSQL and everything they started). */
    List<Long> hostProcesses(int i);

    /** Starts host i again after a crash (data kept); it rejoins by itself. */
    void restartHost(int i) throws Exception;

    /** A mark taken just before host i is started again, from which {@link #rejoinPath} reads what it says. */
    long rejoinMark(int i);

    /**
     * How host i says it rejoined a leader since {@code mark}: "rewind", "none" (it followed as it was) or
     * "basebackup"; null when it has said nothing (yet). Asked once it streams.
     */
    String rejoinPath(int i, long mark);

    /** Graceful switchover to node i, through the system's CLI. */
    Procs.Result switchover(int candidate);

    /** The system's status command (chef-backend-ctl status / patronictl list), run on node 0. */
    Procs.Result statusCommand();

    /** The HA agent's own processes on node i (JVM + watchdog / patroni python), not the services it runs. */
    List<Long> agentProcesses(int i);

    /** Stops node i, removes its data and joins it again as a new member; returns when healthy. */
    void rejoinFromScratch(int i) throws Exception;

    /** The replication role and password for a bare pg_basebackup from the leader. */
    String replicationUser();

    String replicationPassword();

    @Override
    void close();

    default boolean waitHealthy(Duration limit) {
        return Procs.waitUntil(limit, this::healthy);
    }

    default Connection connect(String host, int connectTimeoutSeconds, int socketTimeoutSeconds) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", superuser());
        p.setProperty("password", password());
        p.setProperty("connectTimeout", String.valueOf(connectTimeoutSeconds));
        p.setProperty("loginTimeout", String.valueOf(connectTimeoutSeconds + 1));
        p.setProperty("socketTimeout", String.valueOf(socketTimeoutSeconds));
        p.setProperty("tcpKeepAlive", "true");
        p.setProperty("sslmode", "disable"); // the same for both: chef-backend's PostgreSQL offers TLS, Patroni's does not
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":5432/postgres", p);
    }

    /** Followers streaming from the leader, as the leader's pg_stat_replication shows them; -1 when unknown. */
    default int streaming(String host) {
        try (Connection c = connect(host, 2, 5); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select count(*) from pg_stat_replication where state = 'streaming'")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            return -1;
        }
    }
}
