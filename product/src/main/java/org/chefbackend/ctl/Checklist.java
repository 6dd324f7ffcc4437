package org.chefbackend.ctl;

import java.io.PrintWriter;
import org.chefbackend.system.OperatorException;

/**
 * The original's step checklist for long operations: "✓ Step" when a step worked, "✗ Step" and then "An error
 * occurred during this operation:" with the reason when it did not (the command then ends non-zero).
 */
final class Checklist {
    interface Work<T> {
        T run() throws Exception;
    }

    interface VoidWork {
        void run() throws Exception;
    }

    private final PrintWriter out;
    private final boolean quiet;

    Checklist(PrintWriter out, boolean quiet) {
        this.out = out;
        this.quiet = quiet;
    }

    void step(String name, VoidWork work) {
        step(name, () -> {
            work.run();
            return null;
        });
    }

    <T> T step(String name, Work<T> work) {
        try {
            T value = work.run();
            if (!quiet) {
                out.println("\u2713 " + name);
                out.flush();
            }
            return value;
        } catch (Exception e) {
            out.println("\u2717 " + name);
            out.println("An error occurred during this operation:");
            out.flush();
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            if (e instanceof OperatorException op) {
                throw new OperatorException(op.exitCode(), message);
            }
            throw OperatorException.failure(message);
        }
    }

    void detail(String text) {
        if (!quiet) {
            out.println("  " + text);
            out.flush();
        }
    }
}
