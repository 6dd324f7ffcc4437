package org.chefbackend.leaderl;

import static org.chefbackend.leaderl.State.DEPOSED_LEADER;
import static org.chefbackend.leaderl.State.FOLLOWER;
import static org.chefbackend.leaderl.State.INITIALIZING;
import static org.chefbackend.leaderl.State.LEADER;
import static org.chefbackend.leaderl.State.PROMOTING;
import static org.chefbackend.leaderl.State.WAITING_FOR_LEADER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.Settings;
import org.chefbackend.leaderl.Action.AcquireLeaderKey;
import org.chefbackend.leaderl.Action.BaseBackupFrom;
import org.chefbackend.leaderl.Action.ClearIntent;
import org.chefbackend.leaderl.Action.ClearNoStartPgsql;
import org.chefbackend.leaderl.Action.FencePostgres;
import org.chefbackend.leaderl.Action.FollowLeader;
import org.chefbackend.leaderl.Action.PromotePostgres;
import org.chefbackend.leaderl.Action.RecordHistory;
import org.chefbackend.leaderl.Action.RecordSynchronousStandby;
import org.chefbackend.leaderl.Action.RefreshLease;
import org.chefbackend.leaderl.Action.ReleaseLeaderKey;
import org.chefbackend.leaderl.Action.RewindFrom;
import org.chefbackend.leaderl.Action.SetSynchronousStandby;
import org.chefbackend.leaderl.Action.StartPostgres;
import org.chefbackend.leaderl.Action.StopAcceptingWrites;
import org.chefbackend.leaderl.Facts.FollowTrouble;
import org.chefbackend.leaderl.Intent.Kind;
import org.chefbackend.postgres.PostgresqlConf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The decision table: each row is a named scenario (facts and settings in; state, actions in order, and the
 * {@code /leader} answer out), in the style of Stolon's TestUpdateCluster. Rows build on three typical nodes
 * (a candidate with no leader, a steady leader, a streaming follower) and say only what differs.
 */
class DecisionTest {
    static final long NOW = 1_000_000_000_000L;
    static final long MB = 1L << 20;
    static final HaSettings DEF = HaSettings.DEFAULTS;
    static final HaSettings SYNC = DEF.withSynchronousMode(true);

    static final Action ACQUIRE = new AcquireLeaderKey();
    static final Action REFRESH = new RefreshLease();
    static final Action RELEASE = new ReleaseLeaderKey();
    static final Action PROMOTE = new PromotePostgres();
    static final Action FENCE = new FencePostgres();
    static final Action STOP_WRITES = new StopAcceptingWrites();
    static final Action START = new StartPostgres();
    static final Action CLEAR_NO_START = new ClearNoStartPgsql();

    static final long DRAINED = 20_000_100;
    /** A reply age past the synchronous standby's limit at the default TTL (15 s). */
    static final long STALE = SYNC.syncReplyTimeoutMillis() + 1;

    /** Clearing a request that was refused, and why: the reason is what the operator's command reports. */
    static ClearIntent refused(Kind kind, String reason) {
        return new ClearIntent(kind, Intent.Outcome.refused(reason));
    }

    static ClearIntent done(Kind kind) {
        return new ClearIntent(kind, Intent.Outcome.done());
    }

    static ClearIntent timedOut(Kind kind) {
        return new ClearIntent(kind, Intent.Outcome.timedOut());
    }

    static long seconds(long s) {
        return TimeUnit.SECONDS.toNanos(s);
    }

    /** be1, a healthy standby of a leader (be0) that is gone; be2 and be3 answered and are behind it. */
    static Facts.Builder candidate() {
        return Facts.builder("be1").now(NOW).state(WAITING_FOR_LEADER)
                .pgLsn(10_000_000).pgTimeline(2).pgUpstream("be0")
                .peer("be2", true, 9_000_000).peer("be3", true, 8_000_000);
    }

    /** be1 leads: holds the key with 25 s of its 30 s lease left; be2 and be3 stream from it. */
    static Facts.Builder leader() {
        return Facts.builder("be1").now(NOW).state(LEADER)
                .leader("be1").holdsLeaderKey(true).leaseDeadline(NOW + seconds(25))
                .pgInRecovery(false).pgLsn(20_000_000).pgTimeline(3)
                .peer("be2", true, 19_900_000).peer("be3", true, 19_800_000)
                .streamingFollowers("be2", "be3");
    }

    /** be2 streams from the leader be1. */
    static Facts.Builder follower() {
        return Facts.builder("be2").now(NOW).state(FOLLOWER)
                .leader("be1").pgUpstream("be1").pgStreaming(true).pgLsn(19_900_000).pgTimeline(3)
                .peer("be1", true, 20_000_000).peer("be3", true, 19_800_000);
    }

    /** be2 after a switchover's release: the old leader be1 stopped at DRAINED, fenced. */
    static Facts.Builder targetAfterRelease(Intent intent) {
        return follower().leader(null).pgStreaming(false).pgLsn(DRAINED).intent(intent)
                .peer("be1", false, DRAINED).lastLeader(DRAINED, 3);
    }

    record Row(String name, Facts facts, HaSettings settings, State state, boolean ok, List<Action> actions,
            String because) {
        Row settings(HaSettings s) {
            return new Row(name, facts, s, state, ok, actions, because);
        }

        Row because(String fragment) {
            return new Row(name, facts, settings, state, ok, actions, fragment);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Row row(String name, Facts.Builder facts, State state, boolean ok, Action... actions) {
        return new Row(name, facts.build(), DEF, state, ok, List.of(actions), "");
    }

    static Stream<Row> table() {
        return Stream.of(
                // ---- rule 2: election among eligible nodes ----
                row("election: a lone eligible node with no history takes the key",
                        candidate().peers(Map.of()), WAITING_FOR_LEADER, false, ACQUIRE),
                row("election: the most up-to-date eligible node takes the key",
                        candidate(), WAITING_FOR_LEADER, false, ACQUIRE),
                row("election: a node behind an eligible peer does not acquire",
                        candidate().pgLsn(8_500_000), WAITING_FOR_LEADER, false).because("be2 is more up to date"),
                row("election: equal positions go to the lower name (be1 runs)",
                        candidate().pgLsn(9_000_000), WAITING_FOR_LEADER, false, ACQUIRE),
                row("election: equal positions go to the lower name (be3 waits)",
                        Facts.builder("be3").now(NOW).state(WAITING_FOR_LEADER).pgLsn(9_000_000).pgTimeline(2)
                                .pgUpstream("be0").peer("be1", true, 9_000_000).peer("be2", true, 8_000_000),
                        WAITING_FOR_LEADER, false).because("be1 is more up to date"),
                row("election: an ineligible peer further ahead does not hold back the best eligible node",
                        candidate().peer("be2", false, 10_500_000), WAITING_FOR_LEADER, false, ACQUIRE),
                row("ineligible: unsynced sentinel (partially synced)",
                        candidate().unsynced(true), WAITING_FOR_LEADER, false).because("partially synced"),
                row("ineligible: further than max_bytes_behind_leader behind the best known position",
                        candidate().peer("be2", false, 10_000_000 + 60 * MB), WAITING_FOR_LEADER, false)
                        .because("max_bytes_behind_leader"),
                row("ineligible: failover disabled for the cluster",
                        candidate().clusterFailover(false), WAITING_FOR_LEADER, false).because("cluster"),
                row("ineligible: failover disabled for this node",
                        candidate().nodeFailover(false), WAITING_FOR_LEADER, false).because("this node"),
                row("ineligible: disk check failing with fatal_system_checks",
                        candidate().disksHealthy(false), WAITING_FOR_LEADER, false)
                        .settings(DEF.withFatalSystemChecks(true)).because("disk"),
                row("eligible: a failing disk check without fatal_system_checks is only a warning",
                        candidate().disksHealthy(false), WAITING_FOR_LEADER, false, ACQUIRE),
                row("ineligible: search unhealthy",
                        candidate().elasticsearchHealthy(false), WAITING_FOR_LEADER, false).because("search"),
                row("ineligible: search unhealthy, in the check's own words",
                        candidate().elasticsearchHealthy(false).healthNotes(Map.of("elasticsearch",
                                "elasticsearch check 5/5 failures: no elected cluster manager")), WAITING_FOR_LEADER,
                        false).because("search unhealthy (elasticsearch check 5/5 failures: no elected cluster manager)"),
                row("ineligible: own etcd member unhealthy",
                        candidate().etcdHealthy(false), WAITING_FOR_LEADER, false).because("etcd"),
                row("ineligible: PostgreSQL unhealthy after hysteresis",
                        candidate().pgsqlHealthy(false), WAITING_FOR_LEADER, false).because("PostgreSQL"),

                // ---- rule 1: no etcd, no election ----
                row("etcd unreachable: a waiting node does not acquire",
                        candidate().dcsReachable(false), WAITING_FOR_LEADER, false).because("etcd unreachable"),
                row("etcd unreachable: a follower keeps streaming, nothing drastic",
                        follower().dcsReachable(false).leader(null), FOLLOWER, false),

                // ---- rule 3: history after a leaderless period ----
                row("partition: behind the last leader's recorded position -> waiting_for_leader",
                        candidate().lastLeader(10_000_001, 2), WAITING_FOR_LEADER, false)
                        .because("operator's promote"),
                row("partition: on an older timeline than the last leader -> waiting_for_leader",
                        candidate().lastLeader(9_000_000, 3), WAITING_FOR_LEADER, false),
                row("partition: at the last leader's recorded position -> elected",
                        candidate().lastLeader(10_000_000, 2), WAITING_FOR_LEADER, false, ACQUIRE),
                row("history unreadable: even the best node waits for an operator, and says why",
                        candidate().historyUnreadable(true), WAITING_FOR_LEADER, false)
                        .because("history in etcd is unreadable"),
                row("history unreadable, sync mode: not taken for a new cluster's first election",
                        candidate().historyUnreadable(true), WAITING_FOR_LEADER, false).settings(SYNC)
                        .because("history in etcd is unreadable"),
                row("history unreadable: an operator's promote still elects",
                        candidate().historyUnreadable(true).intent(Intent.promote("be1", null)),
                        WAITING_FOR_LEADER, false, ACQUIRE),
                row("history unreadable: the leader leads on (it rewrites history itself)",
                        leader().historyUnreadable(true), LEADER, true, REFRESH),
                row("operator's promote with no leader waives history and rank (quorum-loss recovery)",
                        candidate().pgLsn(8_500_000).lastLeader(10_000_000, 2).intent(Intent.promote("be1", null)),
                        WAITING_FOR_LEADER, false, ACQUIRE),
                row("promote of another node pending: the best node stays out of the race",
                        candidate().intent(Intent.promote("be3", null)), WAITING_FOR_LEADER, false),
                row("promote refused: failover disabled for the cluster",
                        candidate().clusterFailover(false).intent(Intent.promote("be1", null)),
                        WAITING_FOR_LEADER, false, refused(Kind.PROMOTE, "failover is disabled for the cluster"))
                        .because("refused"),
                row("promote refused: failover disabled for the node",
                        candidate().nodeFailover(false).intent(Intent.promote("be1", null)),
                        WAITING_FOR_LEADER, false, refused(Kind.PROMOTE, "failover is disabled for this node"))
                        .because("refused"),
                row("force-leader with no leader: taken regardless of rank",
                        candidate().pgLsn(8_500_000).intent(Intent.forceLeader("be1")),
                        WAITING_FOR_LEADER, false, ACQUIRE),
                row("leader: an unreadable intent that timed out is cleared",
                        leader().unreadableIntentTimedOut(true), LEADER, true, REFRESH, timedOut(null))
                        .because("unreadable intent"),
                row("follower: an unreadable intent is left to the leader to clear",
                        follower().unreadableIntentTimedOut(true), FOLLOWER, false),
                row("force-leader refused while a leader exists",
                        follower().intent(Intent.forceLeader("be2")), FOLLOWER, false,
                        refused(Kind.FORCE_LEADER, "be1 leads")).because("refused"),
                row("deposed leader never promotes itself, even as the most up-to-date",
                        candidate().state(DEPOSED_LEADER).noStartPgsql(true).pgRunning(false).pgAccepting(false)
                                .pgInRecovery(false).pgLsn(10_500_000), DEPOSED_LEADER, false),
                row("deposed leader with its sentinel: promote refused until the operator removes it",
                        candidate().state(DEPOSED_LEADER).noStartPgsql(true).pgRunning(false).pgAccepting(false)
                                .pgInRecovery(false).intent(Intent.promote("be1", null)),
                        DEPOSED_LEADER, false, refused(Kind.PROMOTE, "fenced (no-start-pgsql; to reinstate this node"
                                + " remove it and restart postgresql first)")).because("no-start-pgsql"),
                row("promoting a previous leader: sentinel removed, PG restarted, it takes the key on promote",
                        candidate().state(DEPOSED_LEADER).pgInRecovery(false).intent(Intent.promote("be1", null)),
                        WAITING_FOR_LEADER, false, ACQUIRE),

                // ---- rule 7: promoting ----
                row("won the key: promote the standby, keep the lease",
                        candidate().holdsLeaderKey(true).leader("be1").leaseDeadline(NOW + seconds(30)),
                        PROMOTING, false, REFRESH, PROMOTE),
                row("promoting: waiting for PostgreSQL to accept connections",
                        candidate().state(PROMOTING).holdsLeaderKey(true).leader("be1")
                                .leaseDeadline(NOW + seconds(30)).pgInRecovery(false).pgAccepting(false),
                        PROMOTING, false, REFRESH),
                row("promoting: writable -> leader, history recorded, 200",
                        candidate().state(PROMOTING).holdsLeaderKey(true).leader("be1")
                                .leaseDeadline(NOW + seconds(30)).pgInRecovery(false),
                        LEADER, true, REFRESH, new RecordHistory(10_000_000, 2)),
                row("promoting: lost the key before PostgreSQL was promoted -> waiting, nothing to fence",
                        candidate().state(PROMOTING).leader("be2"), WAITING_FOR_LEADER, false),

                // ---- rule 6: /leader ----
                row("steady leader answers 200",
                        leader(), LEADER, true, REFRESH),
                row("required_active_followers: 503 while fewer stream through slots",
                        leader().streamingFollowers("be2"), LEADER, false, REFRESH)
                        .settings(DEF.withRequiredActiveFollowers(2)).because("2 followers"),
                row("required_active_followers met: 200",
                        leader(), LEADER, true, REFRESH).settings(DEF.withRequiredActiveFollowers(2)),

                // ---- rule 4: fencing ----
                row("leader, etcd unreachable, lease fresh: keeps leading",
                        leader().dcsReachable(false), LEADER, true, REFRESH),
                row("leader, etcd unreachable, under a third of the TTL left: fences before the deadline",
                        leader().dcsReachable(false).leaseDeadline(NOW + seconds(9)), DEPOSED_LEADER, false,
                        FENCE, RELEASE).because("before it can expire"),
                row("leader, lease just above the margin: keeps leading",
                        leader().dcsReachable(false).leaseDeadline(NOW + seconds(11)), LEADER, true, REFRESH),
                row("leader: etcd shows another holder -> fence at once",
                        leader().leader("be2"), DEPOSED_LEADER, false, FENCE, RELEASE).because("to be2"),
                row("leader: lease reported lost -> fence",
                        leader().holdsLeaderKey(false), DEPOSED_LEADER, false, FENCE),

                // ---- rule 5: failures on the leader ----
                row("leader: PostgreSQL unhealthy -> fence, then release",
                        leader().pgsqlHealthy(false), DEPOSED_LEADER, false, FENCE, RELEASE),
                row("leader: search unhealthy -> failover (frontends use the leader's search only)",
                        leader().elasticsearchHealthy(false), DEPOSED_LEADER, false, FENCE, RELEASE),
                row("leader: search not in a cluster -> failover, saying why",
                        leader().elasticsearchHealthy(false).healthNotes(Map.of("elasticsearch",
                                "elasticsearch check 5/5 failures: not counted by the cluster manager")),
                        DEPOSED_LEADER, false, FENCE, RELEASE).because("not counted by the cluster manager"),
                row("leader: own etcd member unhealthy -> failover",
                        leader().etcdHealthy(false), DEPOSED_LEADER, false, FENCE, RELEASE),
                row("leader: disk failing with fatal_system_checks -> failover",
                        leader().disksHealthy(false), DEPOSED_LEADER, false, FENCE, RELEASE)
                        .settings(DEF.withFatalSystemChecks(true)),
                row("leader: search unhealthy but no eligible follower -> keeps leading (a lone node starting up)",
                        leader().elasticsearchHealthy(false).peers(Map.of("be2",
                                new Facts.Peer(false, 19_900_000))), LEADER, true, REFRESH).because("no eligible, healthy follower"),
                row("leader: search unhealthy, the only eligible follower failing its own checks -> keeps leading",
                        leader().elasticsearchHealthy(false).peers(Map.of("be2",
                                new Facts.Peer(true, 19_900_000, false))), LEADER, true, REFRESH)
                        .because("no eligible, healthy follower"),
                row("leader: search unhealthy, one of two followers healthy right now -> failover",
                        leader().elasticsearchHealthy(false).peers(Map.of("be2",
                                new Facts.Peer(true, 19_900_000, false), "be3", new Facts.Peer(true, 19_800_000, true))),
                        DEPOSED_LEADER, false, FENCE, RELEASE),
                row("leader: search unhealthy but cluster failover off -> keeps leading",
                        leader().elasticsearchHealthy(false).clusterFailover(false), LEADER, true, REFRESH),
                row("leader: PostgreSQL crashed (within hysteresis) -> restart it as the key holder",
                        leader().pgRunning(false).pgAccepting(false), LEADER, false, REFRESH, START),

                // ---- rule 9: switchover ----
                row("promote be2 on the leader: stop writes first, 503",
                        leader().intent(Intent.promote("be2", "be1")), LEADER, false, REFRESH, STOP_WRITES),
                row("promote be2: drained, be2 still behind -> wait",
                        drainedLeader(Intent.promote("be2", "be1")), LEADER, false, REFRESH)
                        .because("waiting for it to replay"),
                row("promote be2: be2 replayed to the final position -> release",
                        drainedLeader(Intent.promote("be2", "be1")).peer("be2", true, DRAINED), DEPOSED_LEADER,
                        false, new RecordHistory(DRAINED, 3), RELEASE),
                row("promote target: the leader still holds the key -> keep streaming",
                        follower().intent(Intent.promote("be2", "be1").drainedAt(DRAINED)), FOLLOWER, false)
                        .because("waiting for be1 to hand over"),
                row("promote target: key released, at the final position -> takes the key",
                        targetAfterRelease(Intent.promote("be2", "be1").drainedAt(DRAINED)),
                        WAITING_FOR_LEADER, false, ACQUIRE),
                row("promote target: old leader failed before publishing its final position -> waits",
                        targetAfterRelease(Intent.promote("be2", "be1")), WAITING_FOR_LEADER, false),
                row("switchover: other followers do not race the target",
                        targetAfterRelease(Intent.promote("be3", "be1").drainedAt(DRAINED)),
                        WAITING_FOR_LEADER, false),
                row("promote refused by the leader: target not eligible",
                        leader().peer("be2", false, 19_900_000).intent(Intent.promote("be2", "be1")),
                        LEADER, true, REFRESH, refused(Kind.PROMOTE, "be2 is not eligible for leadership"))
                        .because("not eligible"),
                row("promote refused by the leader: failover disabled for the cluster",
                        leader().clusterFailover(false).intent(Intent.promote("be2", "be1")),
                        LEADER, true, REFRESH, refused(Kind.PROMOTE, "failover is disabled for the cluster"))
                        .because("refused"),
                row("promote naming the leader itself is simply cleared",
                        leader().intent(Intent.promote("be1", "be1")), LEADER, true, REFRESH,
                        done(Kind.PROMOTE)),
                row("handover timed out: clear it and resume writes",
                        drainedLeader(Intent.promote("be2", "be1").expired()), LEADER, false,
                        REFRESH, timedOut(Kind.PROMOTE), CLEAR_NO_START, START).because("timed out"),

                // ---- rule 9: demote = switchover to the best eligible follower ----
                row("demote: hand over to the best eligible follower",
                        leader().intent(Intent.demote("be1")), LEADER, false, REFRESH, STOP_WRITES)
                        .because("be2"),
                row("demote refused: no eligible follower",
                        leader().peer("be2", false, 1).peer("be3", false, 1).intent(Intent.demote("be1")),
                        LEADER, true, REFRESH, refused(Kind.DEMOTE, "no eligible follower to hand over to"))
                        .because("no eligible follower"),
                row("demote refused: failover disabled for this node",
                        leader().nodeFailover(false).intent(Intent.demote("be1")),
                        LEADER, true, REFRESH, refused(Kind.DEMOTE, "failover is disabled for this node"))
                        .because("refused"),
                row("demote: best follower at the final position -> release",
                        drainedLeader(Intent.demote("be1")).peer("be2", true, DRAINED), DEPOSED_LEADER, false,
                        new RecordHistory(DRAINED, 3), RELEASE),
                row("after a demote the caught-up follower is elected, even in synchronous mode",
                        targetAfterRelease(Intent.demote("be1").drainedAt(DRAINED)).syncStandby("be3"),
                        WAITING_FOR_LEADER, false, ACQUIRE).settings(SYNC),
                row("a new leader clears the demote it completed",
                        leader().intent(Intent.demote("be0").drainedAt(DRAINED)), LEADER, true, REFRESH,
                        done(Kind.DEMOTE)),

                // ---- rule 8: following and rejoining ----
                row("leader key unreadable: a follower follows nobody and waits, PostgreSQL left as it is",
                        follower().leader(null).leaderUnreadable(true), WAITING_FOR_LEADER, false)
                        .because("leader key in etcd is unreadable"),
                row("leader key unreadable: the best candidate does not run (the key is not free)",
                        candidate().leaderUnreadable(true), WAITING_FOR_LEADER, false)
                        .because("no election while it stands"),
                row("leader key unreadable: an operator's promote waits too",
                        candidate().leaderUnreadable(true).intent(Intent.promote("be1", null)), WAITING_FOR_LEADER,
                        false).because("leader key in etcd is unreadable"),
                row("leader key unreadable: a deposed leader stays deposed, not rejoining anyone",
                        deposed().leader(null).leaderUnreadable(true), DEPOSED_LEADER, false)
                        .because("following nobody"),
                row("leader key overwritten with an unreadable value: the leader has lost it and fences",
                        leader().leader(null).leaderUnreadable(true).holdsLeaderKey(false), DEPOSED_LEADER, false,
                        FENCE).because("lost the leader key"),
                row("leader key overwritten unreadable on the leader's own lease: fence, then let it go",
                        leader().leader(null).leaderUnreadable(true), DEPOSED_LEADER, false, FENCE, RELEASE)
                        .because("lost the leader key"),
                row("follower streaming from the leader: nothing to do",
                        follower(), FOLLOWER, false),
                row("follower still on the old leader: re-point",
                        follower().pgUpstream("be0"), FOLLOWER, false, new FollowLeader("be1")),
                row("follower with PostgreSQL down: start it as a standby of the leader",
                        follower().pgRunning(false).pgAccepting(false).pgStreaming(false), FOLLOWER, false,
                        new FollowLeader("be1")),
                row("follower whose needed WAL is gone: base backup by itself",
                        follower().pgStreaming(false).followTrouble(FollowTrouble.WAL_GONE), FOLLOWER, false,
                        new BaseBackupFrom("be1")),
                row("follower whose timeline diverged: pg_rewind",
                        follower().pgStreaming(false).followTrouble(FollowTrouble.DIVERGED), FOLLOWER, false,
                        new RewindFrom("be1")),
                row("deposed leader rejoins the new leader by pg_rewind",
                        deposed(), DEPOSED_LEADER, false, new RewindFrom("be1")),
                row("deposed leader whose rewind failed: base backup",
                        deposed().followTrouble(FollowTrouble.REWIND_FAILED), DEPOSED_LEADER, false,
                        new BaseBackupFrom("be1")),
                row("deposed leader already rewound onto the leader, PostgreSQL not yet up: follow, no second rewind",
                        deposed().pgInRecovery(true).rejoinedTo("be1"), DEPOSED_LEADER, false,
                        new FollowLeader("be1")).because("following be1"),
                row("deposed leader rewound onto an earlier leader: a new sequence, rewind again",
                        deposed().rejoinedTo("be0"), DEPOSED_LEADER, false, new RewindFrom("be1")),
                row("deposed leader rewound, its standby not yet consistent: the WAL it needs is gone from the leader",
                        deposed().pgRunning(true).pgInRecovery(true).pgUpstream("be1").rejoinedTo("be1")
                                .followTrouble(FollowTrouble.WAL_GONE), DEPOSED_LEADER, false,
                        new BaseBackupFrom("be1")),
                row("deposed leader whose rewind failed: waits out the backoff, touches nothing",
                        deposed().rejoinRetryAt(NOW + seconds(5)), DEPOSED_LEADER, false)
                        .because("trying again in 5 s"),
                row("deposed leader whose backoff has passed: the clean retry",
                        deposed().rejoinRetryAt(NOW - 1), DEPOSED_LEADER, false, new RewindFrom("be1")),
                row("rewind cannot work, within the backoff: no base backup yet",
                        deposed().followTrouble(FollowTrouble.REWIND_FAILED).rejoinRetryAt(NOW + seconds(10)),
                        DEPOSED_LEADER, false).because("trying again in 10 s"),
                row("follower forked again after its rewind, within the backoff: waits",
                        follower().pgStreaming(false).followTrouble(FollowTrouble.DIVERGED)
                                .rejoinRetryAt(NOW + seconds(5)), FOLLOWER, false).because("trying again"),
                row("deposed leader streaming again: clears no-start-pgsql, becomes a follower",
                        follower().state(DEPOSED_LEADER).noStartPgsql(true), FOLLOWER, false, CLEAR_NO_START),
                row("deposed leader not yet streaming keeps its sentinel",
                        follower().state(DEPOSED_LEADER).noStartPgsql(true).pgStreaming(false), DEPOSED_LEADER,
                        false),
                row("crashed old leader restarted as a primary while another holds the key: fenced",
                        follower().state(INITIALIZING).pgInRecovery(false).pgUpstream(null).pgStreaming(false),
                        DEPOSED_LEADER, false, FENCE),
                row("agent restarted on a fenced node: the sentinel alone marks it deposed",
                        deposed().state(INITIALIZING), DEPOSED_LEADER, false, new RewindFrom("be1")),
                row("unsynced node waits for the operator even with a leader (partially_synced)",
                        follower().unsynced(true).pgRunning(false).pgStreaming(false), WAITING_FOR_LEADER, false)
                        .because("partially synced"),
                row("stale own key after an agent restart: wait for it to expire",
                        candidate().leader("be1"), WAITING_FOR_LEADER, false),

                // ---- rule 4b: fenced at agent start, nobody has led since ----
                row("boot-fenced, no leader, history names this node -> back as a standby to stand for election",
                        candidate().noStartPgsql(true).bootFenced(true).pgRunning(false).pgAccepting(false)
                                .lastLeaderName("be1").lastLeader(10_000_000, 1), WAITING_FOR_LEADER, false,
                        new Action.ReinstateAsStandby()).because("nobody has led since"),
                row("boot-fenced, no leader, no history at all (a fresh etcd) -> back as a standby",
                        candidate().noStartPgsql(true).bootFenced(true).pgRunning(false).pgAccepting(false),
                        WAITING_FOR_LEADER, false, new Action.ReinstateAsStandby()),
                row("boot-fenced, no leader, history names another node -> stays deposed",
                        candidate().noStartPgsql(true).bootFenced(true).pgRunning(false).pgAccepting(false)
                                .lastLeaderName("be2").lastLeader(10_000_000, 1), DEPOSED_LEADER, false)
                        .because("deposed leader"),
                row("boot-fenced, no leader, history unreadable -> stays deposed (someone may have led since)",
                        candidate().noStartPgsql(true).bootFenced(true).pgRunning(false).pgAccepting(false)
                                .historyUnreadable(true), DEPOSED_LEADER, false).because("deposed leader"),
                row("fenced by leaderl (not at boot), history names this node -> stays deposed until reinstated",
                        candidate().noStartPgsql(true).pgRunning(false).pgAccepting(false).lastLeaderName("be1")
                                .lastLeader(10_000_000, 1), DEPOSED_LEADER, false).because("deposed leader"),
                row("boot-fenced, history names this node, but a leader exists -> rejoin it by pg_rewind",
                        candidate().noStartPgsql(true).bootFenced(true).pgRunning(false).pgAccepting(false)
                                .lastLeaderName("be1").leader("be2"), DEPOSED_LEADER, false, new RewindFrom("be2")),
                row("boot-fenced, history names this node, PostgreSQL still running -> no reinstatement yet",
                        candidate().noStartPgsql(true).bootFenced(true).pgInRecovery(false).lastLeaderName("be1"),
                        DEPOSED_LEADER, false),
                // ---- rule 10: synchronous mode ----
                row("sync mode: the best node is not the recorded standby -> not elected",
                        candidate().syncStandby("be2").lastLeaderName("be0").lastLeader(9_000_000, 2),
                        WAITING_FOR_LEADER, false).settings(SYNC).because("only be2"),
                row("sync mode: the recorded standby is elected though another is further ahead",
                        candidate().syncStandby("be1").peer("be3", true, 10_500_000).lastLeaderName("be0")
                                .lastLeader(9_000_000, 2), WAITING_FOR_LEADER, false,
                        ACQUIRE).settings(SYNC),
                row("sync mode degraded (none recorded): nobody is elected automatically",
                        candidate().lastLeaderName("be0").lastLeader(9_000_000, 2), WAITING_FOR_LEADER, false)
                        .settings(SYNC).because("no standby is recorded"),
                row("sync mode, a new cluster (nobody ever led): the best node is elected",
                        candidate(), WAITING_FOR_LEADER, false, ACQUIRE).settings(SYNC),
                row("sync mode, the last leader itself (nobody led since) may be elected",
                        candidate().lastLeaderName("be1").lastLeader(10_000_000, 2), WAITING_FOR_LEADER, false,
                        ACQUIRE).settings(SYNC),
                row("sync mode, none recorded: an operator's promote still works",
                        candidate().intent(Intent.promote("be1", null)), WAITING_FOR_LEADER, false, ACQUIRE)
                        .settings(SYNC),
                row("sync mode leader: the named standby streams -> record it",
                        leader().pgSyncStandby("be2"), LEADER, true, REFRESH, new RecordSynchronousStandby("be2"))
                        .settings(SYNC),
                row("sync mode leader: named but not confirmed -> confirm before recording",
                        leader().pgSyncStandby("be2").pgSyncConfirmed(false), LEADER, true, REFRESH,
                        new SetSynchronousStandby("be2")).settings(SYNC).because("waiting for be2 to confirm"),
                row("sync mode leader: unconfirmed after a restart, the record naming it stays",
                        leader().pgSyncStandby("be2").syncStandby("be2").pgSyncConfirmed(false), LEADER, true,
                        REFRESH, new SetSynchronousStandby("be2")).settings(SYNC),
                row("sync mode leader: unconfirmed, the record names another -> record none first",
                        leader().pgSyncStandby("be2").syncStandby("be3").pgSyncConfirmed(false), LEADER, true,
                        REFRESH, new RecordSynchronousStandby(null), new SetSynchronousStandby("be2"))
                        .settings(SYNC),
                row("async mode leader: a synchronous_standby_names copied from the old leader is cleared",
                        leader().pgSyncStandby("be2").pgSyncConfirmed(false), LEADER, true, REFRESH,
                        new SetSynchronousStandby(null)),
                row("sync mode leader: steady",
                        leader().pgSyncStandby("be2").syncStandby("be2"), LEADER, true, REFRESH).settings(SYNC),
                row("sync mode leader: standby died -> record none, then wait for the next one",
                        leader().pgSyncStandby("be2").syncStandby("be2").streamingFollowers("be3"), LEADER, true,
                        REFRESH, new RecordSynchronousStandby(null), new SetSynchronousStandby("be3"))
                        .settings(SYNC),
                row("sync mode leader: standby stopped answering, another answers -> record none, switch to it",
                        leader().pgSyncStandby("be2").syncStandby("be2").replyAge("be2", STALE).replyAge("be3", 900),
                        LEADER, true, REFRESH, new RecordSynchronousStandby(null), new SetSynchronousStandby("be3"))
                        .settings(SYNC).because("be2 has not replied for " + STALE + " ms"),
                row("sync mode leader: standby stopped answering, none other -> record none, then degrade",
                        leader().pgSyncStandby("be2").syncStandby("be2").streamingFollowers("be2")
                                .replyAge("be2", STALE), LEADER, true,
                        REFRESH, new RecordSynchronousStandby(null), new SetSynchronousStandby(null))
                        .settings(SYNC).because("degraded"),
                row("sync mode leader: standby stopped answering, the other is silent too -> degrade",
                        leader().pgSyncStandby("be2").syncStandby("be2").replyAge("be2", STALE)
                                .replyAge("be3", STALE), LEADER, true,
                        REFRESH, new RecordSynchronousStandby(null), new SetSynchronousStandby(null))
                        .settings(SYNC).because("degraded"),
                row("sync mode leader: standby's reply just within the limit -> kept",
                        leader().pgSyncStandby("be2").syncStandby("be2").replyAge("be2", SYNC.syncReplyTimeoutMillis()),
                        LEADER, true, REFRESH).settings(SYNC).because("synchronous standby be2"),
                row("sync mode leader: an unconfirmed standby that stopped answering is not waited for",
                        leader().pgSyncStandby("be2").pgSyncConfirmed(false).replyAge("be2", STALE), LEADER, true,
                        REFRESH, new SetSynchronousStandby("be3")).settings(SYNC).because("switching to be3"),
                row("sync mode leader: degraded, the best standby is silent -> the one that answers is named",
                        leader().peer("be2", true, 20_000_000).replyAge("be2", STALE), LEADER, true, REFRESH,
                        new SetSynchronousStandby("be3")).settings(SYNC),
                row("sync mode leader: degraded, the only standby is silent -> none named",
                        leader().streamingFollowers("be2").replyAge("be2", STALE), LEADER, true, REFRESH)
                        .settings(SYNC).because("degraded"),
                row("sync mode leader: no standby left -> record none before commits stop waiting",
                        leader().pgSyncStandby("be2").syncStandby("be2").streamingFollowers(), LEADER, true,
                        REFRESH, new RecordSynchronousStandby(null), new SetSynchronousStandby(null))
                        .settings(SYNC).because("degraded"),
                row("sync mode leader: degraded, a standby streams again -> name it (recorded next step)",
                        leader().streamingFollowers("be2"), LEADER, true, REFRESH, new SetSynchronousStandby("be2"))
                        .settings(SYNC),
                row("sync mode new leader: drops the record naming itself before naming a standby",
                        candidate().state(PROMOTING).holdsLeaderKey(true).leader("be1")
                                .leaseDeadline(NOW + seconds(30)).pgInRecovery(false).syncStandby("be1")
                                .streamingFollowers("be3"),
                        LEADER, true, REFRESH, new RecordHistory(10_000_000, 2), new RecordSynchronousStandby(null),
                        new SetSynchronousStandby("be3")).settings(SYNC),
                row("sync mode off: a leftover synchronous standby is cleared",
                        leader().pgSyncStandby("be2").syncStandby("be2"), LEADER, true, REFRESH,
                        new RecordSynchronousStandby(null), new SetSynchronousStandby(null)));
    }

    /** be1 still holds the key after stopping writes for {@code intent}; be2 and be3 are not there yet. */
    static Facts.Builder drainedLeader(Intent intent) {
        return leader().pgRunning(false).pgAccepting(false).noStartPgsql(true).streamingFollowers()
                .intent(intent.drainedAt(DRAINED));
    }

    /** be2, fenced former leader: PostgreSQL stopped with a primary's data directory; be1 leads now. */
    static Facts.Builder deposed() {
        return follower().state(DEPOSED_LEADER).noStartPgsql(true).pgRunning(false).pgAccepting(false)
                .pgInRecovery(false).pgUpstream(null).pgStreaming(false);
    }

    static Stream<Arguments> rows() {
        return table().map(r -> Arguments.of(r.name(), r));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void decides(String name, Row row) {
        Step step = Decision.next(row.facts(), row.settings());
        assertEquals(row.state(), step.next(), () -> "state; reason: " + step.reason());
        assertEquals(row.actions(), step.actions(), () -> "actions; reason: " + step.reason());
        assertEquals(row.ok(), step.leaderEndpoint200(), () -> "/leader 200; reason: " + step.reason());
        assertFalse(step.reason().isBlank());
        assertTrue(step.reason().contains(row.because()),
                () -> "reason '" + step.reason() + "' should mention '" + row.because() + "'");
    }

    @Test
    void theShellRechecksHealthOnlyWhenHealthAloneWouldEndTheLeadership() {
        Facts sick = leader().elasticsearchHealthy(false).build();
        assertTrue(HaLoop.givingUpForHealthAlone(sick, Decision.next(sick, DEF), DEF));
        // a lease about to run out is fenced at once, whatever the checks say: no probe may delay it
        Facts sickAndExpiring = leader().elasticsearchHealthy(false).leaseDeadline(NOW + seconds(1)).build();
        assertFalse(HaLoop.givingUpForHealthAlone(sickAndExpiring, Decision.next(sickAndExpiring, DEF), DEF));
        Facts healthy = leader().build();
        assertFalse(HaLoop.givingUpForHealthAlone(healthy, Decision.next(healthy, DEF), DEF));
    }

    @Test
    void ineligibilityIsPublishedInAnOperatorsWords() {
        assertEquals("1.2 GB behind the best known position (max_bytes_behind_leader 5000000)",
                Decision.ineligibility(candidate().pgLsn(1_000).peer("be2", true, 1_288_490_188L).build(),
                        DEF.withMaxBytesBehindLeader(5_000_000)).orElseThrow());
        assertEquals("2048 bytes", Decision.bytes(2048));
        assertEquals("97.7 KB", Decision.bytes(100_000));
        assertTrue(Decision.ineligibility(candidate().build(), DEF).isEmpty(), "a healthy candidate has no reason");
        assertEquals("PostgreSQL unhealthy (pgsql check 3/3 failures: not accepting connections)",
                Decision.ineligibility(candidate().pgsqlHealthy(false).healthNotes(Map.of("pgsql",
                        "pgsql check 3/3 failures: not accepting connections")).build(), DEF).orElseThrow());
    }

    @Test
    void theTableIsLargeAndItsNamesAreUnique() {
        List<String> names = table().map(Row::name).toList();
        assertTrue(names.size() >= 30, names.size() + " scenarios");
        assertEquals(names.size(), names.stream().distinct().count(), "duplicate scenario names");
    }

    /** A whole switchover, each node's step fed with what the previous steps made true. */
    @Test
    void switchoverWalksFromOldLeaderToNewLeaderAndBack() {
        Intent promote = Intent.promote("be2", "be1");
        Step s1 = Decision.next(leader().intent(promote).build(), DEF);
        assertEquals(List.of(REFRESH, STOP_WRITES), s1.actions());
        Step s2 = Decision.next(drainedLeader(promote).peer("be2", true, DRAINED).build(), DEF);
        assertEquals(DEPOSED_LEADER, s2.next());
        Step s3 = Decision.next(targetAfterRelease(promote.drainedAt(DRAINED)).build(), DEF);
        assertEquals(List.of(ACQUIRE), s3.actions());
        Facts won = targetAfterRelease(promote.drainedAt(DRAINED)).state(s3.next()).holdsLeaderKey(true)
                .leader("be2").leaseDeadline(NOW + seconds(30)).build();
        Step s4 = Decision.next(won, DEF);
        assertEquals(List.of(REFRESH, PROMOTE), s4.actions());
        Facts promoted = won.toBuilder().state(s4.next()).pgInRecovery(false).pgTimeline(4).build();
        Step s5 = Decision.next(promoted, DEF);
        assertEquals(LEADER, s5.next());
        assertTrue(s5.leaderEndpoint200());
        Step s6 = Decision.next(promoted.toBuilder().state(LEADER).build(), DEF);
        assertEquals(List.of(REFRESH, done(Kind.PROMOTE)), s6.actions(), "the new leader clears it");
        Facts oldLeader = Facts.builder("be1").now(NOW).state(s2.next()).leader("be2").noStartPgsql(true)
                .pgRunning(false).pgAccepting(false).pgInRecovery(false).pgLsn(DRAINED).build();
        assertEquals(List.of(new RewindFrom("be2")), Decision.next(oldLeader, DEF).actions());
        Facts rejoined = oldLeader.toBuilder().pgRunning(true).pgAccepting(true).pgInRecovery(true)
                .pgUpstream("be2").pgStreaming(true).build();
        Step back = Decision.next(rejoined, DEF);
        assertEquals(FOLLOWER, back.next());
        assertEquals(List.of(CLEAR_NO_START), back.actions());
    }

    // ---- properties over random facts ------------------------------------------------------------------------

    @Test
    void randomFactsNeverBreakTheSafetyRules() {
        Random random = new Random(20240605L);
        for (int i = 0; i < 50_000; i++) {
            Facts f = randomFacts(random);
            HaSettings s = new HaSettings(1 + random.nextInt(60), random.nextInt(3),
                    random.nextBoolean() ? 0 : 50 * MB, random.nextBoolean(), random.nextBoolean());
            Step step = Decision.next(f, s);
            String ctx = "case " + i + ": " + f + " / " + s + " -> " + step;

            assertEquals(step, Decision.next(f, s), "deterministic: " + ctx);
            assertFalse(step.has(PromotePostgres.class) && step.has(FencePostgres.class), ctx);
            if (step.leaderEndpoint200()) {
                assertEquals(LEADER, step.next(), ctx);
                assertTrue(f.pgWritable(), "200 only with a writable PostgreSQL: " + ctx);
                assertTrue(f.holdsLeaderKey() && f.leaseRemainingNanos() >= s.fenceMarginNanos(), ctx);
                assertTrue(f.streamingFollowers().size() >= s.requiredActiveFollowers(), ctx);
            }
            if (f.leaderUnreadable()) {
                assertFalse(step.has(FollowLeader.class) || step.has(RewindFrom.class)
                        || step.has(BaseBackupFrom.class), "an unreadable leader key is followed by nobody: " + ctx);
            }
            if (step.has(AcquireLeaderKey.class)) {
                assertTrue(f.dcsReachable() && f.leader() == null && !f.leaderUnreadable() && !f.holdsLeaderKey(), ctx);
                assertTrue(isFit(f, s), "never acquire while unfit: " + ctx);
                assertTrue(namedByOperator(f) || Decision.ineligibility(f, s).isEmpty(),
                        "only an operator's request bypasses eligibility: " + ctx);
                assertEquals(1, step.actions().size(), ctx);
            }
            if (f.state() == DEPOSED_LEADER) {
                assertFalse(step.has(PromotePostgres.class), "a deposed leader never promotes itself: " + ctx);
                assertTrue(!step.has(AcquireLeaderKey.class) || namedByOperator(f), ctx);
            }
            if (step.has(FencePostgres.class)) {
                assertEquals(DEPOSED_LEADER, step.next(), ctx);
                assertFalse(step.has(StartPostgres.class) || step.has(FollowLeader.class), ctx);
                int fence = indexOf(step, FencePostgres.class);
                int release = indexOf(step, ReleaseLeaderKey.class);
                assertTrue(release < 0 || fence < release, "fence before release: " + ctx);
            }
            for (Action a : step.actions()) {
                String named = a instanceof SetSynchronousStandby set ? set.standby()
                        : a instanceof RecordSynchronousStandby rec ? rec.standby() : null;
                if (named != null) {
                    assertTrue(f.streamingFollowers().contains(named)
                            && f.replyAgeMillis(named) <= s.syncReplyTimeoutMillis(),
                            "a standby is named or recorded only while it streams and answers: " + ctx);
                }
                if (a instanceof RecordSynchronousStandby rec && rec.standby() != null) {
                    assertTrue(rec.standby().equals(f.pgSyncStandby()) && f.pgSyncConfirmed(),
                            "recorded only once PostgreSQL waits for it and it confirmed every earlier write: " + ctx);
                }
            }
            if (step.has(RecordSynchronousStandby.class) && step.has(SetSynchronousStandby.class)) {
                assertTrue(indexOf(step, RecordSynchronousStandby.class) < indexOf(step, SetSynchronousStandby.class),
                        "record 'none' before PostgreSQL stops waiting: " + ctx);
            }
        }
    }

    static boolean isFit(Facts f, HaSettings s) {
        return f.pgsqlHealthy() && f.pgRunning() && f.pgAccepting() && f.elasticsearchHealthy() && f.etcdHealthy()
                && !f.unsynced() && !f.noStartPgsql() && f.clusterFailover() && f.nodeFailover()
                && (f.disksHealthy() || !s.fatalSystemChecks());
    }

    static boolean namedByOperator(Facts f) {
        Intent in = f.intent();
        return in != null && !in.timedOut() && in.target().equals(f.self()) && in.kind() != Kind.DEMOTE;
    }

    static int indexOf(Step step, Class<? extends Action> type) {
        for (int i = 0; i < step.actions().size(); i++) {
            if (type.isInstance(step.actions().get(i))) {
                return i;
            }
        }
        return -1;
    }

    static final String[] NODES = {"be1", "be2", "be3"};

    static String someNode(Random r) {
        return r.nextInt(4) == 0 ? null : NODES[r.nextInt(NODES.length)];
    }

    static Facts randomFacts(Random r) {
        long lsn = 1_000_000 + r.nextInt(100_000_000);
        Facts.Builder b = Facts.builder("be1").now(NOW)
                .state(State.values()[r.nextInt(State.values().length)])
                .dcsReachable(r.nextInt(5) > 0)
                .leader(someNode(r))
                .holdsLeaderKey(r.nextBoolean())
                .leaseDeadline(NOW + seconds(r.nextInt(70) - 10))
                .pgRunning(r.nextInt(5) > 0).pgAccepting(r.nextInt(5) > 0).pgInRecovery(r.nextBoolean())
                .pgLsn(lsn).pgTimeline(1 + r.nextInt(3))
                .pgUpstream(someNode(r)).pgStreaming(r.nextBoolean())
                .followTrouble(FollowTrouble.values()[r.nextInt(FollowTrouble.values().length)])
                .pgsqlHealthy(r.nextInt(6) > 0).elasticsearchHealthy(r.nextInt(6) > 0)
                .etcdHealthy(r.nextInt(6) > 0).disksHealthy(r.nextInt(4) > 0)
                .noStartPgsql(r.nextInt(4) == 0).unsynced(r.nextInt(6) == 0)
                .clusterFailover(r.nextInt(5) > 0).nodeFailover(r.nextInt(5) > 0)
                .syncStandby(someNode(r)).pgSyncStandby(someNode(r));
        if (r.nextInt(3) == 0) {
            String target = NODES[r.nextInt(NODES.length)];
            Intent in = switch (r.nextInt(3)) {
                case 0 -> Intent.promote(target, someNode(r));
                case 1 -> Intent.demote(target);
                default -> Intent.forceLeader(target);
            };
            if (r.nextBoolean()) {
                in = in.drainedAt(lsn + r.nextInt(2_000_000) - 1_000_000);
            }
            b.intent(r.nextInt(4) == 0 ? in.expired() : in);
        }
        if (r.nextBoolean()) {
            b.lastLeader(lsn + r.nextInt(2_000_000) - 1_000_000, 1 + r.nextInt(3));
        }
        List<String> streaming = new ArrayList<>();
        for (String peer : List.of("be2", "be3")) {
            if (r.nextInt(4) > 0) {
                b.peer(peer, r.nextBoolean(), Math.max(1, lsn + r.nextInt(100 * (int) MB) - 50 * MB));
            }
            if (r.nextBoolean()) {
                streaming.add(peer);
                b.replyAge(peer, r.nextInt(4) == 0 ? r.nextInt(120_000) : r.nextInt(2000));
            }
        }
        b.pgSyncConfirmed(r.nextBoolean());
        if (r.nextInt(8) == 0) {
            b.leader(null).leaderUnreadable(true);
        }
        return b.streamingFollowers(streaming.toArray(String[]::new)).build();
    }

    // ---- the small types -------------------------------------------------------------------------------------

    @Test
    void statesUseTheOriginalsLowerCaseNames() {
        assertEquals("waiting_for_leader", WAITING_FOR_LEADER.jsonName());
        assertEquals("deposed_leader", DEPOSED_LEADER.toString());
        for (State s : State.values()) {
            assertEquals(s, State.fromJsonName(s.jsonName()));
        }
    }

    @Test
    void aHealthyStandbysReplyIsAlwaysWellWithinTheSynchronousLimit() {
        for (long ttl = 1; ttl <= 3600; ttl++) {
            HaSettings s = new HaSettings(ttl, 0, 0, false, true);
            long replyEveryMs = PostgresqlConf.walReceiverStatusIntervalSeconds(ttl) * 1000;
            // even on an idle leader a healthy standby replies at least twice within the limit
            assertTrue(2 * replyEveryMs <= s.syncReplyTimeoutMillis(), "TTL " + ttl + " s");
            // and a silent one is given up well before a TTL (from 3 s on: the limit is at least 2 s)
            assertTrue(ttl < 3 || s.syncReplyTimeoutMillis() < ttl * 1000, "TTL " + ttl + " s");
        }
        assertEquals(15_000, DEF.syncReplyTimeoutMillis(), "half the default 30 s TTL");
    }

    @Test
    void settingsComeFromTheDocumentedDefaults() {
        HaSettings s = HaSettings.from(Settings.defaults(new MachineFacts(8L << 30, "be1")));
        assertEquals(HaSettings.DEFAULTS, s);
        assertEquals(seconds(10), s.fenceMarginNanos(), "a third of the 30 s TTL");
    }

    @Test
    void settingsFollowChefBackendRb() {
        Settings file = Settings.defaults(new MachineFacts(8L << 30, "be1"))
                .with("leaderl.leader_ttl_seconds", 9L)
                .with("leaderl.required_active_followers", 1L)
                .with("leaderl.health_check.max_bytes_behind_leader", 1024L)
                .with("leaderl.health_check.fatal_system_checks", true);
        assertEquals(new HaSettings(9, 1, 1024, true, false), HaSettings.from(file));
    }
}
