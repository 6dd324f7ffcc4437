package org.chefbackend.config;

/**
 * Anything wrong with reading or writing {@code chef-backend-secrets.json}. The message is a single
 * line naming the file and the problem, ready to show an operator as is; no cause is attached so
 * nothing underneath (which might quote file contents) gets printed along with it.
 */
public final class SecretsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SecretsException(String message) {
        // Keep it one line whatever the underlying reason text looked like.
        super(message.replaceAll("\\s*[\\r\\n]+\\s*", " "));
    }
}
