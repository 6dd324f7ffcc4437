package org.chefbackend.leaderl;

import java.util.concurrent.TimeUnit;
import org.chefbackend.config.Settings;

/**
 * The leaderl.* values the decision needs. The health-check thresholds ({@code max_*_failures}) are not here: the
 * shell applies that hysteresis before the verdicts reach {@link Facts}.
 *
 * @param leaderTtlSeconds {@code leaderl.leader_ttl_seconds}: the leader lease's TTL
 * @param requiredActiveFollowers {@code leaderl.required_active_followers}: followers streaming through slots before
 *     {@code /leader} answers 200
 * @param maxBytesBehindLeader {@code leaderl.health_check.max_bytes_behind_leader}
 * @param fatalSystemChecks {@code leaderl.health_check.fatal_system_checks}: failing disk checks disqualify
 * @param synchronousMode {@code leaderl.synchronous_mode}: zero-loss failover (see {@link Decision})
 */
public record HaSettings(long leaderTtlSeconds, int requiredActiveFollowers, long maxBytesBehindLeader,
        boolean fatalSystemChecks, boolean synchronousMode) {

    public static final String SYNCHRONOUS_MODE = "leaderl.synchronous_mode";

    /** The documented defaults. */
    public static final HaSettings DEFAULTS = new HaSettings(30, 0, 52_428_800L, false, false);

    public HaSettings {
        if (leaderTtlSeconds < 1 || requiredActiveFollowers < 0 || maxBytesBehindLeader < 0) {
            throw new IllegalArgumentException("invalid HA settings: " + leaderTtlSeconds + " s TTL, "
                    + requiredActiveFollowers + " followers, " + maxBytesBehindLeader + " bytes");
        }
    }

    public static HaSettings from(Settings s) {
        return new HaSettings(
                s.integer("leaderl.leader_ttl_seconds"),
                s.intValue("leaderl.required_active_followers"),
                s.integer("leaderl.health_check.max_bytes_behind_leader"),
                s.bool("leaderl.health_check.fatal_system_checks"),
                s.bool(SYNCHRONOUS_MODE));
    }

    public long ttlNanos() {
        return TimeUnit.SECONDS.toNanos(leaderTtlSeconds);
    }

    /**
     * A leader fences itself once less than this is left of its lease: a third of the TTL. The lease keeper
     * refreshes every TTL/3, so this is two missed refreshes, and it leaves TTL/3 (10 s at the default TTL) to stop
     * PostgreSQL before anyone else can take the key. The shell must run the loop at least this often while leading.
     */
    public long fenceMarginNanos() {
        return ttlNanos() / 3;
    }

    /**
     * Synchronous mode: a standby whose last reply is older than this has stopped answering, and the leader moves
     * its commits to one that answers (Decision rule 10): half the TTL, so that with a loop iteration and the
     * switch itself commits stall less than a TTL. At least 2 s: a healthy standby replies at least every
     * wal_receiver_status_interval, which PostgresqlConf keeps at most half of this.
     */
    public long syncReplyTimeoutMillis() {
        return Math.max(TimeUnit.SECONDS.toMillis(leaderTtlSeconds) / 2, 2000);
    }

    public HaSettings withSynchronousMode(boolean on) {
        return new HaSettings(leaderTtlSeconds, requiredActiveFollowers, maxBytesBehindLeader, fatalSystemChecks, on);
    }

    public HaSettings withRequiredActiveFollowers(int n) {
        return new HaSettings(leaderTtlSeconds, n, maxBytesBehindLeader, fatalSystemChecks, synchronousMode);
    }

    public HaSettings withFatalSystemChecks(boolean on) {
        return new HaSettings(leaderTtlSeconds, requiredActiveFollowers, maxBytesBehindLeader, on, synchronousMode);
    }

    public HaSettings withMaxBytesBehindLeader(long bytes) {
        return new HaSettings(leaderTtlSeconds, requiredActiveFollowers, bytes, fatalSystemChecks, synchronousMode);
    }
}
