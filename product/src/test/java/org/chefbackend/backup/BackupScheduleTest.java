package org.chefbackend.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.chefbackend.backup.BackupSchedule.Candidate;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BackupScheduleTest {
    static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");
    static final Duration WEEK = Duration.ofHours(168);
    static final Duration DAY = Duration.ofHours(24);

    static Optional<Instant> hoursAgo(long h) {
        return Optional.of(NOW.minus(Duration.ofHours(h)));
    }

    static Stream<Arguments> dueCases() {
        return Stream.of(
                Arguments.of("no backup yet: a full one", Optional.empty(), Optional.empty(), WEEK, DAY, "full"),
                Arguments.of("full a week old: a full one", hoursAgo(168), hoursAgo(2), WEEK, DAY, "full"),
                Arguments.of("full a day old, nothing since: a diff", hoursAgo(30), hoursAgo(30), WEEK, DAY, "diff"),
                Arguments.of("diff an hour old: nothing", hoursAgo(30), hoursAgo(1), WEEK, DAY, null),
                Arguments.of("full an hour old: nothing", hoursAgo(1), hoursAgo(1), WEEK, DAY, null),
                Arguments.of("diffs off: only fulls", hoursAgo(100), hoursAgo(100), WEEK, Duration.ZERO, null),
                Arguments.of("fulls off, none yet: nothing to diff from", Optional.empty(), Optional.empty(),
                        Duration.ZERO, DAY, null),
                Arguments.of("fulls off, an old full: diffs go on", hoursAgo(500), hoursAgo(25), Duration.ZERO, DAY,
                        "diff"),
                Arguments.of("exactly due counts as due", hoursAgo(168), hoursAgo(168), WEEK, DAY, "full"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dueCases")
    void theTypeDueFollowsTheIntervals(String scenario, Optional<Instant> lastFull, Optional<Instant> lastAny,
            Duration full, Duration diff, String expected) {
        assertEquals(Optional.ofNullable(expected), BackupSchedule.due(NOW, lastFull, lastAny, full, diff));
    }

    static Stream<Arguments> takerCases() {
        Candidate b = new Candidate("b", true, true, true);
        Candidate c = new Candidate("c", true, true, true);
        return Stream.of(
                Arguments.of("the first synced follower by name", List.of(c, b), "b"),
                Arguments.of("a follower still syncing is passed over", List.of(
                        new Candidate("b", true, false, true), c), "c"),
                Arguments.of("a follower with a stale status is passed over", List.of(
                        new Candidate("b", true, true, false), c), "c"),
                Arguments.of("no follower: the leader itself", List.of(new Candidate("a", false, true, true)), "a"),
                Arguments.of("nobody leads and no follower: nobody", List.of(), null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("takerCases")
    void aFollowerTakesTheBackups(String scenario, List<Candidate> nodes, String expected) {
        String leader = expected == null ? null : "a";
        assertEquals(Optional.ofNullable(expected), BackupSchedule.taker(leader, nodes));
    }
}
