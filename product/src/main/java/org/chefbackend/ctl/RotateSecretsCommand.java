package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.chefbackend.agent.NodeState;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.config.SecretsRotation;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.OperatorException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "rotate-secrets", mixinStandardHelpOptions = true,
        description = "Change the database passwords, and every key derived from the secrets (etcd's users, the agents'"
                + " admin key), on a running cluster (docs/SECURITY.md, \"Rotation\"). First --prepare on one node, copy"
                + " the file it writes to every node, then run it without --prepare on any node.")
final class RotateSecretsCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration STEP_TIMEOUT = Duration.ofMinutes(5); // replication: up to 30 s per follower

    @Option(names = "--prepare", description = "Write fresh secrets to chef-backend-secrets.json.next beside this"
            + " node's secrets file, and change nothing else.")
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
        NodePaths paths = node.paths();
        if (!NodeState.inCluster(paths)) {
            throw OperatorException.usage("this node is not part of a cluster");
        }
        Secrets current = SecretsFile.load(paths.secretsFile());
        if (current.ca() == null) {
            throw OperatorException.usage("this cluster is open (no cluster CA); close it with "
                    + CtlCommand.forRoot(paths.root(), "secure-cluster") + " first");
        }
        Path nextFile = SecretsRotation.nextFile(paths.secretsFile());
        return prepare ? prepare(out, current, nextFile) : rotate(out, current, nextFile);
    }

    private int prepare(PrintWriter out, Secrets current, Path nextFile) {
        if (Files.exists(nextFile)) {
            throw OperatorException.usage(nextFile + " exists already (an earlier --prepare): copy it to every node and"
                    + " run " + CtlCommand.forRoot(node.paths().root(), "rotate-secrets") + ", or remove it to prepare anew");
        }
        SecretsFile.write(nextFile, current.withNewPasswords(new SecureRandom()));
        options.step(out, "Wrote the next secrets to " + nextFile + " (new database passwords; token, search cluster"
                + " name and CA kept)");
        out.println("Next: copy " + nextFile + " to the same path on every other node (root, mode 0600), then run"
                + " here: " + CtlCommand.forRoot(node.paths().root(), "rotate-secrets") + " (or "
                + CtlCommand.elsewhere("rotate-secrets") + " on any other node).");
        return 0;
    }

    private int rotate(PrintWriter out, Secrets current, Path nextFile) {
        if (!Files.exists(nextFile)) {
            throw OperatorException.usage("no " + nextFile + ": run " + CtlCommand.elsewhere("rotate-secrets --prepare")
                    + " on one node and copy the file it writes to every node first");
        }
        Secrets next = SecretsFile.load(nextFile);
        SecretsRotation.problem(current, next).ifPresent(p -> {
            throw OperatorException.usage(p + "; nothing was changed");
        });
        AgentClient local = ServiceCommands.client(node, node.settings());
        ServiceCommands.requireAgent(node, local);
        ClusterMembers cluster = ClusterMembers.of(local, node.settings(), node.paths());
        String fingerprint = next.fingerprint();
        List<RotationReadiness.Answer> answers = new ArrayList<>();
        for (ClusterMembers.Member m : cluster.members()) {
            answers.add(check(m, current, fingerprint, next.adminKey()));
        }
        List<String> problems = RotationReadiness.problems(current.fingerprint(), fingerprint, answers);
        if (!problems.isEmpty()) {
            throw OperatorException.usage(String.join("; ", problems) + "; nothing was changed");
        }
        ClusterMembers.Member leader = cluster.leader().flatMap(cluster::named).orElseThrow(
                () -> OperatorException.usage("the cluster has no leader now; nothing was changed"));
        List<String> pending = RotationReadiness.pending(fingerprint, answers);
        if (!options.confirm(out, "Change the secrets of the cluster's " + answers.size() + " nodes?")) {
            throw OperatorException.usage("not confirmed; nothing was changed (use -y to confirm)");
        }
        List<ClusterMembers.Member> toSwitch = cluster.members().stream()
                .filter(m -> pending.contains(m.name())).toList();
        for (ClusterMembers.Member m : toSwitch) {
            call(m, "stage", fingerprint, current.adminKey());
        }
        options.step(out, "Every node holds the next secrets (" + fingerprint.substring(0, 12) + ") staged");
        if (pending.contains(leader.name())) {
            done(out, call(leader, "postgres", fingerprint, current.adminKey()));
            done(out, call(local(cluster, local), "etcd", fingerprint, current.adminKey()));
            // from here on, agents switch by themselves once etcd takes only the next passwords: sign with the next key
        }
        List<ClusterMembers.Member> followersFirst = new ArrayList<>(toSwitch);
        followersFirst.sort((a, b) -> Boolean.compare(a.name().equals(leader.name()), b.name().equals(leader.name())));
        for (ClusterMembers.Member m : followersFirst) {
            call(m, "switch", fingerprint, next.adminKey());
            options.step(out, m.name() + ": switched to the next secrets");
        }
        done(out, call(leader, "replication", fingerprint, next.adminKey()));
        options.step(out, "The cluster's secrets are rotated (" + fingerprint.substring(0, 12) + ")");
        out.println("Frontends still hold the old database superuser password: run "
                + CtlCommand.forRoot(node.paths().root(), "gen-server-config FRONTEND_FQDN")
                + " again for each frontend and reconfigure it (chef-server-ctl reconfigure).");
        return 0;
    }

    /** The member whose agent is this node's: etcd's passwords are changed through this node's etcd. */
    private static ClusterMembers.Member local(ClusterMembers cluster, AgentClient local) {
        String name = local.status().map(s -> s.path("node").path("name").asText()).orElse("");
        return cluster.named(name).orElseThrow(() -> OperatorException.failure("this node (" + name
                + ") is not among the cluster's members"));
    }

    private static RotationReadiness.Answer check(ClusterMembers.Member m, Secrets current, String fingerprint,
            byte[] nextKey) {
        AgentClient.Response r;
        try {
            r = post(m, "check", fingerprint, current.adminKey());
            if (r.status() == 401) { // switched by a run before: it takes the next key only
                r = post(m, "check", fingerprint, nextKey);
            }
        } catch (OperatorException e) {
            return new RotationReadiness.Answer(m.name(), 0, null, null, null, "its agent does not answer");
        }
        JsonNode b = r.body();
        return new RotationReadiness.Answer(m.name(), r.status(), text(b, "current"), text(b, "next"),
                text(b, "problem"), text(b, "error"));
    }

    private AgentClient.Response call(ClusterMembers.Member m, String step, String fingerprint, byte[] key) {
        AgentClient.Response r = post(m, step, fingerprint, key);
        if (r.status() != 200) {
            throw OperatorException.failure(m.name() + ": rotate-secrets step " + step + " failed: "
                    + r.body().path("error").asText("HTTP " + r.status())
                    + "; run " + CtlCommand.forRoot(node.paths().root(), "rotate-secrets") + " again once it is fixed");
        }
        return r;
    }

    private static AgentClient.Response post(ClusterMembers.Member m, String step, String fingerprint, byte[] key) {
        return m.agent().post("/admin/rotate-secrets", JSON.createObjectNode().put("step", step)
                .put("fingerprint", fingerprint), key, STEP_TIMEOUT);
    }

    private void done(PrintWriter out, AgentClient.Response r) {
        r.body().path("done").forEach(line -> options.step(out, line.asText()));
    }

    private static String text(JsonNode body, String field) {
        JsonNode v = body.path(field);
        return v.isTextual() ? v.asText() : null;
    }
}
