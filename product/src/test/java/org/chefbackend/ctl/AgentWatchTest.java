package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.chefbackend.agent.ProcessIdentity;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;
import org.chefbackend.system.OperatorException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Watching a real process stand in for the agent: a wait ends as soon as it dies, saying so. */
class AgentWatchTest {
    static final Duration LONG = Duration.ofSeconds(60);
    static final Duration STEP = Duration.ofMillis(50);
    static final Path LOG = Path.of("/n1/var/log/chef-backend/leaderl/current");
    Process stand;

    @AfterEach
    void end() {
        if (stand != null) {
            stand.destroyForcibly();
        }
    }

    AgentWatch watchOfAStandIn() throws Exception {
        stand = new ProcessBuilder("sleep", "60").start();
        return new AgentWatch(ProcessIdentity.of(stand.pid()).orElseThrow(), "join-cluster", LOG);
    }

    @Test
    void whileTheAgentLivesTheProbeDecides() throws Exception {
        AgentWatch watch = watchOfAStandIn();
        AtomicInteger probes = new AtomicInteger();
        assertEquals(Optional.of(3), watch.poll(LONG, STEP, () -> probes.incrementAndGet() == 3
                ? Optional.of(3) : Optional.empty()));
        assertTrue(watch.until(Duration.ofMillis(200), STEP, () -> true));
    }

    @Test
    void anAgentThatDiesEndsTheWaitAtOnceNamingItAndItsLog() throws Exception {
        AgentWatch watch = watchOfAStandIn();
        AtomicInteger probes = new AtomicInteger();
        long t0 = System.nanoTime();
        OperatorException e = assertThrows(OperatorException.class, () -> watch.poll(LONG, STEP, () -> {
            if (probes.incrementAndGet() == 2) {
                stand.destroyForcibly(); // SIGKILL, as in the issue
                waitFor(stand);
            }
            return Optional.empty(); // an agent that does not answer, as a dead one does not
        }));
        assertEquals("the node agent (pid " + stand.pid() + ") exited during join-cluster; its log: " + LOG,
                e.getMessage());
        assertEquals(OperatorException.EXIT_FAILURE, e.exitCode());
        assertEquals(2, probes.get(), "probed again after the agent died");
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(30).toNanos(), "waited for the deadline");
    }

    @Test
    void noAgentRunningAtTheStartIsReportedAsGone(@TempDir Path root) {
        NodePaths paths = new NodePaths(root);
        Settings settings = Settings.defaults(MachineFacts.detect());
        OperatorException e = assertThrows(OperatorException.class, () -> AgentWatch.of(paths, settings, "restore"));
        assertEquals("the node agent exited during restore; its log: "
                + root.resolve("var/log/chef-backend/leaderl/current"), e.getMessage());
    }

    static void waitFor(Process p) {
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
