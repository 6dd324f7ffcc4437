package org.chefbackend.agent;

/** What preparing a service's configuration found: whether the running process must reload or restart. */
public enum Change {
    NONE,
    RELOAD,
    RESTART;

    /** The stronger of two changes. */
    public Change and(Change other) {
        return compareTo(other) >= 0 ? this : other;
    }
}
