package org.chefbackend.api;

/** A request the agent refuses, answered with this HTTP status and the message as {"error": …}. */
public class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;

    public ApiException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
