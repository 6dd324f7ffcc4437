package org.chefbackend.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A process told apart from a later one that reuses its pid: pid plus its start time in clock ticks since boot
 * (field 22 of /proc/PID/stat). Recorded in pid files so a restarted agent kills only its own orphans.
 */
public record ProcessIdentity(long pid, long startTicks) {
    public static Optional<ProcessIdentity> of(long pid) {
        return startTicks(pid).map(t -> new ProcessIdentity(pid, t));
    }

    /** True while this very process (not a successor with the same pid) exists. */
    public boolean isAlive() {
        return startTicks(pid).map(t -> t == startTicks).orElse(false);
    }

    public String serialize() {
        return pid + " " + startTicks;
    }

    public static Optional<ProcessIdentity> parse(String text) {
        String[] parts = text.trim().split("\\s+");
        if (parts.length != 2) {
            return Optional.empty();
        }
        try {
            return Optional.of(new ProcessIdentity(Long.parseLong(parts[0]), Long.parseLong(parts[1])));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    static Optional<Long> startTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            // the command name (field 2) is in parentheses and may contain spaces: count fields after its ')'
            String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            if (rest[0].equals("Z") || rest[0].equals("X")) {
                // killed but not yet reaped by its parent: dead. Counting it alive made `start` right after a crash
                // wait 180 s for an agent that could never answer
                return Optional.empty();
            }
            return Optional.of(Long.parseLong(rest[19])); // field 22 overall
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
