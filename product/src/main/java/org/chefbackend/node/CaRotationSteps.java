package org.chefbackend.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.api.ApiException;
import org.chefbackend.config.Secrets;
import org.chefbackend.config.SecretsException;
import org.chefbackend.config.SecretsFile;
import org.chefbackend.etcd.EtcdProbe;
import org.chefbackend.etcd.EtcdRecipe;
import org.chefbackend.system.Poll;
import org.chefbackend.tls.Authority;
import org.chefbackend.tls.CaRotation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's part of {@code rotate-ca} (docs/SECURITY.md, "Rotation"): the next CA
 * ({@code chef-backend-secrets.json.next-ca}, copied here by the operator) is taken in three phases
 * ({@link CaRotation}), each asked for by the command once every node finished the one before.
 */
final class CaRotationSteps {
    private static final Logger log = LoggerFactory.getLogger(CaRotationSteps.class);
    private static final Duration ETCD_BACK = Duration.ofSeconds(60);

    /** Writes the secrets file and moves every user of it on, as a reconfigure does; a refusal changes nothing. */
    interface Apply {
        Map<String, String> apply(Secrets target) throws IOException;
    }

    private final Supplier<NodeContext> node;
    private final Apply apply;

    CaRotationSteps(Supplier<NodeContext> node, Apply apply) {
        this.node = node;
        this.apply = apply;
    }

    synchronized Map<String, Object> step(int phase, String fingerprint) throws IOException {
        NodeContext ctx = node.get();
        Path file = CaRotation.nextFile(ctx.paths().secretsFile());
        boolean finished = ctx.secrets().fingerprint().equals(fingerprint); // phase 3's secrets are the next file's
        if (phase == 0) {
            return finished ? Map.of("node", ctx.nodeName(), "next", fingerprint, "phase", CaRotation.DONE)
                    : check(ctx, file);
        }
        if (phase < 1 || phase > CaRotation.DONE) {
            throw new ApiException(400, "no rotate-ca phase " + phase);
        }
        if (finished) {
            Files.deleteIfExists(file);
            return Map.of("phase", phase, "already", true);
        }
        Secrets next = next(ctx, file, fingerprint);
        int now = CaRotation.phase(ctx.secrets().ca(), next.ca());
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("phase", phase);
        if (now >= phase) {
            result.put("already", true);
        } else if (now != phase - 1) {
            throw new ApiException(409, ctx.nodeName() + " is at phase " + now + " of rotate-ca; phase " + phase
                    + " needs " + (phase - 1));
        } else {
            Map<String, String> done = apply.apply(CaRotation.at(ctx.secrets(), next, phase));
            result.put("reconfigure", done);
            log.info("rotate-ca: phase {} applied: {}", phase, done);
            // the next node's etcd restarts only once this one is back in the cluster: quorum is kept throughout
            if (done.getOrDefault(EtcdRecipe.NAME, "").startsWith("restart")
                    && !Poll.until(ETCD_BACK, Duration.ofMillis(250), () -> EtcdProbe.health(node.get()))) {
                throw new ApiException(409, ctx.nodeName() + ": etcd restarted for phase " + phase + " of rotate-ca"
                        + " but is not healthy after " + ETCD_BACK.toSeconds() + " s");
            }
        }
        if (phase == CaRotation.DONE) {
            Files.deleteIfExists(file);
        }
        return result;
    }

    private static Map<String, Object> check(NodeContext ctx, Path file) {
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("node", ctx.nodeName());
        facts.put("ca", ctx.secrets().ca() == null ? null : Authority.fingerprint(ctx.secrets().ca()));
        if (!Files.exists(file)) {
            facts.put("problem", "no " + file);
            return facts;
        }
        try {
            Secrets next = SecretsFile.load(file);
            Optional<String> problem = CaRotation.problem(ctx.secrets(), next);
            facts.put("next", next.fingerprint());
            facts.put("phase", problem.isPresent() ? null : CaRotation.phase(ctx.secrets().ca(), next.ca()));
            facts.put("problem", problem.orElse(null));
        } catch (SecretsException e) {
            facts.put("problem", e.getMessage());
        }
        return facts;
    }

    private static Secrets next(NodeContext ctx, Path file, String fingerprint) {
        Secrets next;
        try {
            next = SecretsFile.load(file);
        } catch (SecretsException e) {
            throw new ApiException(409, ctx.nodeName() + ": " + e.getMessage());
        }
        if (!next.fingerprint().equals(fingerprint)) {
            throw new ApiException(409, ctx.nodeName() + ": " + file + " holds another next CA");
        }
        Optional<String> problem = CaRotation.problem(ctx.secrets(), next);
        if (problem.isPresent()) {
            throw new ApiException(409, ctx.nodeName() + ": " + problem.get());
        }
        return next;
    }
}
