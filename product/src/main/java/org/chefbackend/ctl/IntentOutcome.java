package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;
import org.chefbackend.system.CtlCommand;

/**
 * How leaderl ended an operator's request, as {@code GET /cluster} shows it ({@code intent_outcome}), told apart from
 * other requests' by the id the agent gave the request.
 *
 * @param outcome "done", "refused" or "timed_out"
 * @param reason why it was refused; null otherwise
 */
record IntentOutcome(String outcome, String reason) {
    /** The outcome of request {@code id} in {@code view}, empty while it is pending (or the agent records none). */
    static Optional<IntentOutcome> of(JsonNode view, String id) {
        JsonNode o = view.path("intent_outcome");
        if (id == null || id.isEmpty() || !o.path("id").asText().equals(id)) {
            return Optional.empty();
        }
        return Optional.of(new IntentOutcome(o.path("outcome").asText(""),
                o.path("reason").isTextual() ? o.path("reason").asText() : null));
    }

    boolean done() {
        return outcome.equals("done");
    }

    /** The operator's line when it was not done, e.g. "demote of be1 refused: no eligible follower to hand over to". */
    String failure(String request, long timeoutSeconds) {
        return switch (outcome) {
            case "refused" -> request + " refused: " + (reason != null ? reason : "leaderl gave no reason");
            case "timed_out" -> request + " timed out: not completed within leaderl.control_worker_timeout_seconds ("
                    + timeoutSeconds + " s); see " + CtlCommand.elsewhere("tail leaderl") + " on the leader";
            default -> request + " ended as '" + outcome + "'" + (reason != null ? ": " + reason : "");
        };
    }
}
