package org.chefbackend.agent;

/**
 * One service as the supervisor sees it, for {@code status}, {@code service-list} and the HTTP API.
 *
 * @param name service name
 * @param enabled {@code <service>.enable}
 * @param running whether its process (or, for leaderl, its loop) runs
 * @param pid the process id, or 0 when down
 * @param sinceMillis when it entered its current state (epoch ms)
 * @param wantUp whether the supervisor is trying to keep it running
 * @param normallyUp whether it runs by default (runit: no down file)
 * @param reason why it is down when it should not be, or null
 * @param restarts how often it was restarted after dying
 */
public record ServiceStatus(String name, boolean enabled, boolean running, long pid, long sinceMillis,
        boolean wantUp, boolean normallyUp, String reason, int restarts) {
}
