package org.chefbackend.leaderl;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One decision: the state to adopt, what to do, what {@code GET /leader} answers, and why (for logs and
 * {@code status}). The shell turns {@code /leader} to 503 before running the actions when
 * {@code leaderEndpoint200} is false, and to 200 only after all of them succeeded; it adopts {@code next} only when
 * all succeeded, otherwise it keeps the previous state and decides again from fresh facts.
 */
public record Step(State next, List<Action> actions, boolean leaderEndpoint200, String reason) {
    public Step {
        Objects.requireNonNull(next, "next");
        Objects.requireNonNull(reason, "reason");
        actions = List.copyOf(actions);
        if (leaderEndpoint200 && next != State.LEADER) {
            throw new IllegalArgumentException("/leader 200 outside the leader state: " + next);
        }
    }

    static Step of(State next, String reason) {
        return new Step(next, List.of(), false, reason);
    }

    Step then(Action a) {
        List<Action> more = new ArrayList<>(actions);
        more.add(a);
        return new Step(next, more, leaderEndpoint200, reason);
    }

    public boolean has(Class<? extends Action> type) {
        return actions.stream().anyMatch(type::isInstance);
    }
}
