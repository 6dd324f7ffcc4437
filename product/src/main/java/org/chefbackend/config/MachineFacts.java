package org.chefbackend.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What computed defaults depend on: the machine's memory and name. A record so tests can pin a machine.
 *
 * @param memTotalBytes total physical memory
 * @param hostname this machine's host name, lower case
 */
public record MachineFacts(long memTotalBytes, String hostname) {
    private static final long MIB = 1024L * 1024L;

    public long memTotalMb() {
        return memTotalBytes / MIB;
    }

    /** Reads /proc, never the network: computing a default must not hang on DNS. */
    public static MachineFacts detect() {
        return new MachineFacts(readMemTotal(), readHostname());
    }

    private static long readMemTotal() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    String kb = line.substring("MemTotal:".length()).trim().split("\\s+")[0];
                    return Long.parseLong(kb) * 1024L;
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through to the JVM's view
        }
        return Runtime.getRuntime().maxMemory();
    }

    private static String readHostname() {
        try {
            String name = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
            if (!name.isEmpty()) {
                return name.toLowerCase(Locale.ROOT);
            }
        } catch (IOException e) {
            // fall through
        }
        return "localhost";
    }
}
