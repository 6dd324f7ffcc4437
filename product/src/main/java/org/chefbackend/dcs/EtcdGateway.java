package org.chefbackend.dcs;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;

/**
 * etcd's v3 API through its JSON gateway (etcd 3.4 serves gRPC-gateway at {@code POST <endpoint>/v3/...}), on the
 * JDK's HttpURLConnection: no thread, selector or pool of its own (java.net.http would add a selector thread and
 * its TLS set-up to every agent), one short connection per request.
 *
 * <p>Never re-sends a request that may have reached etcd: a put, txn, lease grant or member add/remove that timed
 * out may have been applied, and only the caller can find out. Two things are not such re-sends: trying the next
 * endpoint when the connection could not be made (nothing was sent), and re-authenticating once when etcd rejected
 * the token (it rejects before executing). Bodies are streamed with a fixed length, so the JDK never re-sends a
 * POST on its own either.
 */
final class EtcdGateway {
    static final ObjectMapper JSON = new ObjectMapper();
    // volatile, not final: secure-cluster moves a running agent's client from http to https (retarget)
    private volatile List<String> endpoints;
    private volatile EtcdCredentials credentials; // null: etcd without auth
    private volatile SSLContext tls; // null: the JDK's default for https endpoints
    private volatile int preferred; // the endpoint that took the last connection
    private volatile String token; // etcd's auth token, null until authenticated
    // secrets being rotated: who to log in as once etcd refuses the current credentials, and whom to tell
    private volatile EtcdCredentials fallback;
    private volatile Runnable onFallback;
    // etcd said auth is off (a cluster being closed by secure-cluster): no token until it asks for a user
    private volatile boolean authOff;

    EtcdGateway(List<String> endpoints, EtcdCredentials credentials, SSLContext tls) {
        this.endpoints = endpoints.stream().map(EtcdGateway::checkedEndpoint).toList();
        this.credentials = credentials;
        this.tls = tls;
    }

    /**
     * From now on, requests go to {@code newEndpoints} with these credentials and this TLS (a request under way
     * finishes where it is): an agent's member moved to TLS while the agent runs. Logs in anew.
     */
    void retarget(List<String> newEndpoints, EtcdCredentials newCredentials, SSLContext newTls) {
        List<String> checked = newEndpoints.stream().map(EtcdGateway::checkedEndpoint).toList();
        tls = newTls;
        credentials = newCredentials;
        endpoints = checked;
        preferred = 0;
        token = null;
        authOff = false;
        fallback = null; // the credentials given here are the ones to use
        onFallback = null;
    }

    /**
     * Logs in as {@code next} from the moment etcd refuses the current credentials and takes these (rotate-secrets
     * changed the passwords), and then runs {@code adopted} once; null clears it.
     */
    void fallBackTo(EtcdCredentials next, Runnable adopted) {
        onFallback = adopted;
        fallback = next;
    }

    /**
     * One request, answered within {@code budget}; etcd's JSON answer. Fails with a DcsException naming
     * {@code what}: "etcd did not answer within N ms", a connection error, or etcd's own message (with an
     * {@link EtcdRefusal} as its cause).
     */
    JsonNode post(String what, String path, ObjectNode body, Duration budget) {
        long deadline = System.nanoTime() + budget.toNanos();
        String usedToken = credentials == null ? null : tokenOrAuthenticate(what, deadline, budget);
        try {
            return send(what, path, body, usedToken, deadline, budget);
        } catch (DcsException e) {
            String refused = EtcdRefusal.message(e);
            boolean staleToken = EtcdRefusal.isStaleToken(refused);
            boolean authTurnedOn = usedToken == null && EtcdRefusal.isMissingUser(refused);
            if (credentials == null || !(staleToken || authTurnedOn)) {
                throw e;
            }
            // etcd rejected the request before executing anything, so sending it again is safe even for a put or
            // txn; once only
            tokenRejected(usedToken);
            return send(what, path, body, tokenOrAuthenticate(what, deadline, budget), deadline, budget);
        }
    }

    /**
     * Opens a streaming request (a watch) and returns the connection with the response's headers read; the caller
     * reads its lines and disconnects. Connecting waits at most {@code budget}; each later read at most
     * {@code idle}.
     */
    HttpURLConnection openStream(String what, String path, ObjectNode body, Duration budget, Duration idle) {
        long deadline = System.nanoTime() + budget.toNanos();
        String usedToken = credentials == null ? null : tokenOrAuthenticate(what, deadline, budget);
        byte[] request = bytes(body);
        HttpURLConnection c = connect(what, path, request.length, usedToken, deadline, budget, idle);
        try {
            write(c, request);
            int status = c.getResponseCode();
            if (status == HttpURLConnection.HTTP_UNAUTHORIZED) {
                tokenRejected(usedToken);
                throw EtcdRefusal.invalidToken(what);
            }
            if (status / 100 != 2) {
                throw missingUserNoted(failure(what, status, parse(what, readAll(c.getErrorStream()))));
            }
            return c;
        } catch (IOException e) {
            c.disconnect();
            throw new DcsException(what + ": " + describe(e), e);
        } catch (DcsException e) {
            c.disconnect();
            throw e;
        }
    }

    /** A streamed answer's line: its "result", or a DcsException for an error line. */
    JsonNode streamResult(String what, String line) {
        JsonNode root = parse(what, line.getBytes(UTF_8));
        if (root.has("error")) {
            throw missingUserNoted(failure(what, 200, root));
        }
        return root.path("result");
    }

    /** A refusal for want of a user: auth is on now, so the next request (a watch subscribing again) logs in. */
    private DcsException missingUserNoted(DcsException e) {
        if (credentials != null && EtcdRefusal.isMissingUser(EtcdRefusal.message(e))) {
            tokenRejected(null);
        }
        return e;
    }

    /** The auth token in use; null before the first request or without credentials. */
    String token() {
        return token;
    }

    /**
     * The token was refused, or etcd asked for a user while none was sent (a watch's cancel reason, say): the next
     * request logs in again.
     */
    void tokenRejected(String rejected) {
        if (rejected == null || rejected.equals(token)) {
            token = null;
            authOff = false;
        }
    }

    // ---- plumbing

    /** The token to send; null while etcd's auth is off. */
    private String tokenOrAuthenticate(String what, long deadline, Duration budget) {
        String current = token;
        if (current != null || authOff) {
            return current;
        }
        ObjectNode login = JSON.createObjectNode().put("name", credentials.user())
                .put("password", credentials.password());
        try {
            current = send(what, "/v3/auth/authenticate", login, null, deadline, budget).path("token").asText("");
        } catch (DcsException e) {
            String refused = EtcdRefusal.message(e);
            if (EtcdRefusal.isAuthOff(refused)) {
                authOff = true;
                return null;
            }
            EtcdCredentials next = fallback;
            if (refused != null && next != null) {
                return authenticateAsFallback(what, next, deadline, budget, e);
            }
            throw refused == null ? e : new DcsException(what + ": etcd refused user " + credentials.user() + ": "
                    + refused, e.getCause());
        }
        token = current;
        return current;
    }

    /** The current credentials were refused: the rotated ones are taken when etcd accepts them (else that refusal). */
    private String authenticateAsFallback(String what, EtcdCredentials next, long deadline, Duration budget,
            DcsException refusal) {
        ObjectNode login = JSON.createObjectNode().put("name", next.user()).put("password", next.password());
        String current;
        try {
            current = send(what, "/v3/auth/authenticate", login, null, deadline, budget).path("token").asText("");
        } catch (DcsException e) {
            throw new DcsException(what + ": etcd refused user " + credentials.user() + ": "
                    + EtcdRefusal.message(refusal), refusal.getCause());
        }
        credentials = next;
        fallback = null;
        token = current;
        Runnable adopted = onFallback;
        onFallback = null;
        if (adopted != null) {
            adopted.run();
        }
        return current;
    }

    private JsonNode send(String what, String path, ObjectNode body, String authToken, long deadline,
            Duration budget) {
        byte[] request = bytes(body);
        HttpURLConnection c = connect(what, path, request.length, authToken, deadline, budget, null);
        try {
            write(c, request);
            int status = c.getResponseCode();
            if (status == HttpURLConnection.HTTP_UNAUTHORIZED) {
                throw EtcdRefusal.invalidToken(what);
            }
            JsonNode root = parse(what, readAll(status >= 400 ? c.getErrorStream() : c.getInputStream()));
            if (status / 100 != 2 || root.has("error")) {
                throw failure(what, status, root);
            }
            return root;
        } catch (SocketTimeoutException e) {
            throw new DcsException(what + ": " + noAnswer(budget), e);
        } catch (IOException e) {
            throw new DcsException(what + ": " + describe(e), e);
        } catch (DcsException e) {
            if (EtcdRefusal.code(e) == EtcdRefusal.DEADLINE_EXCEEDED) { // etcd's deadline (above) fired first
                throw new DcsException(what + ": " + noAnswer(budget), e.getCause());
            }
            throw e;
        } finally {
            c.disconnect();
        }
    }

    /**
     * A connected request, trying each endpoint in turn from the last one that took a connection; nothing sent yet.
     * Reads wait at most {@code idle} (a stream) or, for a request ({@code idle} null), what is left until the
     * deadline when connecting starts (the JDK takes the read timeout only before connecting, so a connection that
     * is slow to open adds to the wait); etcd is then told to give up a little before the deadline (gRPC's deadline
     * header, which grpc-gateway passes on), so a request stuck without quorum ends with etcd's answer, not a
     * proposal left pending after the caller stopped waiting.
     */
    private HttpURLConnection connect(String what, String path, int bodyLength, String authToken, long deadline,
            Duration budget, Duration idle) {
        IOException last = null;
        String lastEndpoint = null;
        List<String> endpoints = this.endpoints; // one list for the whole request, whatever retarget does
        SSLContext tls = this.tls;
        int first = preferred % endpoints.size();
        for (int i = 0; i < endpoints.size(); i++) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            int index = (first + i) % endpoints.size();
            String endpoint = endpoints.get(index);
            try {
                HttpURLConnection c = (HttpURLConnection) URI.create(endpoint + path).toURL()
                        .openConnection(Proxy.NO_PROXY);
                if (c instanceof HttpsURLConnection https && tls != null) {
                    https.setSSLSocketFactory(tls.getSocketFactory());
                }
                int share = millis(left / (endpoints.size() - i)); // leave time for the others
                c.setConnectTimeout(share);
                c.setReadTimeout(idle != null ? millis(idle.toNanos()) : millis(left)); // and a TLS handshake
                c.setRequestMethod("POST");
                c.setUseCaches(false);
                c.setDoOutput(true);
                c.setFixedLengthStreamingMode(bodyLength);
                c.setRequestProperty("Content-Type", "application/json");
                // etcd then closes after answering, so the JDK never pools (and never re-sends on) a connection
                c.setRequestProperty("Connection", "close");
                if (authToken != null) {
                    c.setRequestProperty("Authorization", authToken);
                }
                if (idle == null) {
                    long serverLeft = left - Math.min(left / 10, TimeUnit.MILLISECONDS.toNanos(100));
                    c.setRequestProperty("Grpc-Timeout", millis(serverLeft) + "m");
                }
                c.connect();
                preferred = index;
                return c;
            } catch (IOException e) {
                last = e;
                lastEndpoint = endpoint;
            }
        }
        if (last == null || last instanceof SocketTimeoutException) {
            throw new DcsException(what + ": " + noAnswer(budget), last);
        }
        throw new DcsException(what + ": cannot reach etcd at " + lastEndpoint + ": " + describe(last), last);
    }

    private DcsException failure(String what, int status, JsonNode root) {
        return EtcdRefusal.of(what, status, root, credentials != null);
    }

    private static JsonNode parse(String what, byte[] answer) {
        try {
            JsonNode root = answer.length == 0 ? null : JSON.readTree(answer);
            return root == null ? JSON.createObjectNode() : root;
        } catch (IOException e) {
            String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : describe(e);
            throw new DcsException(what + ": etcd's answer is not JSON: " + why, e);
        }
    }

    private static void write(HttpURLConnection c, byte[] body) throws IOException {
        try (OutputStream out = c.getOutputStream()) {
            out.write(body);
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        if (in == null) {
            return new byte[0];
        }
        try (in) {
            return in.readAllBytes();
        }
    }

    private static byte[] bytes(ObjectNode body) {
        try {
            return JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // a tree of strings and numbers always serializes
        }
    }

    private static String checkedEndpoint(String endpoint) {
        URI u = URI.create(endpoint);
        if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getRawAuthority() == null) {
            throw new IllegalArgumentException("etcd endpoint must be http(s)://host:port, got " + endpoint);
        }
        return u.getScheme() + "://" + u.getRawAuthority();
    }

    private static String noAnswer(Duration budget) {
        return "etcd did not answer within " + budget.toMillis() + " ms";
    }

    static String describe(Throwable t) {
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    private static int millis(long nanos) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(nanos)));
    }
}
