package org.chefbackend.agent;

/** Something the supervisor keeps running: a child process, or leaderl's loop inside the agent. */
interface Supervised {
    String name();

    ServiceStatus status();

    /** Wants it up; starts it now if it may run. */
    void start();

    /** Wants it down; stops it and waits until it has stopped. */
    void stop();

    /** One reconciliation step: (re)start it if it is wanted up, down, allowed, and its back-off has passed. */
    void tick(long nowMillis);

    /** Stops it (for a restart, or when reconfigure disables it) without recording that the operator wants it down. */
    void shutdown();

    /** The agent exits: stops it, and nothing starts it again in this agent. */
    default void close() {
        shutdown();
    }
}
