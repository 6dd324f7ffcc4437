package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.Optional;
import org.chefbackend.system.OperatorException;
import picocli.CommandLine.Model.CommandSpec;

/**
 * A planned restart or stop is not a failure: on the leader, {@code restart}/{@code stop} of a service (and
 * {@code restart} of the node) first hand the leadership over by a clean switchover (the documents' {@code demote}:
 * writes stop, the best eligible follower replays to the last one, then takes over), so no health check runs out
 * while the service is down and no unplanned failover follows. With no eligible follower, or failover switched off,
 * the service restarts in place: then nobody could take over anyway, and the leader stays (Decision rule 5).
 * {@code leaderl} is not handed over this way: stopping the leader's leaderl is itself its documented hand-over (it
 * fences PostgreSQL, writes no-start-pgsql and lets the key go), which the manual recovery procedures rely on.
 */
final class Handover {
    private Handover() {
    }

    /** Hands over first when this node leads; says what it did. Returns the new leader, empty when it stayed. */
    static Optional<String> ifLeader(RootOptions node, CommandSpec spec, AgentClient client, JsonNode status,
            String service, String what) {
        PrintWriter out = spec.commandLine().getOut();
        if (!status.path("in_cluster").asBoolean() || "leaderl".equals(service)) {
            return Optional.empty();
        }
        JsonNode view;
        try {
            view = IntentCommands.view(client);
        } catch (OperatorException e) {
            return Optional.empty(); // not (yet) a connected member: there is no leadership to hand over
        }
        String self = status.path("node").path("name").asText();
        if (!self.equals(IntentCommands.leader(view))) {
            return Optional.empty();
        }
        String inPlace = whyInPlace(view, self);
        if (inPlace != null) {
            out.println("note: " + self + " is the leader and " + inPlace + ": " + what + " in place");
            out.flush();
            return Optional.empty();
        }
        out.println("ok: " + self + " is the leader; handing leadership over before " + what);
        out.flush();
        try {
            IntentCommands.request(node, spec, "demote", self, view);
        } catch (OperatorException e) {
            // e.g. the follower turned ineligible meanwhile: nobody can take over, so none will by failover either
            out.println("note: the hand-over did not happen (" + e.getMessage() + "): " + what + " in place");
            out.flush();
            return Optional.empty();
        }
        String now = IntentCommands.leader(IntentCommands.view(client));
        out.println("ok: handed leadership over to " + now);
        out.flush();
        return Optional.ofNullable(now);
    }

    /** Why the leader cannot hand over (then nobody could take over by failover either); null when it can. */
    static String whyInPlace(JsonNode view, String leader) {
        if (!view.at("/cluster/failover_enabled").asBoolean(true)) {
            return "failover is disabled for the cluster";
        }
        for (JsonNode n : view.path("nodes")) {
            if (n.path("name").asText().equals(leader) && !n.path("failover_enabled").asBoolean(true)) {
                return "failover is disabled for it";
            }
        }
        for (JsonNode n : view.path("nodes")) {
            if (!n.path("name").asText().equals(leader) && n.path("eligible_for_leader").asBoolean()) {
                return null;
            }
        }
        return "no follower is eligible to take over";
    }
}
