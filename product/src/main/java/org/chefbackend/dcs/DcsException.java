package org.chefbackend.dcs;

/**
 * etcd could not be asked, did not answer in time, or refused. The message is one short line. After a timed-out
 * write the outcome is unknown: the request may still have been applied (read back to find out).
 */
public final class DcsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DcsException(String message) {
        super(message);
    }

    public DcsException(String message, Throwable cause) {
        super(message, cause);
    }
}
