package org.chefbackend.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's exit is final: leaderl's loop, still finishing an iteration, once started PostgreSQL after the supervisor
 * had stopped it, and the postmaster outlived the agent (bin/bench failover). A real child process (sleep) stands for
 * the service.
 */
class SupervisorShutdownTest {
    @TempDir
    Path root;
    Supervisor supervisor;
    final IdleLoop loop = new IdleLoop();

    /** Runs `sleep 60` as root under the name of a real service, so that its settings (log directory…) exist. */
    record Sleeper(String name) implements ServiceRecipe {
        @Override
        public Change prepare(NodeContext node) {
            return Change.NONE;
        }

        @Override
        public Launch launch(NodeContext node) {
            return new Launch(List.of("sleep", "60"), Map.of(), "root", node.paths().root());
        }

        @Override
        public List<InetSocketAddress> listenAddresses(NodeContext node) {
            return List.of();
        }
    }

    /** leaderl's loop: idle until interrupted; records how it was told to step down. */
    static final class IdleLoop implements HaLoopControl {
        final List<Boolean> stepDowns = new CopyOnWriteArrayList<>();

        @Override
        public void run() {
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void stepDown(boolean nodeStopping) {
            stepDowns.add(nodeStopping);
        }
    }

    @AfterEach
    void endWhatRuns() {
        if (supervisor != null) {
            long pid = supervisor.status("etcd").pid();
            if (pid > 0) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    Supervisor supervisor() throws IOException {
        Files.createDirectories(root.resolve("var"));
        Settings settings = Settings.defaults(new MachineFacts(8L << 30, "be1"));
        NodeContext ctx = new NodeContext(settings, new NodePaths(root), "be1", "0".repeat(32), null);
        supervisor = new Supervisor(() -> ctx, List.of(new Sleeper("etcd")), () -> loop);
        return supervisor;
    }

    @Test
    void aStartDuringTheAgentsExitStartsNothing() throws IOException {
        Supervisor s = supervisor();
        s.start("etcd");
        long first = s.status("etcd").pid();
        assertTrue(s.status("etcd").running() && first > 0, "the child did not start: " + s.status("etcd"));

        s.shutdown();
        assertFalse(ProcessHandle.of(first).map(ProcessHandle::isAlive).orElse(false), "the child outlived shutdown");

        s.start("etcd"); // what the HA loop did while the agent exited
        ServiceStatus after = s.status("etcd");
        assertFalse(after.running(), "started again after the agent's shutdown: pid " + after.pid());
    }

    @Test
    void aRestartStillStartsAgain() throws IOException {
        Supervisor s = supervisor();
        s.start("etcd");
        long first = s.status("etcd").pid();
        s.restart("etcd");
        ServiceStatus after = s.status("etcd");
        assertTrue(after.running() && after.pid() != first, "restart did not start a new process: " + after);
    }

    /**
     * A leader whose node stops (the agent's shutdown) stepped down as if leaderl alone stopped, so it came back
     * deposed even where nobody could have led since: a cluster of one stayed without a leader after stop and start.
     * leaderl tells the two apart: only the node's stop is a clean stop it may undo by itself.
     */
    @Test
    void leaderlKnowsTheNodeStopsFromItsOwnStop() throws IOException {
        Supervisor s = supervisor();
        s.start("leaderl");
        s.stop("leaderl");
        assertEquals(List.of(false), loop.stepDowns, "stop leaderl");
        s.start("leaderl");
        s.shutdown();
        assertEquals(List.of(false, true), loop.stepDowns, "the agent's shutdown");
    }
}
