package org.chefbackend.ctl;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Whether every member is ready for rotate-ca, from each agent's answer to the check: the same next CA file as this
 * node's, fit for this cluster, and every node within one phase of the others (a run cut short goes on from the
 * lowest). Pure: the command asks the agents.
 */
final class CaRotationReadiness {
    /** One member's answer: HTTP status, its next CA file's fingerprint, its phase (0–3), why its file would not do. */
    record Answer(String node, int status, String next, Integer phase, String problem, String error) {
    }

    static List<String> problems(String nextFingerprint, List<Answer> answers) {
        List<String> problems = new ArrayList<>();
        for (Answer a : answers) {
            if (a.status() != 200) {
                problems.add(a.node() + ": " + (a.error() == null ? "HTTP " + a.status() : a.error()));
            } else if (a.problem() != null) {
                problems.add(a.node() + ": " + a.problem());
            } else if (!Objects.equals(nextFingerprint, a.next())) {
                problems.add(a.node() + ": its next CA file differs from this node's");
            }
        }
        if (problems.isEmpty() && highest(answers) - lowest(answers) > 1) {
            problems.add("the nodes are more than one phase apart (" + phases(answers) + ")");
        }
        return problems;
    }

    /** The phase every node has reached: the next phase to run is one more. */
    static int lowest(List<Answer> answers) {
        return answers.stream().mapToInt(Answer::phase).min().orElse(0);
    }

    private static int highest(List<Answer> answers) {
        return answers.stream().mapToInt(Answer::phase).max().orElse(0);
    }

    private static String phases(List<Answer> answers) {
        return String.join(", ", answers.stream().map(a -> a.node() + " " + a.phase()).toList());
    }
}
