package org.chefbackend.system;

/** A failure to report to the operator as one line with a chosen exit code. */
public final class OperatorException extends RuntimeException {
    /** The exit code of a command used wrongly: bad arguments or configuration. */
    public static final int EXIT_USAGE = 2;
    /** The exit code of a command that could not do what it was asked. */
    public static final int EXIT_FAILURE = 1;
    private static final long serialVersionUID = 1L;
    private final int exitCode;

    public OperatorException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public static OperatorException usage(String message) {
        return new OperatorException(EXIT_USAGE, message);
    }

    public static OperatorException failure(String message) {
        return new OperatorException(EXIT_FAILURE, message);
    }

    public int exitCode() {
        return exitCode;
    }
}
