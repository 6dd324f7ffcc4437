package org.chefbackend.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.api.ApiException;
import org.chefbackend.cluster.ClusterAgent;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsException;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.config.SecretsRotation;
import org.chefbackend.dcs.DcsException;
import org.chefbackend.dcs.EtcdPasswords;
import org.chefbackend.etcd.EtcdAccess;
import org.chefbackend.etcd.EtcdRecipe;
import org.chefbackend.postgres.RolePasswords;
import org.chefbackend.system.CtlCommand;
import org.chefbackend.tls.NodeCertificates;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's part of {@code rotate-secrets} (docs/SECURITY.md, "Rotation"). The next secrets
 * ({@code chef-backend-secrets.json.next}, copied here by the operator) are staged: admin calls signed with their key
 * are taken beside the current one, and the etcd clients log in with their passwords once etcd refuses the current
 * ones. The switch replaces the secrets file by the next one and puts every user of the secrets on it. A node that
 * was down while the cluster rotated stages its next file when it starts and switches on the same sign: etcd refuses
 * its current passwords and takes the next ones.
 */
final class RotationSteps {
    private static final Logger log = LoggerFactory.getLogger(RotationSteps.class);

    /** The switch itself, in the agent: the secrets file replaced by the next file, every user of them moved on. */
    interface Switch {
        Map<String, String> adopt(Secrets next) throws IOException;
    }

    private final Supplier<NodeContext> node;
    private final ClusterAgent cluster;
    private final Switch switcher;
    private volatile Secrets staged;

    RotationSteps(Supplier<NodeContext> node, ClusterAgent cluster, Switch switcher) {
        this.node = node;
        this.cluster = cluster;
        this.switcher = switcher;
    }

    /** The staged next secrets' admin key, beside the current one's while the cluster rotates. */
    Optional<byte[]> stagedAdminKey() {
        Secrets s = staged;
        return s == null ? Optional.empty() : Optional.of(s.adminKey());
    }

    /** At the agent's start: a next file that is a rotation of the current secrets is staged, quietly otherwise. */
    void stageAtBoot() {
        Path next = nextFile();
        if (!Files.exists(next)) {
            return;
        }
        try {
            Secrets s = SecretsFile.load(next);
            Optional<String> problem = SecretsRotation.problem(node.get().secrets(), s);
            if (problem.isPresent()) {
                log.warn("rotate-secrets: {} not staged: {}", next, problem.get());
                return;
            }
            stage(s);
        } catch (SecretsException e) {
            log.warn("rotate-secrets: {} not staged: {}", next, e.getMessage());
        }
    }

    /** One step of rotate-secrets, as the CLI asks for it. */
    Map<String, Object> step(String step, String fingerprint) throws IOException {
        return switch (step) {
            case "check" -> check();
            case "stage" -> {
                stage(next(fingerprint));
                yield Map.of("staged", fingerprint);
            }
            case "postgres" -> Map.of("done", postgres(staged(fingerprint)));
            case "etcd" -> Map.of("done", etcd(staged(fingerprint)));
            case "switch" -> switchTo(fingerprint);
            case "replication" -> Map.of("done", replication());
            default -> throw new ApiException(400, "no such rotate-secrets step: " + step);
        };
    }

    /** What this node holds: its current secrets' fingerprint, its next file's, and why that one would not do. */
    private Map<String, Object> check() {
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("node", node.get().nodeName());
        facts.put("current", node.get().secrets().fingerprint());
        Path file = nextFile();
        if (!Files.exists(file)) {
            facts.put("next", null);
            facts.put("problem", "no " + file);
            return facts;
        }
        try {
            Secrets next = SecretsFile.load(file);
            facts.put("next", next.fingerprint());
            facts.put("problem", SecretsRotation.problem(node.get().secrets(), next).orElse(null));
        } catch (SecretsException e) {
            facts.put("next", null);
            facts.put("problem", e.getMessage());
        }
        return facts;
    }

    private void stage(Secrets next) {
        staged = next;
        AtomicBoolean once = new AtomicBoolean();
        cluster.fallBackTo(next, () -> {
            if (once.compareAndSet(false, true)) {
                // off the etcd client's thread (leaderl's loop, a watch): the switch reconfigures and retargets
                Thread t = new Thread(() -> adoptSeen(next), "secrets-switch");
                t.setDaemon(true);
                t.start();
            }
        });
        log.info("rotate-secrets: next secrets {} staged", next.fingerprint().substring(0, 12));
    }

    private void adoptSeen(Secrets next) {
        try {
            log.info("rotate-secrets: etcd refuses the current passwords and takes the next ones: switching");
            switchTo(next.fingerprint());
        } catch (IOException | RuntimeException e) {
            log.error("rotate-secrets: switching to the next secrets failed: {}", e.getMessage());
        }
    }

    /** Idempotent: a node that already holds these secrets says so. */
    private synchronized Map<String, Object> switchTo(String fingerprint) throws IOException {
        if (node.get().secrets().fingerprint().equals(fingerprint)) {
            staged = null;
            return Map.of("switched", "already");
        }
        Secrets next = next(fingerprint);
        Map<String, String> done = switcher.adopt(next);
        staged = null;
        cluster.fallBackTo(null, null);
        log.info("rotate-secrets: switched to secrets {}: {}", fingerprint.substring(0, 12), done);
        return Map.of("switched", fingerprint, "reconfigure", done);
    }

    private List<String> postgres(Secrets next) {
        try {
            return RolePasswords.rotate(node.get(), next);
        } catch (SQLException e) {
            throw new ApiException(409, node.get().nodeName() + ": PostgreSQL: " + e.getMessage());
        }
    }

    private List<String> etcd(Secrets next) {
        NodeContext ctx = node.get();
        EtcdAccess current = EtcdAccess.of(ctx);
        EtcdAccess after = EtcdAccess.of(next, NodeCertificates.existing(ctx).orElseThrow());
        Duration timeout = Duration.ofMillis(ctx.settings().integer("leaderl.etcd_pool.http_timeout_ms"));
        try {
            return EtcdPasswords.rotate(EtcdRecipe.clientUrl(ctx), current.tls(), current.root(), after.root(),
                    after.clusterUser(), timeout);
        } catch (DcsException e) {
            throw new ApiException(409, ctx.nodeName() + ": " + e.getMessage());
        }
    }

    private List<String> replication() {
        try {
            return RolePasswords.reconnectReplication(node.get(), Duration.ofSeconds(30));
        } catch (SQLException e) {
            throw new ApiException(409, node.get().nodeName() + ": PostgreSQL: " + e.getMessage());
        }
    }

    /** The staged secrets, which must be the ones the caller names. */
    private Secrets staged(String fingerprint) {
        Secrets s = staged;
        if (s == null || !s.fingerprint().equals(fingerprint)) {
            throw new ApiException(409, node.get().nodeName() + ": the next secrets " + abbreviated(fingerprint)
                    + " are not staged here; run " + CtlCommand.elsewhere("rotate-secrets") + " again");
        }
        return s;
    }

    /** The next file, which must hold the secrets the caller names and be a rotation of the current ones. */
    private Secrets next(String fingerprint) {
        Path file = nextFile();
        Secrets next;
        try {
            next = SecretsFile.load(file);
        } catch (SecretsException e) {
            throw new ApiException(409, node.get().nodeName() + ": " + e.getMessage());
        }
        if (!next.fingerprint().equals(fingerprint)) {
            throw new ApiException(409, node.get().nodeName() + ": " + file + " holds other secrets than "
                    + abbreviated(fingerprint));
        }
        Optional<String> problem = SecretsRotation.problem(node.get().secrets(), next);
        if (problem.isPresent()) {
            throw new ApiException(409, node.get().nodeName() + ": " + problem.get());
        }
        return next;
    }

    private Path nextFile() {
        return SecretsRotation.nextFile(node.get().paths().secretsFile());
    }

    private static String abbreviated(String fingerprint) {
        return fingerprint.length() > 12 ? fingerprint.substring(0, 12) : fingerprint;
    }
}
