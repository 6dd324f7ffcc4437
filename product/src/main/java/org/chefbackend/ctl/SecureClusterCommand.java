package org.chefbackend.ctl;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.agent.NodeIdentity;
import org.chefbackend.agent.NodeState;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.config.Settings;
import org.chefbackend.ctl.ClusterMembers.Member;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.system.OperatorException;
import org.chefbackend.tls.Authority;
import org.chefbackend.tls.SecurityMode;
import org.chefbackend.tls.Subject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "secure-cluster", mixinStandardHelpOptions = true,
        description = "Close a cluster made before the cluster CA existed, in place and one step at a time on every "
                + "node (docs/SECURITY.md). The first run makes the cluster CA in this node's secrets file; copy that "
                + "file to every other node, then run it again: PostgreSQL serves certificates from the CA, etcd's "
                + "peers switch to mutual TLS one member at a time, clients verify, etcd's auth is turned on and etcd stops serving plain HTTP (the agent answers the frontends' member discovery). "
                + "Run again after a failure: it goes on from where each node stands.")
final class SecureClusterCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration SETTLE = Duration.ofMinutes(3);

    @Mixin
    ClusterOptions options;

    @Mixin
    RootOptions node;

    @Spec
    CommandSpec spec;

    /** The secrets' admin key: what every member's agent takes a signed call from another node with. */
    private byte[] clusterKey;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Settings settings = node.settings();
        NodePaths paths = node.paths();
        AgentClient local = ServiceCommands.client(node, settings);
        ServiceCommands.requireAgent(node, local);
        if (!NodeState.inCluster(paths)) {
            throw OperatorException.usage("this node is not part of a cluster; a new cluster is closed from the start");
        }
        Secrets secrets = SecretsFile.load(paths.secretsFile());
        if (secrets.ca() == null) {
            if (!options.confirm(out, "Make a cluster CA in " + paths.secretsFile() + "?")) {
                throw OperatorException.usage("not confirmed; nothing was changed (use -y to confirm)");
            }
            SecretsFile.write(paths.secretsFile(), secrets.withCa(Authority.generate(Subject.of(settings),
                    settings.intValue("ssl.key_length"), settings.intValue("ssl.duration"))));
            options.step(out, "Made the cluster CA in " + paths.secretsFile());
            out.println("Next: copy " + paths.secretsFile() + " to /etc/chef-backend/chef-backend-secrets.json on every"
                    + " other node (as for join-cluster), then run here again: "
                    + CtlCommand.forRoot(paths.root(), "secure-cluster"));
            return 0;
        }
        String fingerprint = Authority.fingerprint(secrets.ca());
        clusterKey = secrets.adminKey();
        List<Member> members = members(local, settings, paths);
        List<String> problems = new ArrayList<>();
        for (Member m : members) {
            AgentClient.Response r = step(m, SecurityMode.CERTIFICATES, fingerprint, true);
            if (r.status() != 200) {
                problems.add(r.body().path("error").asText(m.name() + ": HTTP " + r.status()));
            }
        }
        if (!problems.isEmpty()) {
            throw OperatorException.usage(String.join("; ", problems) + "; nothing was changed");
        }
        if (!options.confirm(out, "Close the cluster's " + members.size() + " nodes to strangers? Each restarts etcd"
                + " once, one node at a time; PostgreSQL only reloads.")) {
            throw OperatorException.usage("not confirmed; nothing was changed (use -y to confirm)");
        }
        NodeIdentity id;
        try {
            id = NodeIdentity.load(paths, settings);
        } catch (IOException e) {
            throw OperatorException.failure("cannot read this node's identity: " + e.getMessage());
        }
        EtcdMembers etcd = new EtcdMembers(new NodeContext(settings, paths, id.name(), id.guid(), secrets));
        for (Member m : behind(members, SecurityMode.CERTIFICATES)) {
            apply(m, SecurityMode.CERTIFICATES, fingerprint, out);
        }
        for (Member m : behind(members, SecurityMode.ETCD_TLS)) {
            etcd.usePeerTls(m.address());
            apply(m, SecurityMode.ETCD_TLS, fingerprint, out);
            settled(local, members.size(), "etcd on " + m.name() + " restarted with TLS");
        }
        for (Member m : behind(members, SecurityMode.CLIENTS)) {
            apply(m, SecurityMode.CLIENTS, fingerprint, out);
        }
        settled(local, members.size(), "every node's clients verify");
        etcd.enableAuth().forEach(done -> options.step(out, "etcd: " + done));
        options.step(out, "etcd: auth on (users root and chef-backend); v2 guest access revoked");
        for (Member m : behind(members, SecurityMode.CLOSED)) {
            apply(m, SecurityMode.CLOSED, fingerprint, out);
        }
        settled(local, members.size(), "closed");
        options.step(out, "The cluster is closed to strangers (docs/SECURITY.md)");
        return 0;
    }

    /** Every member, from this node's agent's view of the cluster; each agent must answer. */
    private static List<Member> members(AgentClient local, Settings settings, NodePaths paths) {
        List<Member> out = ClusterMembers.of(local, settings, paths).members();
        List<String> silent = out.stream().filter(m -> m.agent().status().isEmpty()).map(Member::name).toList();
        if (!silent.isEmpty()) {
            throw OperatorException.usage("every node's agent must run; no answer from " + String.join(", ", silent)
                    + "; nothing was changed");
        }
        return out;
    }

    private void settled(AgentClient local, int size, String after) {
        ClusterMembers.awaitSettled(local, size, SETTLE, after, CtlCommand.forRoot(node.paths().root(), "secure-cluster"));
    }

    /** The members not yet at {@code step}, as their agents report it now. */
    private static List<Member> behind(List<Member> members, SecurityMode step) {
        return members.stream().filter(m -> m.agent().status()
                .map(s -> SecurityMode.parse(s.path("security").asText("open")).compareTo(step) < 0)
                .orElse(true)).toList();
    }

    private AgentClient.Response step(Member m, SecurityMode step, String fingerprint, boolean check) {
        return m.agent().post("/admin/security-step", JSON.createObjectNode().put("step", step.jsonName())
                .put("ca", fingerprint).put("check", check), clusterKey, Duration.ofMinutes(3));
    }

    private void apply(Member m, SecurityMode step, String fingerprint, PrintWriter out) {
        AgentClient.Response r = step(m, step, fingerprint, false);
        if (r.status() != 200) {
            throw OperatorException.failure(m.name() + ": step " + step.jsonName() + " failed: "
                    + r.body().path("error").asText("HTTP " + r.status())
                    + "; run " + CtlCommand.forRoot(node.paths().root(), "secure-cluster") + " again once it is fixed");
        }
        options.step(out, m.name() + ": " + step.jsonName());
    }
}
