package org.chefbackend.leaderl;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.chefbackend.postgres.ReplicationStatus;

/**
 * Per streaming follower, its last reply_time seen here and when it was first seen (for its reply's age). The
 * loop's thread only.
 */
final class ReplyAges {
    private record ReplySeen(String replyTime, long firstSeenNanos) {
    }

    private final Map<String, ReplySeen> replies = new HashMap<>();

    /**
     * How long ago {@code r}'s last reply arrived, in ms on this node's monotonic clock: since its reply_time was
     * first seen with its current value. reply_time is the standby's clock, so it is only compared with itself: a
     * standby whose clock is off neither looks silent nor hides that it is. A follower seen for the first time (this
     * loop just started or it just connected) counts as just heard from. Late by at most an iteration.
     */
    long ageMillis(ReplicationStatus.ReplicaInfo r, long now) {
        ReplySeen seen = replies.get(r.applicationName());
        if (seen == null || !Objects.equals(seen.replyTime(), r.replyTime())) {
            replies.put(r.applicationName(), new ReplySeen(r.replyTime(), now));
            return 0;
        }
        return TimeUnit.NANOSECONDS.toMillis(now - seen.firstSeenNanos());
    }

    /** Forgets the followers no longer streaming. */
    void keepOnly(Set<String> streaming) {
        replies.keySet().retainAll(streaming);
    }

    void clear() {
        replies.clear();
    }
}
