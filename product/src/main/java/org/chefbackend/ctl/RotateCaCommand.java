package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.chefbackend.agent.NodeState;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.config.Settings;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.OperatorException;
import org.chefbackend.tls.Authority;
import org.chefbackend.tls.CaRotation;
import org.chefbackend.tls.Subject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "rotate-ca", mixinStandardHelpOptions = true,
        description = "Replace the cluster CA on a running cluster (docs/SECURITY.md, \"Rotation\"): the new CA is"
                + " trusted beside the old one, every node's certificate is issued from it, then the old one is dropped;"
                + " each phase on every node before the next. First --prepare on one node, copy the file it writes to"
                + " every node, then run it without --prepare on any node.")
final class RotateCaCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration SETTLE = Duration.ofMinutes(3);
    private static final String[] PHASES = {"", "new CA trusted beside the old", "certificate issued from the new CA",
        "old CA no longer trusted"};

    @Option(names = "--prepare", description = "Make the new CA in chef-backend-secrets.json.next-ca beside this node's"
            + " secrets file, and change nothing else.")
    boolean prepare;

    @Mixin
    ClusterOptions options;

    @Mixin
    RootOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (!NodeState.inCluster(node.paths())) {
            throw OperatorException.usage("this node is not part of a cluster");
        }
        Secrets current = SecretsFile.load(node.paths().secretsFile());
        if (current.ca() == null) {
            throw OperatorException.usage("this cluster is open (no cluster CA); close it with "
                    + CtlCommand.forRoot(node.paths().root(), "secure-cluster") + " first");
        }
        Path nextFile = CaRotation.nextFile(node.paths().secretsFile());
        return prepare ? prepare(out, current, nextFile) : rotate(out, current, nextFile);
    }

    private int prepare(PrintWriter out, Secrets current, Path nextFile) {
        if (Files.exists(nextFile)) {
            throw OperatorException.usage(nextFile + " exists already (an earlier --prepare): copy it to every node and"
                    + " run " + CtlCommand.forRoot(node.paths().root(), "rotate-ca") + ", or remove it to prepare anew");
        }
        Settings s = node.settings();
        SecretsFile.write(nextFile, current.withCa(Authority.generate(Subject.of(s), s.intValue("ssl.key_length"),
                s.intValue("ssl.duration"))));
        options.step(out, "Made the new cluster CA in " + nextFile);
        out.println("Next: copy " + nextFile + " to the same path on every other node (root, mode 0600), then run"
                + " here: " + CtlCommand.forRoot(node.paths().root(), "rotate-ca") + " (or "
                + CtlCommand.elsewhere("rotate-ca") + " on any other node).");
        return 0;
    }

    private int rotate(PrintWriter out, Secrets current, Path nextFile) {
        if (!Files.exists(nextFile)) {
            throw OperatorException.usage("no " + nextFile + ": run " + CtlCommand.elsewhere("rotate-ca --prepare")
                    + " on one node and copy the file it writes to every node first");
        }
        Secrets next = SecretsFile.load(nextFile);
        CaRotation.problem(current, next).ifPresent(p -> {
            throw OperatorException.usage(p + "; nothing was changed");
        });
        AgentClient local = ServiceCommands.client(node, node.settings());
        ServiceCommands.requireAgent(node, local);
        List<ClusterMembers.Member> members = ClusterMembers.of(local, node.settings(), node.paths()).members();
        String fingerprint = next.fingerprint();
        List<CaRotationReadiness.Answer> answers = new ArrayList<>();
        for (ClusterMembers.Member m : members) {
            answers.add(check(m, current, fingerprint));
        }
        List<String> problems = CaRotationReadiness.problems(fingerprint, answers);
        if (!problems.isEmpty()) {
            throw OperatorException.usage(String.join("; ", problems) + "; nothing was changed");
        }
        if (!options.confirm(out, "Replace the cluster CA on the cluster's " + members.size() + " nodes? etcd restarts"
                + " twice on each, one node at a time; PostgreSQL only reloads.")) {
            throw OperatorException.usage("not confirmed; nothing was changed (use -y to confirm)");
        }
        for (int phase = CaRotationReadiness.lowest(answers) + 1; phase <= CaRotation.DONE; phase++) {
            for (ClusterMembers.Member m : members) {
                AgentClient.Response r = m.agent().post("/admin/rotate-ca", JSON.createObjectNode().put("phase", phase)
                        .put("fingerprint", fingerprint), current.adminKey(), SETTLE);
                if (r.status() != 200) {
                    throw OperatorException.failure(m.name() + ": rotate-ca phase " + phase + " failed: "
                            + r.body().path("error").asText("HTTP " + r.status())
                            + "; run " + CtlCommand.forRoot(node.paths().root(), "rotate-ca") + " again once it is fixed");
                }
                if (!r.body().path("already").asBoolean()) {
                    ClusterMembers.awaitSettled(local, members.size(), SETTLE, m.name() + "'s phase " + phase,
                            CtlCommand.forRoot(node.paths().root(), "rotate-ca"));
                }
                options.step(out, m.name() + ": " + PHASES[phase]);
            }
        }
        options.step(out, "The cluster CA is replaced (" + Authority.fingerprint(next.ca()).substring(0, 12) + ")");
        out.println("Frontends that verify the backend's certificate need the new CA: ca.certificate in "
                + node.paths().secretsFile() + ", or root.crt on any node.");
        return 0;
    }

    private static CaRotationReadiness.Answer check(ClusterMembers.Member m, Secrets current, String fingerprint) {
        AgentClient.Response r;
        try {
            r = m.agent().post("/admin/rotate-ca", JSON.createObjectNode().put("phase", 0)
                    .put("fingerprint", fingerprint), current.adminKey(),
                    Duration.ofSeconds(30));
        } catch (OperatorException e) {
            return new CaRotationReadiness.Answer(m.name(), 0, null, null, null, "its agent does not answer");
        }
        JsonNode b = r.body();
        return new CaRotationReadiness.Answer(m.name(), r.status(), text(b, "next"),
                b.path("phase").isInt() ? b.path("phase").asInt() : null, text(b, "problem"), text(b, "error"));
    }

    private static String text(JsonNode body, String field) {
        JsonNode v = body.path(field);
        return v.isTextual() ? v.asText() : null;
    }
}
