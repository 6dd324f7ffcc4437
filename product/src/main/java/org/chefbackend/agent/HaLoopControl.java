package org.chefbackend.agent;

/**
 * What the supervisor needs of leaderl's HA loop: run it on the leaderl service's thread, and make a leader step
 * down when the service stops. An interface here so that the supervisor does not depend on the leaderl package
 * (which depends on it).
 */
public interface HaLoopControl {
    /** Runs until interrupted. */
    void run();

    /**
     * leaderl stops (stop leaderl, agent shutdown): a leader does not stay one without its loop. {@code nodeStopping}:
     * the whole node stops (chef-backend-ctl stop, the unit stopped), a clean stop that leaderl may undo by itself
     * when nobody has led since; a stopped leaderl alone leaves the node deposed, as the documents describe.
     */
    void stepDown(boolean nodeStopping);
}
