package org.chefbackend.ctl;

/** A failure to report to the operator as one line with a chosen exit code. */
public final class OperatorException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int exitCode;

    public OperatorException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public static OperatorException usage(String message) {
        return new OperatorException(ChefBackendCtl.EXIT_USAGE, message);
    }

    public static OperatorException failure(String message) {
        return new OperatorException(ChefBackendCtl.EXIT_FAILURE, message);
    }

    public int exitCode() {
        return exitCode;
    }
}
