package org.chefbackend.ctl;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import picocli.CommandLine.Option;

/** Options every cluster command accepts, as the original and the runbooks spell them. */
public final class ClusterOptions {
    @Option(names = {"-y", "--yes"}, description = "Answer yes to every question (for unattended runs).")
    boolean yes;

    @Option(names = "--accept-license", description = "Accept the license (accepted for compatibility; this product is open source).")
    boolean acceptLicense;

    @Option(names = "--quiet", description = "Print only errors.")
    boolean quiet;

    @Option(names = "--verbose", description = "Print every step's details.")
    boolean verbose;

    /** Asks (y/n) unless --yes; no answer (no terminal) is a no. */
    boolean confirm(PrintWriter out, String question) {
        if (yes) {
            return true;
        }
        out.print(question + " (y/n) ");
        out.flush();
        try {
            String answer = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            return answer != null && answer.trim().toLowerCase(Locale.ROOT).startsWith("y");
        } catch (IOException e) {
            return false;
        }
    }

    /** Reads one line from the operator, or null without a terminal. */
    static String ask(PrintWriter out, String question) {
        if (System.console() == null) {
            return null;
        }
        out.print(question);
        out.flush();
        try {
            return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        } catch (IOException e) {
            return null;
        }
    }

    void step(PrintWriter out, String text) {
        if (!quiet) {
            out.println("\u2713 " + text);
            out.flush();
        }
    }

    void detail(PrintWriter out, String text) {
        if (verbose) {
            out.println("  " + text);
            out.flush();
        }
    }
}
