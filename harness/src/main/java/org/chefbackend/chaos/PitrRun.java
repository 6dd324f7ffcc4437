package org.chefbackend.chaos;

import java.util.ArrayList;
import java.util.List;

/**
 * What one run of {@code bin/chaos pitr} found, filled in step by step: a run that fails part-way still reports what
 * it got to. Timelines are PostgreSQL's numbers (0: not read); seconds NaN and counts -1 where a step was not reached.
 */
final class PitrRun {
    final int run;
    boolean synchronous;
    double backupSeconds = Double.NaN;
    /** One line per failover or switchover: how, from which leader to which, how long until healed. */
    final List<String> leaderMoves = new ArrayList<>();
    int leaderChanges = -1;
    int doubleLeaderSweeps = -1;
    /** Writes acknowledged through HAProxy while the backup, the failovers and the switchover ran. */
    int acked = -1;
    PitrCheck.Target t1;
    String switchedSegment;
    String archiveRow;
    int backupCheckExit = -1;
    String backupCheckSummary;
    long missingSegments = -1;
    long clusterTimeline;
    PitrCheck.Verdict atT1;
    long t1Timeline;
    double t1RestoreSeconds = Double.NaN;
    /** The same restore judged as if it had reached T1 + {@link Pitr#CONTROL_SECONDS}: it must fail. */
    PitrCheck.Verdict control;
    int latestMissing = -1;
    int latestPresent = -1;
    long latestTimeline;
    double latestRestoreSeconds = Double.NaN;
    /** Writes acknowledged in the last phase, whose end is the loss of every node. */
    PitrCheck.RecoveryPoint rpo;
    long archiveTimeout;
    double rpoRestoreSeconds = Double.NaN;
    long repositoryTimelineBefore;
    long rpoTimeline;
    boolean rpoHistoryArchived;
    double seconds = Double.NaN;
    String error;

    PitrRun(int run) {
        this.run = run;
    }

    /** The negative control made the checker fail, by missing acknowledged writes. */
    boolean controlFailed() {
        return control != null && !control.passed() && control.missingBefore() > 0;
    }

    /** The recovery point is within archive_timeout and the restore holds no hole. */
    boolean rpoMet() {
        return rpo != null && rpo.holes() == 0 && rpo.seconds() <= archiveTimeout;
    }

    /** The replacement leads a timeline the repository did not have, and archived its history there. */
    boolean newTimelineArchived() {
        return rpoTimeline > repositoryTimelineBefore && rpoHistoryArchived;
    }

    boolean passed() {
        return error == null && backupCheckExit == 0 && missingSegments == 0 && atT1 != null && atT1.passed()
                && controlFailed() && latestMissing == 0 && rpoMet() && newTimelineArchived();
    }
}
