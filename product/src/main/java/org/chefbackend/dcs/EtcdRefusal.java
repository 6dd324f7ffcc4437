package org.chefbackend.dcs;

import com.fasterxml.jackson.databind.JsonNode;

/** etcd refused a request: its gRPC status code and its own one-line message; the cause of a DcsException. */
final class EtcdRefusal extends Exception {
    private static final long serialVersionUID = 1L;
    /** gRPC status codes etcd answers with. */
    static final int DEADLINE_EXCEEDED = 4;
    static final int NOT_FOUND = 5;
    static final int UNAUTHENTICATED = 16;
    private static final String INVALID_TOKEN = "etcdserver: invalid auth token";
    private static final String OLD_AUTH_REVISION = "etcdserver: revision of auth store is old";
    private static final String NO_USER = "etcdserver: user name is empty";
    private static final String AUTH_NOT_ENABLED = "etcdserver: authentication is not enabled";
    /** What etcd's gateway says when the deadline sent with a request passed, with code 4 or, at times, 2 (Unknown). */
    private static final String DEADLINE_MESSAGE = "context deadline exceeded";

    final int code;

    private EtcdRefusal(int code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    /** etcd's error answer, {@code root}, as a DcsException about {@code what}. */
    static DcsException of(String what, int status, JsonNode root, boolean credentialsGiven) {
        JsonNode error = root.path("error");
        // unary answers: {"error": "...", "code": N}; streamed ones: {"error": {"grpc_code": N, "message": "..."}}
        String message = error.isObject() ? error.path("message").asText("") : error.asText("");
        int code = error.isObject() ? error.path("grpc_code").asInt(-1) : root.path("code").asInt(-1);
        if (message.isEmpty()) {
            message = "HTTP " + status + " from etcd";
        }
        if (DEADLINE_MESSAGE.equals(message)) {
            // the same deadline whichever layer noticed it (CI saw code 2): a timeout, never an operator's refusal
            code = DEADLINE_EXCEEDED;
        }
        String hint = NO_USER.equals(message) && !credentialsGiven ? " (etcd requires credentials; none given)" : "";
        return new DcsException(what + ": " + message + hint, new EtcdRefusal(code, message));
    }

    /**
     * A 401: gRPC's Unauthenticated, which etcd 3.4 answers only for an invalid token. Its body is not read: the
     * JDK drops a 401's body when the request was streamed.
     */
    static DcsException invalidToken(String what) {
        return new DcsException(what + ": " + INVALID_TOKEN, new EtcdRefusal(UNAUTHENTICATED, INVALID_TOKEN));
    }

    /**
     * etcd rejected the token before executing anything: authenticating again is worth one more try. Also reads a
     * watch's cancel reason ("rpc error: code = Unauthenticated desc = etcdserver: invalid auth token").
     */
    static boolean isStaleToken(String etcdMessage) {
        return etcdMessage != null && (etcdMessage.endsWith(INVALID_TOKEN) || etcdMessage.endsWith(OLD_AUTH_REVISION));
    }

    /**
     * etcd wants a user and got none: auth was turned on after this client found it off ({@code secure-cluster}).
     * Refused before executing anything, so logging in and sending again is safe. Also reads a watch's cancel reason.
     */
    static boolean isMissingUser(String etcdMessage) {
        return etcdMessage != null && etcdMessage.endsWith(NO_USER);
    }

    /** etcd has no auth on: a client with credentials goes on without a token (until {@link #isMissingUser}). */
    static boolean isAuthOff(String etcdMessage) {
        return etcdMessage != null && etcdMessage.endsWith(AUTH_NOT_ENABLED);
    }

    /** etcd's message when it refused, else null. */
    static String message(DcsException e) {
        return e.getCause() instanceof EtcdRefusal r ? r.getMessage() : null;
    }

    /** etcd's gRPC status code when it refused, else -1. */
    static int code(DcsException e) {
        return e.getCause() instanceof EtcdRefusal r ? r.code : -1;
    }
}
