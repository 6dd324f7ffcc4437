package org.chefbackend.tls;

/** A certificate that cannot be made, read or trusted; its message is one line for an operator. */
public final class TlsException extends RuntimeException {
    public TlsException(String message) {
        super(message);
    }
}
