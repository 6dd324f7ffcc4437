package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.chefbackend.system.CtlCommand;

/**
 * {@code status}'s lines for processes that still run files replaced on disk since they started (the agent's
 * {@code replaced_files}: Debian upgraded postgresql-15 or etcd-server, or the chef-backend package itself). One
 * line per process, with the restart that puts the new files to use; docs/UPGRADES.md has the rolling order.
 */
final class ReplacedFileLines {
    static final String AGENT = "agent";

    private ReplacedFileLines() {
    }

    /**
     * @param service the service {@code status} was asked about, or null for all; the agent's own line goes with
     *     leaderl, which runs in it
     * @param root the node root, for commands that paste as printed
     */
    static List<String> lines(JsonNode status, String service, Path root, String ctl) {
        List<String> out = new ArrayList<>();
        for (JsonNode entry : status.path("replaced_files")) {
            String name = entry.path("service").asText();
            List<String> files = new ArrayList<>();
            entry.path("files").forEach(f -> files.add(f.asText()));
            if (files.isEmpty() || (service != null && !service.equals(name)
                    && !(name.equals(AGENT) && service.equals("leaderl")))) {
                continue;
            }
            String more = files.size() == 1 ? "" : "; " + (files.size() - 1) + " more file"
                    + (files.size() == 2 ? "" : "s") + " too";
            String restart = name.equals(AGENT)
                    ? CtlCommand.forRoot(ctl, root, "stop") + " && " + CtlCommand.forRoot(ctl, root, "start")
                            + " (its services restart with it)"
                    : CtlCommand.forRoot(ctl, root, "restart " + name);
            out.add(name + ": running an old " + files.get(0) + " (replaced on disk since it started" + more
                    + "): restart it with: " + restart);
        }
        return out;
    }
}
