package org.chefbackend.agent;

/** A service cannot be set up or started; the message is one line for the operator. */
public final class ServiceSetupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ServiceSetupException(String message) {
        super(message);
    }
}
