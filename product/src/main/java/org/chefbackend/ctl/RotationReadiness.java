package org.chefbackend.ctl;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Whether every member is ready for rotate-secrets, from what each agent answered to the check: each must hold the
 * current secrets of the node that runs the command and a next file with the same fingerprint, or already hold the
 * next secrets (a run cut short). Pure: the command asks the agents.
 */
final class RotationReadiness {
    /** One member's answer: HTTP status, its current and next fingerprints, why its next file would not do. */
    record Answer(String node, int status, String current, String next, String problem, String error) {
    }

    /** Refusals, one per member that is not ready, naming it; empty when all are. */
    static List<String> problems(String currentFingerprint, String nextFingerprint, List<Answer> answers) {
        List<String> problems = new ArrayList<>();
        for (Answer a : answers) {
            if (a.status() != 200) {
                problems.add(a.node() + ": " + (a.error() == null ? "HTTP " + a.status() : a.error()));
            } else if (nextFingerprint.equals(a.current())) {
                continue; // switched already
            } else if (!currentFingerprint.equals(a.current())) {
                problems.add(a.node() + " holds other secrets than this node");
            } else if (a.problem() != null) {
                problems.add(a.node() + ": " + a.problem());
            } else if (!Objects.equals(nextFingerprint, a.next())) {
                problems.add(a.node() + ": its next secrets file differs from this node's");
            }
        }
        return problems;
    }

    /** The members still to switch: those that do not hold the next secrets yet. */
    static List<String> pending(String nextFingerprint, List<Answer> answers) {
        return answers.stream().filter(a -> !nextFingerprint.equals(a.current())).map(Answer::node).toList();
    }
}
