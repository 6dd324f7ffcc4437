package org.chefbackend.leaderl;

import static org.chefbackend.leaderl.State.DEPOSED_LEADER;
import static org.chefbackend.leaderl.State.FOLLOWER;
import static org.chefbackend.leaderl.State.LEADER;
import static org.chefbackend.leaderl.State.PROMOTING;
import static org.chefbackend.leaderl.State.WAITING_FOR_LEADER;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
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
import org.chefbackend.leaderl.Action.ReinstateAsStandby;
import org.chefbackend.leaderl.Action.SetSynchronousStandby;
import org.chefbackend.leaderl.Action.StartPostgres;
import org.chefbackend.leaderl.Action.StopAcceptingWrites;
import org.chefbackend.leaderl.Facts.FollowTrouble;
import org.chefbackend.leaderl.Facts.Peer;
import org.chefbackend.leaderl.Intent.Outcome;

/**
 * leaderl's brain: one pure, deterministic step from what a loop iteration observed to what to do. No I/O, no
 * clock, no randomness; the shell gathers {@link Facts}, calls {@link #next}, and runs the {@link Step}'s actions.
 * The numbered rules below are the ones the comments in the code refer to.
 *
 * <ol>
 * <li>The leader is the holder of the etcd {@code leader} key, bound to a lease of leader_ttl_seconds and taken by
 * create-if-absent. Without etcd nobody may take it, and nobody acts on a guess about who holds it.
 * <li>Only eligible nodes run: healthy PostgreSQL, search and own etcd member (after the shell's hysteresis), not
 * {@code unsynced}, not fenced, failover on for the cluster and the node, disks healthy when fatal_system_checks,
 * within max_bytes_behind_leader of the best known position. Of those the most up-to-date runs (highest LSN, ties to
 * the lower name); the others do not even try.
 * <li>Once there is no leader, a node is elected automatically only at or past the last leader's last recorded
 * position and timeline ({@code history}); otherwise every node waits in waiting_for_leader for an operator's
 * {@code promote} (as after a partition with loss of quorum), which waives the position rules. An unreadable
 * {@code history} is unknown, not "nobody ever led": nobody is elected automatically then either.
 * <li>Fencing margin: a leader fences itself once less than a third of the TTL is left on its lease (two missed
 * refreshes; {@link HaSettings#fenceMarginNanos}), and at once when the key is gone. Fencing = /leader 503, then
 * {@code no-start-pgsql} and an immediate stop, then the key is let go: PostgreSQL is down before anyone else can
 * hold the key. A fenced node never starts PostgreSQL as a primary by itself.
 * <li>A leader whose PostgreSQL, search or own etcd member fails (disks too with fatal_system_checks) gives up the
 * same way, releasing the key so the others elect at once, unless failover is off for the cluster or no eligible
 * follower whose own health checks all pass right now could take over.
 * <li>{@code /leader} answers 200 only in the leader state with PostgreSQL writable and at least
 * required_active_followers followers streaming through slots, and never while a handover stops writes.
 * <li>Promoting: the new holder promotes PostgreSQL, keeps its lease, records {@code history}, and leads once
 * PostgreSQL takes writes.
 * <li>Followers follow the key holder. A deposed leader (or any node that finds itself a primary without the key)
 * rejoins by pg_rewind, by base backup when rewind failed, and clears {@code no-start-pgsql} only once it streams.
 * A follower whose needed WAL is gone re-syncs by base backup by itself. A {@code leader} key that holds no valid
 * record of a member at that member's recorded address (an etcd writer's, not a node's) is followed by nobody, and,
 * since nobody can take the key while it stands, nobody runs: everyone waits, PostgreSQL left as it is.
 * <li>Operator intents. {@code promote NODE} while a leader runs is a switchover that loses nothing: the leader
 * stops writes cleanly and publishes its final position, the target takes the key only once it has replayed that
 * far. {@code demote} is the same switchover to the best eligible follower (chosen over "fence and let them race",
 * which would lose the writes the followers had not yet received); the demoted leader rejoins as a follower.
 * {@code force-leader} only applies when there is no leader. All are refused (cleared, with the reason in the
 * step and in the {@link Intent.Outcome} recorded for the operator) while failover is off for the cluster or for the
 * node concerned.
 * <li>Synchronous mode: only the standby recorded in etcd {@code sync} may be elected automatically. The leader
 * keeps that record a subset of what PostgreSQL waits for: it names a standby in synchronous_standby_names first
 * and records it only once it streams and has confirmed every earlier write; before it stops waiting for a standby
 * (which died, or stopped answering: no reply for {@link HaSettings#syncReplyTimeoutMillis}) it records "none", and
 * only a standby that answers is named. Degrade rule: with no standby streaming and answering the leader records
 * "none", then lets commits proceed without waiting
 * (asynchronous), and from then on no node may be elected automatically until a standby is synchronous again; an
 * operator's promote is then the only way to a new leader (knowingly accepting possible loss). {@code status} shows
 * this in the step's reason.
 * </ol>
 */
public final class Decision {
    private static final Action ACQUIRE = new AcquireLeaderKey();
    private static final Action REFRESH = new RefreshLease();
    private static final Action RELEASE = new ReleaseLeaderKey();
    private static final Action PROMOTE = new PromotePostgres();
    private static final Action FENCE = new FencePostgres();
    private static final Action STOP_WRITES = new StopAcceptingWrites();
    private static final Action START = new StartPostgres();
    private static final Action CLEAR_NO_START = new ClearNoStartPgsql();

    /** Most up-to-date first; equal positions go to the lower name, so every node ranks alike. */
    private static final Comparator<Map.Entry<String, Long>> BEST_FIRST =
            Comparator.<Map.Entry<String, Long>>comparingLong(Map.Entry::getValue).reversed()
                    .thenComparing(Map.Entry::getKey);

    private Decision() {
    }

    public static Step next(Facts f, HaSettings s) {
        boolean deposed = f.state() == DEPOSED_LEADER || (f.noStartPgsql() && f.state() != LEADER);
        if (f.state() == LEADER || f.state() == PROMOTING || (f.holdsLeaderKey() && !deposed)) {
            return asKeyHolder(f, s);
        }
        Step step = asOther(f, s, deposed);
        if (!f.holdsLeaderKey()) {
            return step;
        }
        // Rule 8: a fenced node keeps no lease that might still carry the key; it runs again only without one.
        return step.has(AcquireLeaderKey.class)
                ? new Step(f.state(), List.of(RELEASE), false, "fenced node still holding a lease: releasing it first")
                : step.then(RELEASE);
    }

    /** Why this node may not run for leader now (for its published status), empty when it may. */
    public static Optional<String> ineligibility(Facts f, HaSettings s) {
        return Optional.ofNullable(whyIneligible(f, s));
    }

    // ---- the key holder ------------------------------------------------------------------------------------

    private static Step asKeyHolder(Facts f, HaSettings s) {
        // Rule 4: the key is gone (lease lost or past its deadline, or etcd shows another holder or none).
        boolean someoneElses = f.dcsReachable() && !f.self().equals(f.leader());
        if (!f.holdsLeaderKey() || f.leaseRemainingNanos() <= 0 || someoneElses) {
            return stepDown(f, "lost the leader key" + (someoneElses && f.leader() != null ? " to " + f.leader() : ""));
        }
        // Rule 4: refreshes have been failing; stop writes while the lease is still certainly ours.
        if (f.leaseRemainingNanos() < s.fenceMarginNanos()) {
            return stepDown(f, "leader lease not refreshed, " + millis(f.leaseRemainingNanos())
                    + " ms left: fencing before it can expire");
        }
        Plan p = new Plan().then(REFRESH);
        if (!f.dcsReachable()) {
            p.note("etcd unreachable; lease good for " + millis(f.leaseRemainingNanos()) + " ms");
        }
        // Rule 9: intents are acted on by the leader only, and only with etcd answering (they live there).
        Intent in = f.dcsReachable() ? pending(f, p) : null;
        if (in != null && f.state() == LEADER) {
            Step handover = handOver(f, in, p);
            if (handover != null) {
                return handover;
            }
        }
        // Rule 5: failures after hysteresis end the leadership, unless failover is off for the cluster, or no
        // eligible follower whose own checks all pass could take over (stepping down would only leave the cluster
        // without a leader, e.g. while a lone first node's search engine is still starting, or move it to a node
        // that fails the same way a probe or two later, e.g. when two search engines of three are gone).
        String sick = f.clusterFailover() ? sickness(f, s) : null;
        if (sick != null) {
            if (f.peers().values().stream().anyMatch(peer -> peer.eligible() && peer.healthyNow())) {
                return stepDown(f, sick + ": giving up leadership");
            }
            p.note(sick + ", but no eligible, healthy follower could take over: staying leader");
        }
        return f.state() == LEADER ? lead(f, s, p) : promote(f, s, p);
    }

    /** Fence first, then let the key go: there is never a moment with the key free and this primary writable. */
    private static Step stepDown(Facts f, String reason) {
        List<Action> actions = new ArrayList<>();
        boolean mayWrite = !(f.pgRunning() && f.pgInRecovery()); // a stopped server might start as a primary
        if (mayWrite) {
            actions.add(FENCE);
        }
        if (f.holdsLeaderKey()) {
            actions.add(RELEASE);
        }
        return new Step(mayWrite ? DEPOSED_LEADER : WAITING_FOR_LEADER, actions, false, reason);
    }

    private static String sickness(Facts f, HaSettings s) {
        if (!f.pgsqlHealthy()) {
            return unhealthy(f, "PostgreSQL", "pgsql");
        }
        if (!f.elasticsearchHealthy()) {
            return unhealthy(f, "search", "elasticsearch"); // frontends reach search through the leader only
        }
        if (!f.etcdHealthy()) {
            return unhealthy(f, "own etcd member", "etcd");
        }
        if (s.fatalSystemChecks() && !f.disksHealthy()) {
            return "disk check failing (fatal_system_checks)";
        }
        return null;
    }

    /** Rule 7: just won the key. The lease is refreshed throughout. */
    private static Step promote(Facts f, HaSettings s, Plan p) {
        if (!f.pgRunning()) {
            return p.then(START).step(PROMOTING, false, "holding the key; starting PostgreSQL to promote it");
        }
        if (f.pgInRecovery()) {
            return p.then(PROMOTE).step(PROMOTING, false, "holding the key; promoting PostgreSQL");
        }
        if (!f.pgAccepting()) {
            return p.step(PROMOTING, false, "holding the key; waiting for PostgreSQL to accept connections");
        }
        p.then(new RecordHistory(f.pgLsn(), f.pgTimeline()));
        return lead(f, s, p);
    }

    private static Step lead(Facts f, HaSettings s, Plan p) {
        if (!f.pgRunning()) {
            // The key is ours, so this primary is the only one: restart it (also ends an aborted handover).
            if (f.noStartPgsql()) {
                p.then(CLEAR_NO_START);
            }
            return p.then(START).step(LEADER, false, "PostgreSQL is down; restarting it as the key holder");
        }
        if (f.pgInRecovery()) {
            return p.then(PROMOTE).step(PROMOTING, false, "holding the key but PostgreSQL is a standby; promoting");
        }
        if (!f.pgAccepting()) {
            return p.step(LEADER, false, "leader; PostgreSQL not accepting connections");
        }
        if (f.dcsReachable()) {
            synchronousStandby(f, s, p);
        }
        // Rule 6
        int streaming = f.streamingFollowers().size();
        boolean enough = streaming >= s.requiredActiveFollowers();
        if (!enough) {
            p.note("/leader 503 until " + s.requiredActiveFollowers() + " followers stream through slots ("
                    + streaming + " now)");
        }
        return p.step(LEADER, enough, "leader");
    }

    /** Rule 10, on the leader: keep etcd {@code sync} a subset of what PostgreSQL waits for. */
    private static void synchronousStandby(Facts f, HaSettings s, Plan p) {
        String configured = f.pgSyncStandby();
        String recorded = f.syncStandby();
        if (!s.synchronousMode()) {
            // switched off: the record stops promising anything (first: nodes still in synchronous mode read
            // it), then commits stop waiting
            if (recorded != null) {
                p.then(new RecordSynchronousStandby(null));
            }
            if (configured != null) {
                p.then(new SetSynchronousStandby(null));
            }
            return;
        }
        boolean configuredAnswers = configured != null && answers(f, s, configured);
        if (configuredAnswers && !f.pgSyncConfirmed()) {
            // commits wait for it, but writes acknowledged before may not have reached it yet (or this agent
            // restarted and does not know): confirm before recording; a record naming it already stays true
            if (recorded != null && !recorded.equals(configured)) {
                p.then(new RecordSynchronousStandby(null));
            }
            p.then(new SetSynchronousStandby(configured));
            p.note("synchronous standby: waiting for " + configured + " to confirm every earlier write");
            return;
        }
        if (configuredAnswers) {
            // it streams and every commit waits for it: it holds every acknowledged write, so it may be elected
            if (!configured.equals(recorded)) {
                p.then(new RecordSynchronousStandby(configured));
            }
            p.note("synchronous standby " + configured);
            return;
        }
        if (configured != null && f.streamingFollowers().contains(configured)) {
            // connected but silent (frozen, cut off, its disk hung): commits wait for it until PostgreSQL's
            // wal_sender_timeout ends its walsender; stop waiting for it now, as for a standby that died
            p.note("synchronous standby " + configured + " has not replied for " + f.replyAgeMillis(configured)
                    + " ms (limit " + s.syncReplyTimeoutMillis() + " ms)");
        }
        String next = syncCandidate(f, s);
        if (recorded != null) {
            p.then(new RecordSynchronousStandby(null)); // first: nobody electable before commits stop waiting
        }
        if (!Objects.equals(next, configured)) {
            p.then(new SetSynchronousStandby(next));
        }
        p.note(next == null
                ? "synchronous mode degraded: no standby streams and answers, commits do not wait, no node may be"
                        + " elected automatically"
                : "synchronous standby: switching to " + next);
    }

    /**
     * The follower streams from this leader and its last reply is recent: it answers. A standby that stopped
     * answering is never made (or kept) synchronous, so commits never wait on it for longer than the limit.
     */
    private static boolean answers(Facts f, HaSettings s, String follower) {
        return f.streamingFollowers().contains(follower) && f.replyAgeMillis(follower) <= s.syncReplyTimeoutMillis();
    }

    private static String syncCandidate(Facts f, HaSettings s) {
        return f.peers().entrySet().stream()
                .filter(e -> e.getValue().eligible() && answers(f, s, e.getKey()))
                .map(e -> Map.entry(e.getKey(), e.getValue().lsn()))
                .sorted(BEST_FIRST).map(Map.Entry::getKey).findFirst().orElse(null);
    }

    /**
     * Rule 9, on the leader: a step of a switchover, or null when the intent only needed clearing (noted in
     * {@code p}) and leading goes on.
     */
    private static Step handOver(Facts f, Intent in, Plan p) {
        String to;
        switch (in.kind()) {
            case FORCE_LEADER -> {
                if (in.names(f.self())) {
                    p.then(new ClearIntent(in.kind(), Outcome.done())).note("force-leader: already the leader");
                }
                return null; // any other node named refuses it itself: there is a leader
            }
            case DEMOTE -> {
                if (!in.names(f.self())) {
                    p.then(new ClearIntent(in.kind(), Outcome.done())).note("demote of " + in.target() + " done");
                    return null;
                }
                to = bestEligiblePeer(f);
            }
            case PROMOTE -> {
                if (in.names(f.self())) {
                    p.then(new ClearIntent(in.kind(), Outcome.done())).note("promote done");
                    return null;
                }
                to = in.target();
            }
            default -> throw new IllegalStateException(in.kind().toString());
        }
        boolean writable = f.pgRunning() && !f.pgInRecovery();
        if (!in.drained() || writable) {
            // Refusals are judged before writes stop; once they have, only the intent's timeout ends the wait.
            String refusal = handoverRefusal(f, in, to);
            if (refusal != null) {
                p.then(new ClearIntent(in.kind(), Outcome.refused(refusal)))
                        .note(in.kind().jsonName() + " refused: " + refusal);
                return null;
            }
            return p.then(STOP_WRITES).step(LEADER, false, "handing over to " + to + ": stopping writes");
        }
        Peer target = to == null ? null : f.peers().get(to);
        if (target != null && target.lsn() >= in.drainedAtLsn()) {
            // it has every write this leader ever acknowledged: let it take the key
            return new Step(DEPOSED_LEADER, List.of(new RecordHistory(in.drainedAtLsn(), f.pgTimeline()), RELEASE),
                    false, "handed over to " + to + " at " + lsn(in.drainedAtLsn()) + "; released the key");
        }
        return p.step(LEADER, false, "handing over to " + (to == null ? "the best follower" : to)
                + ": waiting for it to replay to " + lsn(in.drainedAtLsn())
                + (target == null ? " (no answer)" : " (at " + lsn(target.lsn()) + ")"));
    }

    private static String handoverRefusal(Facts f, Intent in, String to) {
        if (!f.clusterFailover()) {
            return "failover is disabled for the cluster";
        }
        if (in.kind() == Intent.Kind.DEMOTE && !f.nodeFailover()) {
            return "failover is disabled for this node";
        }
        if (to == null) {
            return "no eligible follower to hand over to";
        }
        Peer target = f.peers().get(to);
        if (target == null) {
            return to + " does not answer";
        }
        if (!target.eligible()) {
            return to + " is not eligible for leadership";
        }
        return null;
    }

    // ---- everyone else ---------------------------------------------------------------------------------------

    private static Step asOther(Facts f, HaSettings s, boolean deposed) {
        State waiting = deposed ? DEPOSED_LEADER : WAITING_FOR_LEADER;
        // Rule 1: without etcd there is no election and no knowing who leads: change nothing.
        if (!f.dcsReachable()) {
            return Step.of(f.state(), "etcd unreachable: no election; PostgreSQL left as it is");
        }
        // Rule 8: an unreadable key names no one to follow, and it is not free
        if (f.leaderUnreadable()) {
            return Step.of(waiting, "the leader key in etcd is unreadable (not a member's record at its recorded"
                    + " address): following nobody, no election while it stands; PostgreSQL left as it is");
        }
        if (f.self().equals(f.leader())) {
            return Step.of(waiting, "the leader key still names this node from an earlier lease; waiting for it to"
                    + " expire");
        }
        Intent in = pending(f, null);
        String leader = f.leader();
        if (leader != null) {
            Plan p = new Plan();
            if (in != null && in.names(f.self()) && in.kind() == Intent.Kind.FORCE_LEADER) {
                // Rule 9: force-leader only when no leader exists
                p.then(new ClearIntent(in.kind(), Outcome.refused(leader + " leads")))
                        .note("force-leader refused: " + leader + " leads");
            } else if (in != null && in.names(f.self()) && in.kind() == Intent.Kind.PROMOTE) {
                p.note("promote requested: waiting for " + leader + " to hand over");
            }
            if (f.unsynced()) {
                return p.step(WAITING_FOR_LEADER, false, partiallySynced());
            }
            return follow(f, leader, deposed, p);
        }
        if (in != null && in.kind() != Intent.Kind.DEMOTE) {
            if (in.names(f.self())) {
                return takeOnRequest(f, s, in, waiting);
            }
            return Step.of(waiting, in.kind().jsonName() + " of " + in.target() + " pending: not running for leader");
        }
        if (f.unsynced()) {
            return Step.of(WAITING_FOR_LEADER, partiallySynced());
        }
        boolean nobodyLedSince = !f.historyUnreadable() && (f.self().equals(f.lastLeaderName())
                || (f.lastLeaderName() == null && f.lastLeaderLsn() == Facts.NO_POSITION));
        if (deposed && !f.pgRunning() && f.bootFenced() && nobodyLedSince) {
            // Rule 4b: fenced only because it was a primary when its agent started (a crash, a power loss, a
            // quorum-loss recovery) or because it stopped cleanly as leader (a node stop with nobody to take over:
            // a cluster of one, failover off), and nobody has led since (or ever, in this etcd), so nothing it holds
            // was superseded; as a standby (read-only) it stands for election again like the others. A leader that
            // leaderl fenced for a fault stays deposed until a new leader exists or the operator reinstates it.
            return new Step(WAITING_FOR_LEADER, List.of(new ReinstateAsStandby()), false,
                    "fenced, but nobody has led since this node: restarting PostgreSQL as a standby to stand for"
                            + " election");
        }
        if (deposed) {
            // Rule 4: a fenced former leader never leads again by itself; it rejoins once there is a leader.
            return Step.of(DEPOSED_LEADER, "deposed leader: waiting for a new leader to rejoin");
        }
        return elect(f, s, in);
    }

    private static String partiallySynced() {
        return "partially synced: a sync failed (unsynced sentinel); fix it and remove the sentinel";
    }

    /** Rules 2, 3 and 10: the automatic election. */
    private static Step elect(Facts f, HaSettings s, Intent demote) {
        String why = whyIneligible(f, s);
        if (why != null) {
            return Step.of(WAITING_FOR_LEADER, "not eligible: " + why);
        }
        // After a demote's handover, any node at the old leader's final position holds every acknowledged write.
        boolean handedOver = demote != null && demote.drained();
        if (handedOver && f.pgLsn() < demote.drainedAtLsn()) {
            return Step.of(WAITING_FOR_LEADER, "not yet at the demoted leader's final position "
                    + lsn(demote.drainedAtLsn()));
        }
        // Rule 3: what the last leader had is unknown, as after a gap; only an operator knows what may be lost
        if (f.historyUnreadable() && !handedOver) {
            return Step.of(WAITING_FOR_LEADER, "the last leader's history in etcd is unreadable (what it had is"
                    + " unknown): no automatic election; waiting for an operator's promote");
        }
        // Rule 10 does not bind a new cluster (nobody ever led) or the last leader itself when nobody led since it
        boolean noLeaderYet = f.lastLeaderName() == null && f.lastLeaderLsn() == Facts.NO_POSITION;
        boolean lastLeaderItself = f.self().equals(f.lastLeaderName());
        if (s.synchronousMode() && !handedOver && !noLeaderYet && !lastLeaderItself) {
            // Rule 10: only the recorded synchronous standby is known to hold every acknowledged write.
            if (!f.self().equals(f.syncStandby())) {
                return Step.of(WAITING_FOR_LEADER, f.syncStandby() == null
                        ? "synchronous mode: no standby is recorded as synchronous; waiting for an operator's promote"
                        : "synchronous mode: only " + f.syncStandby() + " may be elected");
            }
            return new Step(WAITING_FOR_LEADER, List.of(ACQUIRE), false,
                    "the recorded synchronous standby: taking the leader key");
        }
        // Rule 2: only the most up-to-date eligible node runs.
        String better = betterPeer(f);
        if (better != null) {
            return Step.of(WAITING_FOR_LEADER, better + " is more up to date; not running for leader");
        }
        // Rule 3: never elect automatically a node that lacks what the last leader had.
        if (!handedOver && behindHistory(f)) {
            return Step.of(WAITING_FOR_LEADER, "behind the last leader's recorded position " + lsn(f.lastLeaderLsn())
                    + " (timeline " + f.lastLeaderTimeline() + "; here " + lsn(f.pgLsn()) + ", timeline "
                    + f.pgTimeline() + "): waiting for an operator's promote");
        }
        return new Step(WAITING_FOR_LEADER, List.of(ACQUIRE), false,
                "most up-to-date eligible node: taking the leader key");
    }

    /** Rule 9: an operator named this node and there is no leader. The position rules are waived; fitness is not. */
    private static Step takeOnRequest(Facts f, HaSettings s, Intent in, State waiting) {
        String unfit = whyUnfit(f, s);
        if (unfit != null) {
            return new Step(waiting, List.of(new ClearIntent(in.kind(), Outcome.refused(unfit))), false,
                    in.kind().jsonName() + " refused: " + unfit);
        }
        if (in.kind() == Intent.Kind.PROMOTE && in.leaderWhenAsked() != null
                && (!in.drained() || f.pgLsn() < in.drainedAtLsn())) {
            // a switchover: the key only with every write of the old leader
            return Step.of(waiting, "promote: waiting to replay to " + in.leaderWhenAsked() + "'s final position"
                    + (in.drained() ? " " + lsn(in.drainedAtLsn()) : ""));
        }
        // the operator has reinstated this node ("Promoting a Previous Leader"), so it is no longer "deposed"
        return new Step(WAITING_FOR_LEADER, List.of(ACQUIRE), false, "operator's " + in.kind().jsonName()
                + ": taking the leader key");
    }

    /** Rule 8. */
    private static Step follow(Facts f, String leader, boolean deposed, Plan p) {
        State waiting = deposed ? DEPOSED_LEADER : FOLLOWER;
        if (f.pgRunning() && !f.pgInRecovery()) {
            return p.then(FENCE).step(DEPOSED_LEADER, false, "PostgreSQL is a primary but " + leader
                    + " holds the key: fencing it, to rejoin by pg_rewind");
        }
        boolean onLeader = leader.equals(f.pgUpstream());
        // one rejoin sequence per leader change: once this node's data is a copy of the leader's timeline, a node
        // not yet streaming only starts or re-points (rewinding it again stopped PostgreSQL on every iteration)
        boolean rejoined = leader.equals(f.rejoinedTo());
        boolean copy = f.followTrouble() == FollowTrouble.REWIND_FAILED
                || (onLeader && f.followTrouble() == FollowTrouble.WAL_GONE);
        // a standby already running on the leader needs none: it streams, or its fork shows as DIVERGED
        boolean rewind = !copy && ((deposed && !rejoined && !(f.pgRunning() && onLeader))
                || (onLeader && f.followTrouble() == FollowTrouble.DIVERGED));
        if ((copy || rewind) && f.nowNanos() < f.rejoinRetryAtNanos()) {
            return p.step(waiting, false, "rejoining " + leader + ": the last attempt failed; trying again in "
                    + (millis(f.rejoinRetryAtNanos() - f.nowNanos()) + 999) / 1000 + " s");
        }
        if (copy) {
            return p.then(new BaseBackupFrom(leader)).step(waiting, false,
                    f.followTrouble() == FollowTrouble.REWIND_FAILED
                            ? "pg_rewind cannot rejoin " + leader + ": base backup from it"
                            : "WAL this node needs is gone from " + leader + ": base backup");
        }
        if (rewind) {
            // a former leader may hold WAL the new one never had: rewind (it finds nothing to undo when it has none)
            return p.then(new RewindFrom(leader)).step(waiting, false, deposed && !rejoined
                    ? "rejoining " + leader + " by pg_rewind" : "timeline diverged from " + leader + ": pg_rewind");
        }
        if (!f.pgRunning() || !onLeader) {
            return p.then(new FollowLeader(leader)).step(waiting, false, "following " + leader);
        }
        if (!f.pgStreaming()) {
            return p.step(waiting, false, "connecting to " + leader);
        }
        if (f.noStartPgsql() && f.pgsqlHealthy()) {
            p.then(CLEAR_NO_START); // a healthy follower again: the fence has done its job
        } else if (f.noStartPgsql()) {
            return p.step(waiting, false, "streaming from " + leader + "; PostgreSQL not yet healthy");
        }
        return p.step(FOLLOWER, false, "streaming from " + leader);
    }

    // ---- eligibility and ranking -----------------------------------------------------------------------------

    /** Health, sentinels and switches: what even an operator's request cannot waive. */
    private static String whyUnfit(Facts f, HaSettings s) {
        if (f.unsynced()) {
            return "partially synced (unsynced sentinel)";
        }
        if (f.noStartPgsql()) {
            return "fenced (no-start-pgsql; to reinstate this node remove it and restart postgresql first)";
        }
        if (!f.clusterFailover()) {
            return "failover is disabled for the cluster";
        }
        if (!f.nodeFailover()) {
            return "failover is disabled for this node";
        }
        if (!f.pgsqlHealthy()) {
            return unhealthy(f, "PostgreSQL", "pgsql");
        }
        if (!f.pgRunning() || !f.pgAccepting()) {
            return "PostgreSQL not accepting connections";
        }
        if (!f.elasticsearchHealthy()) {
            return unhealthy(f, "search", "elasticsearch");
        }
        if (!f.etcdHealthy()) {
            return unhealthy(f, "own etcd member", "etcd");
        }
        if (s.fatalSystemChecks() && !f.disksHealthy()) {
            return "disk check failing (fatal_system_checks)";
        }
        return null;
    }

    /** "search unhealthy (elasticsearch check 5/5 failures: no elected cluster manager)": what, and the check's word. */
    private static String unhealthy(Facts f, String what, String check) {
        String note = f.healthNotes().get(check);
        return what + " unhealthy" + (note != null ? " (" + note + ")" : "");
    }

    private static String whyIneligible(Facts f, HaSettings s) {
        String unfit = whyUnfit(f, s);
        if (unfit != null) {
            return unfit;
        }
        if (f.state() == DEPOSED_LEADER) {
            return "deposed leader: rejoins as a follower first";
        }
        long behind = bestKnownPosition(f) - f.pgLsn();
        if (behind > s.maxBytesBehindLeader()) {
            return bytes(behind) + " behind the best known position (max_bytes_behind_leader "
                    + s.maxBytesBehindLeader() + ")";
        }
        return null;
    }

    /** 1288490188 -> "1.2 GB", 2048 -> "2048 bytes": sizes an operator reads at a glance. */
    static String bytes(long n) {
        String[] units = {"KB", "MB", "GB", "TB"};
        if (n < 10_000) {
            return n + " bytes";
        }
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    private static long bestKnownPosition(Facts f) {
        long best = Math.max(f.pgLsn(), f.lastLeaderLsn());
        for (Peer peer : f.peers().values()) {
            best = Math.max(best, peer.lsn());
        }
        return best;
    }

    /** The best eligible peer that outranks this node, null when none does. */
    private static String betterPeer(Facts f) {
        Map.Entry<String, Long> me = Map.entry(f.self(), f.pgLsn());
        return f.peers().entrySet().stream()
                .filter(e -> e.getValue().eligible())
                .map(e -> Map.entry(e.getKey(), e.getValue().lsn()))
                .filter(e -> BEST_FIRST.compare(e, me) < 0)
                .sorted(BEST_FIRST).map(Map.Entry::getKey).findFirst().orElse(null);
    }

    private static String bestEligiblePeer(Facts f) {
        return f.peers().entrySet().stream()
                .filter(e -> e.getValue().eligible())
                .map(e -> Map.entry(e.getKey(), e.getValue().lsn()))
                .sorted(BEST_FIRST).map(Map.Entry::getKey).findFirst().orElse(null);
    }

    private static boolean behindHistory(Facts f) {
        return f.lastLeaderLsn() != Facts.NO_POSITION
                && (f.pgLsn() < f.lastLeaderLsn() || f.pgTimeline() < f.lastLeaderTimeline());
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    /**
     * The intent to act on: timed-out ones are ignored, and cleared by the leader (when {@code p} is given), so are
     * unreadable ones.
     */
    private static Intent pending(Facts f, Plan p) {
        if (p != null && f.unreadableIntentTimedOut()) {
            p.then(new ClearIntent(null, Outcome.timedOut())).note("an unreadable intent timed out: cleared");
        }
        Intent in = f.intent();
        if (in != null && in.timedOut()) {
            if (p != null) {
                p.then(new ClearIntent(in.kind(), Outcome.timedOut()))
                        .note(in.kind().jsonName() + " of " + in.target() + " timed out");
            }
            return null;
        }
        return in;
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /** PostgreSQL's notation, as in its logs. */
    static String lsn(long lsn) {
        return lsn < 0 ? "none" : Long.toHexString(lsn >>> 32).toUpperCase() + "/"
                + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase();
    }

    /** Actions and notes gathered on the way to a step. */
    private static final class Plan {
        private final List<Action> actions = new ArrayList<>();
        private final List<String> notes = new ArrayList<>();

        Plan then(Action a) {
            actions.add(a);
            return this;
        }

        Plan note(String n) {
            notes.add(n);
            return this;
        }

        Step step(State next, boolean leaderEndpoint200, String reason) {
            String why = notes.isEmpty() ? reason : reason + "; " + String.join("; ", notes);
            return new Step(next, actions, leaderEndpoint200, why);
        }
    }
}
