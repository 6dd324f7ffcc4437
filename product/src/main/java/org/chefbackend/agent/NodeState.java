package org.chefbackend.agent;

import java.nio.file.Files;
import java.nio.file.Path;
import org.chefbackend.config.NodePaths;

/** Files that record a node's standing: sentinels the runbooks name, cluster membership, services held down. */
public final class NodeState {
    /** A fenced former leader must not start PostgreSQL by itself (the failure-recovery guide's name for it). */
    public static final String NO_START_PGSQL = "no-start-pgsql";
    /** What the agent writes into no-start-pgsql when PostgreSQL was a primary at its start. */
    public static final String BOOT_FENCE_NOTE = "PostgreSQL was a primary when the agent started; leaderl decides";
    /** What leaderl writes into no-start-pgsql when its leader stops (node stop, stop leaderl): a clean stop, no fault. */
    public static final String STOP_FENCE_NOTE = "the leader stopped cleanly (chef-backend-ctl stop); leaderl decides";
    /** The reason a PostgreSQL held down by {@link #NO_START_PGSQL} shows in its status. */
    public static final String HELD_BY_NO_START_PGSQL = "held down by the no-start-pgsql sentinel";
    /** A follower's sync is in progress or failed; the node is not eligible for leadership. */
    public static final String UNSYNCED = "unsynced";

    private NodeState() {
    }

    public static Path sentinel(NodePaths paths, String name) {
        return paths.leaderlDataDir().resolve(name);
    }

    public static boolean hasSentinel(NodePaths paths, String name) {
        return Files.exists(sentinel(paths, name));
    }

    /** Written by create-cluster/join-cluster; until it exists leaderl stays down when leaderl.start_down is set. */
    public static Path clusterFile(NodePaths paths) {
        return paths.leaderlDataDir().resolve("cluster.json");
    }

    /** How this node last rejoined a new leader (leaderl writes it, the published status shows it). */
    public static Path lastRejoin(NodePaths paths) {
        return paths.leaderlDataDir().resolve("last-rejoin.json");
    }

    public static boolean inCluster(NodePaths paths) {
        return Files.exists(clusterFile(paths));
    }

    /** Like runit's down file: a service stopped by the operator stays down, across agent restarts, until started. */
    public static Path downMarker(NodePaths paths, String service) {
        return agentDir(paths).resolve("down").resolve(service);
    }

    public static Path agentDir(NodePaths paths) {
        return paths.varDir().resolve("agent");
    }

    /** pid file of a supervised child: "pid startTicks". */
    public static Path pidFile(NodePaths paths, String service) {
        return agentDir(paths).resolve("run").resolve(service + ".pid");
    }

    public static Path agentPidFile(NodePaths paths) {
        return agentDir(paths).resolve("agent.pid");
    }

    /**
     * Where the running agent's HTTP API listens ("http://ADDRESS:PORT"), written at its start: until the agent
     * restarts this holds even when chef-backend.rb names another leaderl.http_address.
     */
    public static Path agentEndpointFile(NodePaths paths) {
        return agentDir(paths).resolve("agent.http");
    }

    /** Held (flock) by the running agent for its whole life: one agent per node root. */
    public static Path agentLockFile(NodePaths paths) {
        return agentDir(paths).resolve("agent.lock");
    }

    /** Key with which the local CLI signs admin calls (root only). */
    public static Path adminKeyFile(NodePaths paths) {
        return agentDir(paths).resolve("admin.key");
    }

    /** The agent's console output: where a start-up failure is explained when it happens before logging is up. */
    public static Path agentConsole(NodePaths paths) {
        return agentDir(paths).resolve("agent.console");
    }
}
