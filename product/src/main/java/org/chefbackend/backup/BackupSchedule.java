package org.chefbackend.backup;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;

/**
 * When the next scheduled base backup is due, of which type, and which node takes it: pure, so the keeper's choices
 * are a table of cases. Backups are taken on a follower, as the documents want; a cluster of one takes them on its
 * leader, which is all it has.
 */
public final class BackupSchedule {
    /** A node's last published status, as far as choosing the backup taker goes. */
    public record Candidate(String name, boolean follower, boolean synced, boolean fresh) {
    }

    private BackupSchedule() {
    }

    /**
     * The type due now: "full" when {@code fullEvery} passed since the newest full backup (or there is none), else
     * "diff" when {@code diffEvery} passed since the newest full or differential one; empty when nothing is due. A
     * zero interval schedules nothing of that type.
     */
    public static Optional<String> due(Instant now, Optional<Instant> lastFull, Optional<Instant> lastFullOrDiff,
            Duration fullEvery, Duration diffEvery) {
        if (!fullEvery.isZero() && (lastFull.isEmpty() || !now.isBefore(lastFull.get().plus(fullEvery)))) {
            return Optional.of("full");
        }
        if (!diffEvery.isZero() && lastFull.isPresent()
                && !now.isBefore(lastFullOrDiff.orElse(lastFull.get()).plus(diffEvery))) {
            return Optional.of("diff");
        }
        return Optional.empty();
    }

    /**
     * Who takes scheduled backups: the first, by name, of the followers that are synced and whose status is fresh;
     * with none, the leader. Every node computes the same answer from the same statuses; an etcd lock covers the
     * moments their views differ.
     */
    public static Optional<String> taker(String leader, Collection<Candidate> nodes) {
        Optional<String> follower = nodes.stream().filter(c -> c.follower() && c.synced() && c.fresh())
                .map(Candidate::name).min(Comparator.naturalOrder());
        return follower.isPresent() ? follower : Optional.ofNullable(leader);
    }
}
