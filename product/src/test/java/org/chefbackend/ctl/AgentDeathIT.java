package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.chefbackend.testing.TestNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A long command whose node agent dies under it says so at once (issue: join-cluster waited silently, for up to an
 * hour, after its agent was killed). Two nodes: run it under the machine's cluster lock.
 */
class AgentDeathIT {
    static final Path ROOT = Path.of("/tmp/cbit-h19b/agent-death");
    /** The CLI polls every 500 ms; ten seconds is room for a loaded machine, not for an hour's wait. */
    static final Duration SAYS_SO_WITHIN = Duration.ofSeconds(10);
    TestNode first;
    TestNode joiner;

    @AfterEach
    void cleanUp() {
        if (joiner != null) {
            joiner.destroy();
        }
        if (first != null) {
            first.destroy();
        }
    }

    @Test
    void joinClusterWhoseAgentIsKilledExitsNamingItsDeath() throws Exception {
        first = TestNode.create("127.0.0.125", ROOT.resolve("h1"), TestNode.secrets());
        first.ctlOk("create-cluster", "-y");
        joiner = TestNode.create("127.0.0.126", ROOT.resolve("h2"), TestNode.secrets());
        String secrets = first.root.resolve("etc/chef-backend/chef-backend-secrets.json").toString();
        try (TestNode.Background join = joiner.ctlInBackground("join-cluster", first.address, "-s", secrets, "-y")) {
            assertTrue(TestNode.waitUntil(Duration.ofSeconds(180), () -> join.out().contains("Started the node agent")),
                    "join-cluster never started its agent: " + join.out());
            long pid = joiner.agentPid();
            assertNotEquals(0, pid, "no agent runs after join-cluster said it started one");
            long killedAt = System.nanoTime();
            assertTrue(ProcessHandle.of(pid).orElseThrow().destroyForcibly(), "SIGKILL of the agent " + pid);

            TestNode.Run r = join.awaitExit(SAYS_SO_WITHIN).orElseThrow(() -> new AssertionError(
                    "join-cluster still waits " + SAYS_SO_WITHIN.toSeconds() + " s after its agent (pid " + pid
                            + ") was killed; it printed: " + join.out()));
            System.out.printf("join-cluster exited %d, %d ms after its agent was killed: %s", r.code(),
                    (System.nanoTime() - killedAt) / 1_000_000, r.err());
            assertNotEquals(0, r.code(), r.out() + r.err());
            assertEquals(1, r.err().lines().count(), "not one line: " + r.err());
            assertTrue(r.err().contains("the node agent (pid " + pid + ") exited during join-cluster; its log: "
                    + joiner.root.resolve("var/log/chef-backend/leaderl/current")), r.err());
        }
    }
}
