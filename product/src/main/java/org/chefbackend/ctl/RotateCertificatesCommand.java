package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.OperatorException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "rotate-certificates", mixinStandardHelpOptions = true,
        description = "Issue this node's certificate from the cluster CA again now (new key and serial), without"
                + " waiting for the renewal 30 days before it expires; PostgreSQL serves it after a reload, etcd from its"
                + " next connection, nothing restarts (docs/SECURITY.md, \"Rotation\").")
final class RotateCertificatesCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    @Option(names = "--all", description = "Every node of the cluster, one after the other, through their agents.")
    boolean all;

    @Mixin
    ClusterOptions options;

    @Mixin
    RootOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Secrets secrets = SecretsFile.load(node.paths().secretsFile());
        if (secrets.ca() == null) {
            throw OperatorException.usage("this cluster is open (no cluster CA); close it with "
                    + CtlCommand.forRoot(node.paths().root(), "secure-cluster") + " first");
        }
        AgentClient local = ServiceCommands.client(node, node.settings());
        ServiceCommands.requireAgent(node, local);
        if (!all) {
            reissue(out, "this node", local, local.adminKey());
            return 0;
        }
        List<ClusterMembers.Member> members = ClusterMembers.of(local, node.settings(), node.paths()).members();
        List<String> silent = members.stream().filter(m -> m.agent().status().isEmpty()).map(ClusterMembers.Member::name)
                .toList();
        if (!silent.isEmpty()) {
            throw OperatorException.usage("every node's agent must run; no answer from " + String.join(", ", silent)
                    + "; nothing was changed");
        }
        for (ClusterMembers.Member m : members) {
            reissue(out, m.name(), m.agent(), secrets.adminKey());
        }
        return 0;
    }

    private void reissue(PrintWriter out, String name, AgentClient agent, byte[] key) {
        AgentClient.Response r = agent.post("/admin/rotate-certificate", JSON.createObjectNode(), key, TIMEOUT);
        if (r.status() != 200) {
            throw OperatorException.failure(name + ": " + r.body().path("error").asText("HTTP " + r.status()));
        }
        options.step(out, name + ": new certificate, serial " + r.body().path("serial").asText() + ", valid until "
                + r.body().path("not_after").asText());
    }
}
