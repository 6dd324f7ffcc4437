package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.chefbackend.config.SettingsSchema;
import org.chefbackend.system.OperatorException;

/** The runit-style lines the original prints for services: "ok: run: leaderl: (pid 12345) 1s". */
final class ServiceLines {
    /** Service names as the CLI accepts them, in display order. */
    static final List<String> SERVICES = SettingsSchema.SERVICES.stream().sorted().toList();

    private ServiceLines() {
    }

    static void requireKnown(String service) {
        if (service != null && !SERVICES.contains(service)) {
            throw OperatorException.usage("unknown service '" + service + "'; services are " + String.join(", ", SERVICES));
        }
    }

    static long seconds(JsonNode s, long nowMillis) {
        return Math.max(0, (nowMillis - s.path("sinceMillis").asLong(nowMillis)) / 1000);
    }

    /** "run: etcd: (pid 4) 12s" or "down: etcd: 3s, normally up[, want up]". */
    static String runitLine(JsonNode s, long nowMillis) {
        String name = s.path("name").asText();
        long secs = seconds(s, nowMillis);
        if (!s.path("enabled").asBoolean()) {
            return "down: " + name + ": disabled";
        }
        if (s.path("running").asBoolean()) {
            return "run: " + name + ": (pid " + s.path("pid").asLong() + ") " + secs + "s"
                    + (s.path("wantUp").asBoolean() ? "" : ", want down");
        }
        String line = "down: " + name + ": " + secs + "s, normally " + (s.path("normallyUp").asBoolean() ? "up" : "down")
                + (s.path("wantUp").asBoolean() ? ", want up" : "");
        String reason = s.path("reason").asText("");
        return reason.isEmpty() || reason.equals("null") ? line : line + " (" + reason + ")";
    }

    /** "Nd Nh Nm Ns", as the original's status table prints time in state. */
    static String duration(long seconds) {
        return (seconds / 86400) + "d " + (seconds % 86400 / 3600) + "h " + (seconds % 3600 / 60) + "m " + (seconds % 60) + "s";
    }
}
