package org.chefbackend.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProcessIdentityTest {
    @Test
    void identifiesThisProcessAndRoundTrips() {
        ProcessIdentity me = ProcessIdentity.of(ProcessHandle.current().pid()).orElseThrow();
        assertTrue(me.isAlive());
        assertEquals(Optional.of(me), ProcessIdentity.parse(me.serialize()));
    }

    @Test
    void aReusedPidWithAnotherStartTimeIsNotTheSameProcess() {
        ProcessIdentity me = ProcessIdentity.of(ProcessHandle.current().pid()).orElseThrow();
        assertFalse(new ProcessIdentity(me.pid(), me.startTicks() + 1).isAlive());
    }

    /**
     * A process killed but not yet reaped (a zombie) is dead: `chef-backend-ctl start` right after a crash took the
     * killed agent's zombie for a booting agent and waited 180 s for it (bin/chaos leader-crash-rejoin).
     */
    @Test
    void aZombieIsNotAlive() throws Exception {
        // the background child outlives the shell's exec, so its parent is then sleep, which never reaps it (a child
        // that exited at once could be reaped by the shell itself before the exec, as CI once saw)
        Process parent = new ProcessBuilder("sh", "-c", "sleep 1 & echo $!; exec sleep 8").start();
        try {
            long zombie = Long.parseLong(new BufferedReader(new InputStreamReader(
                    parent.getInputStream())).readLine().trim());
            Path stat = Path.of("/proc/" + zombie + "/stat");
            long deadline = System.nanoTime() + 5_000_000_000L;
            String state = "";
            while (System.nanoTime() < deadline) {
                String text = Files.readString(stat);
                state = text.substring(text.lastIndexOf(')') + 2).split(" ")[0];
                if (state.equals("Z")) {
                    break;
                }
                Thread.sleep(20);
            }
            assertEquals("Z", state, "the child did not become a zombie");
            String text = Files.readString(stat);
            long ticks = Long.parseLong(text.substring(text.lastIndexOf(')') + 2).split(" ")[19]);
            assertFalse(new ProcessIdentity(zombie, ticks).isAlive());
        } finally {
            parent.destroyForcibly();
            parent.waitFor();
        }
    }

    @Test
    void garbageDoesNotParse() {
        assertEquals(Optional.empty(), ProcessIdentity.parse("12"));
        assertEquals(Optional.empty(), ProcessIdentity.parse("a b"));
    }
}
