package org.chefbackend.dcs;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.chefbackend.dcs.ClusterStore.Versioned;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One key's watch over the gateway's streaming {@code /v3/watch} (one JSON object per line), on a daemon thread of
 * its own that also runs the callbacks, one at a time and in order. After an error, an idle stream or etcd's end of
 * it, the watch subscribes again from the revision after the last change it delivered, so no change is lost;
 * when etcd compacted that revision away, the key's current value is delivered instead (a watch is a hint to look
 * again).
 */
final class EtcdWatch implements ClusterStore.Subscription {
    private static final Logger LOG = LoggerFactory.getLogger(EtcdWatch.class);
    /** A quiet stream is opened again after this long: so a connection that died without a word is noticed. */
    static final Duration IDLE = Duration.ofSeconds(30);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final EtcdGateway gateway;
    private final String key; // relative, for messages
    private final String etcdKey; // base64, as the gateway wants it
    private final Duration timeout;
    private final Duration idle;
    private final Consumer<Optional<Versioned>> onChange;
    private final Thread thread;
    private volatile long nextRevision;
    private volatile boolean closed;
    private int failures; // the watch thread's only

    EtcdWatch(EtcdGateway gateway, String key, String etcdKey, long startRevision, Duration timeout, Duration idle,
            Consumer<Optional<Versioned>> onChange) {
        this.gateway = gateway;
        this.key = key;
        this.etcdKey = etcdKey;
        this.nextRevision = startRevision;
        this.timeout = timeout;
        this.idle = idle;
        this.onChange = onChange;
        this.thread = new Thread(this::run, "etcd-watch-" + key);
        this.thread.setDaemon(true);
    }

    EtcdWatch start() {
        thread.start();
        return this;
    }

    /**
     * Stops the callbacks: none runs once this returns (a callback under way finishes first). The thread and its
     * connection end by themselves at the next line or within {@link #IDLE}: closing the JDK's stream from here
     * would wait for the read under way anyway.
     */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread); // ends a back-off at once
        synchronized (this) {
            // nothing to do: taking the lock waits for a callback under way (deliver holds it)
        }
    }

    private void run() {
        while (!closed) {
            String problem;
            try {
                problem = follow();
            } catch (DcsException | IOException e) {
                problem = e.getMessage();
            }
            if (closed || problem == null) {
                continue; // an idle stream is simply opened again
            }
            if (failures++ == 0) { // one line per outage, not one per attempt
                LOG.warn("watch of {} interrupted, subscribing again: {}", key, problem);
            }
            long backoff = Math.min(MAX_BACKOFF_NANOS, TimeUnit.MILLISECONDS.toNanos(250) << Math.min(failures, 5));
            long until = System.nanoTime() + backoff;
            while (!closed && until - System.nanoTime() > 0) {
                LockSupport.parkNanos(this, until - System.nanoTime()); // close() unparks
            }
        }
    }

    /** One subscription until its stream ends: null when it idled, else why it ended. */
    private String follow() throws IOException {
        ObjectNode create = EtcdGateway.JSON.createObjectNode();
        create.putObject("create_request").put("key", etcdKey).put("start_revision", nextRevision);
        HttpURLConnection c = gateway.openStream("watch " + key, "/v3/watch", create, timeout, idle);
        try (BufferedReader in = new BufferedReader(new InputStreamReader(c.getInputStream(), UTF_8))) {
            for (String line = in.readLine(); line != null && !closed; line = in.readLine()) {
                JsonNode result = gateway.streamResult("watch " + key, line);
                if (result.path("canceled").asBoolean()) {
                    return canceled(result);
                }
                if (result.path("created").asBoolean() && failures > 0) {
                    LOG.info("watch of {} subscribed again", key);
                    failures = 0;
                }
                for (JsonNode event : result.path("events")) {
                    JsonNode kv = event.path("kv");
                    nextRevision = EtcdJson.int64(kv.path("mod_revision")) + 1;
                    deliver("DELETE".equals(event.path("type").asText())
                            ? Optional.empty()
                            : Optional.of(EtcdJson.versioned(kv)));
                }
            }
            return "etcd ended the stream";
        } catch (SocketTimeoutException quiet) {
            return null;
        } finally {
            c.disconnect();
        }
    }

    /** What to say about a subscription etcd canceled; null when it was only compacted away and can go on. */
    private String canceled(JsonNode result) {
        long compacted = EtcdJson.int64(result.path("compact_revision"));
        if (compacted > 0) {
            // the changes since nextRevision are gone: deliver what the key is now and go on from there
            ObjectNode range = EtcdGateway.JSON.createObjectNode().put("key", etcdKey);
            JsonNode now = gateway.post("watch " + key, "/v3/kv/range", range, timeout);
            nextRevision = EtcdJson.int64(now.path("header").path("revision")) + 1;
            JsonNode kv = now.path("kvs").path(0);
            deliver(kv.isMissingNode() ? Optional.empty() : Optional.of(EtcdJson.versioned(kv)));
            return null;
        }
        String reason = result.path("cancel_reason").asText("canceled by etcd");
        if (EtcdRefusal.isStaleToken(reason) || EtcdRefusal.isMissingUser(reason)) {
            gateway.tokenRejected(null); // authenticate again before subscribing again
        }
        return "etcd canceled it: " + reason;
    }

    private synchronized void deliver(Optional<Versioned> change) {
        if (closed) {
            return;
        }
        try {
            onChange.accept(change);
        } catch (RuntimeException e) {
            LOG.warn("watch callback for {} failed", key, e);
        }
    }
}
