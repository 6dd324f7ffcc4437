package org.chefbackend.config;

/**
 * Anything wrong with an operator's input file: syntax, unsupported Ruby, unknown key, wrong type.
 * The message is one line that starts with {@code file:line:column}, ready to print as is.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient SourcePosition position;
    private final String problem;

    public ConfigException(SourcePosition position, String problem) {
        super(position + ": " + problem);
        this.position = position;
        this.problem = problem;
    }

    public SourcePosition position() {
        return position;
    }

    /** The message without its position. */
    public String problem() {
        return problem;
    }
}
