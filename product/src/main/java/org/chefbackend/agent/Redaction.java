package org.chefbackend.agent;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.util.Collection;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Masks secret values in a service's output before it reaches its log, which is world-readable: etcd, for one, logs
 * its whole configuration (the initial cluster token among it) at every start. Lines are matched byte for byte
 * (ISO-8859-1 maps each byte to one char and back), so output that is not UTF-8 passes unchanged.
 */
public final class Redaction implements UnaryOperator<byte[]> {
    public static final String MASK = "<redacted>";
    public static final Redaction NONE = new Redaction(List.of());

    private final List<String> secrets;

    private Redaction(List<String> secrets) {
        this.secrets = secrets;
    }

    /** Masks each of {@code secrets} (empty ones are ignored). */
    public static Redaction of(Collection<String> secrets) {
        return new Redaction(secrets.stream().filter(s -> s != null && !s.isEmpty()).distinct().toList());
    }

    @Override
    public byte[] apply(byte[] line) {
        if (secrets.isEmpty()) {
            return line;
        }
        String text = new String(line, ISO_8859_1);
        String masked = text;
        for (String secret : secrets) {
            masked = masked.replace(secret, MASK);
        }
        return masked == text ? line : masked.getBytes(ISO_8859_1);
    }
}
