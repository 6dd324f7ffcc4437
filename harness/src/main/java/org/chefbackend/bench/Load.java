package org.chefbackend.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The machine's load average (as uptime shows it), recorded next to every figure. */
public final class Load {
    private Load() {
    }

    public static String uptime() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return "load average " + f[0] + ", " + f[1] + ", " + f[2] + " (" + Runtime.getRuntime().availableProcessors()
                    + " CPUs)";
        } catch (IOException e) {
            return "load unknown";
        }
    }
}
