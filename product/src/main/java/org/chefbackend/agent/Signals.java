package org.chefbackend.agent;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** Sends a named signal to one pid with kill(1): the JDK only offers TERM and KILL. */
public final class Signals {
    private Signals() {
    }

    public static boolean send(long pid, String signal) {
        try {
            Process p = new ProcessBuilder("kill", "-" + signal, String.valueOf(pid))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
