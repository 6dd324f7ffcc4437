package org.chefbackend.agent;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * How to set up and run one supervised service (postgresql, etcd, elasticsearch). Implementations hold no state
 * and do no supervision: the supervisor calls {@link #prepare} before every start and on reconfigure, then runs
 * {@link #launch}.
 */
public interface ServiceRecipe {
    /** The service's name as the documents and the CLI spell it. */
    String name();

    /**
     * Idempotently makes the service ready to start, as root: creates directories with the right owner and mode,
     * renders configuration files from the settings, and does first-time initialization (e.g. initdb).
     *
     * @return what a running process would need to pick up the changes this call made
     * @throws ServiceSetupException with a one-line message for the operator when the node is not in a state the
     *     service can start from (a data directory owned by someone else, a missing binary…)
     */
    Change prepare(NodeContext node) throws IOException;

    /**
     * Checks, without writing anything, what in the node's settings the service would refuse to start with, so a
     * reconfigure can be refused before anything changes.
     *
     * @throws ServiceSetupException with a one-line message naming the setting
     */
    default void check(NodeContext node) {
    }

    /** The process to run. Called after {@link #prepare}. */
    Launch launch(NodeContext node);

    /** The addresses the service listens on, checked to be free before it first starts. */
    List<InetSocketAddress> listenAddresses(NodeContext node);

    /**
     * The addresses the service's settings claim, for the checks of a configuration change ({@code ConfigChangeCheck}):
     * where it listens, and where the agent listens in its place.
     */
    default List<InetSocketAddress> claimedAddresses(NodeContext node) {
        return listenAddresses(node);
    }

    /** Signal that stops the process cleanly and promptly (PostgreSQL: INT, its fast shutdown). */
    default String stopSignal() {
        return "TERM";
    }

    /** Signal that makes the running process re-read its configuration, or null when only a restart does. */
    default String reloadSignal() {
        return null;
    }
}
