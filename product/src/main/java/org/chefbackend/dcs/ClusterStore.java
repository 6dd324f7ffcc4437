package org.chefbackend.dcs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;

/**
 * The agent's only door to etcd: keys under one cluster prefix, UTF-8 (JSON) string values, leases, a watch and
 * etcd's membership API, over etcd's JSON gateway ({@link EtcdGateway}).
 *
 * <p>Every call waits at most the timeout given to {@link #connect} (plus the time a connection is slow to open, if
 * it is) and fails with a one-line {@link DcsException}.
 * A write that timed out may still have been applied; read back to learn the outcome. Nothing is re-sent
 * automatically: the agent's loop, which re-reads state each cycle, is the only retry. Re-sending would be safe for
 * the reads ({@link #get}, {@link #getPrefix}, {@link #etcdMembers}), {@link #keepAliveOnce} and
 * {@link #revokeLease}; never for a put, delete, txn, lease grant or member add/remove.
 */
public final class ClusterStore implements AutoCloseable {
    /** A value with the revision of its last change and the lease it is bound to (0: none). */
    public record Versioned(String value, long modRevision, long leaseId) {
    }

    /** A member of the etcd cluster; {@code name} and {@code clientUrls} are empty until it has started. */
    public record EtcdMember(long id, String name, List<String> peerUrls, List<String> clientUrls) {
        public EtcdMember {
            peerUrls = List.copyOf(peerUrls);
            clientUrls = List.copyOf(clientUrls);
        }
    }

    /** A watch; closing it stops the callbacks. */
    public interface Subscription extends AutoCloseable {
        @Override
        void close();
    }

    private final EtcdGateway etcd;
    private final Keyspace keys;
    private final Duration timeout;
    private final Set<Subscription> watches = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private ClusterStore(EtcdGateway etcd, Keyspace keys, Duration timeout) {
        this.etcd = etcd;
        this.keys = keys;
        this.timeout = timeout;
    }

    /** A store over the given client URLs ({@code http://host:2379}); nothing is asked until the first call. */
    public static ClusterStore connect(List<String> endpoints, String prefix, Duration timeout) {
        return connect(endpoints, prefix, timeout, null, null);
    }

    /**
     * As {@link #connect(List, String, Duration)} for an etcd with auth ({@code credentials}, null for none) or TLS
     * ({@code tls} for {@code https://} endpoints, null for the JDK's default trust).
     */
    public static ClusterStore connect(List<String> endpoints, String prefix, Duration timeout,
            EtcdCredentials credentials, SSLContext tls) {
        if (endpoints == null || endpoints.isEmpty()) {
            throw new IllegalArgumentException("no etcd endpoints");
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("etcd timeout must be positive, got " + timeout);
        }
        Keyspace keys = new Keyspace(prefix);
        return new ClusterStore(new EtcdGateway(endpoints, credentials, tls), keys, timeout);
    }

    public String prefix() {
        return keys.prefix();
    }

    public Duration timeout() {
        return timeout;
    }

    // ---- keys and values

    /** The value of a key relative to the prefix ("members/be1"); a linearizable read. */
    public Optional<Versioned> get(String key) {
        JsonNode kv = call("get " + key, "/v3/kv/range", keyBody(key)).path("kvs").path(0);
        return kv.isMissingNode() ? Optional.empty() : Optional.of(EtcdJson.versioned(kv));
    }

    /** Every key starting with {@code keyPrefix} ("members/"), by key relative to the store prefix ("members/be1"). */
    public Map<String, Versioned> getPrefix(String keyPrefix) {
        ObjectNode body = EtcdJson.prefix(keys.absolutePrefix(keyPrefix));
        Map<String, Versioned> out = new LinkedHashMap<>(); // etcd answers in key order
        for (JsonNode kv : call("get " + keyPrefix + "*", "/v3/kv/range", body).path("kvs")) {
            out.put(keys.relative(EtcdJson.text(kv.path("key"))), EtcdJson.versioned(kv));
        }
        return Collections.unmodifiableMap(out);
    }

    public void put(String key, String value) {
        call("put " + key, "/v3/kv/put", keyBody(key).put("value", EtcdJson.b64(value)));
    }

    /** Creates the key unless it exists; true when this call created it. */
    public boolean putIfAbsent(String key, String value) {
        return txn("put-if-absent " + key, compare(key, "CREATE", 0), put(key, value, 0));
    }

    /** Writes the key only if its last change was at {@code expectedModRevision} (0: only if absent). */
    public boolean compareAndPut(String key, long expectedModRevision, String value) {
        return txn("compare-and-put " + key, compare(key, "MOD", expectedModRevision), put(key, value, 0));
    }

    public void delete(String key) {
        call("delete " + key, "/v3/kv/deleterange", keyBody(key));
    }

    // ---- leases

    /** A new lease; etcd may round a short TTL up to its minimum (1.5 × election timeout). */
    public long grantLease(long ttlSeconds) {
        if (ttlSeconds < 1) {
            throw new IllegalArgumentException("lease TTL must be at least 1 s, got " + ttlSeconds);
        }
        return EtcdJson.int64(call("grant lease", "/v3/lease/grant", EtcdJson.object().put("TTL", ttlSeconds))
                .path("ID"));
    }

    /** Refreshes the lease once; false when it is gone (expired or revoked). */
    public boolean keepAliveOnce(long leaseId) {
        return keepAliveOnce(leaseId, timeout.toNanos());
    }

    /** As {@link #keepAliveOnce(long)}, waiting at most {@code maxWaitNanos} (but never longer than the timeout). */
    boolean keepAliveOnce(long leaseId, long maxWaitNanos) {
        String what = "keep lease " + Long.toHexString(leaseId) + " alive";
        // a streaming call; with one request in the body, etcd answers once and ends the stream
        JsonNode result = call(what, "/v3/lease/keepalive", EtcdJson.object().put("ID", leaseId),
                Duration.ofNanos(Math.max(1, Math.min(maxWaitNanos, timeout.toNanos())))).path("result");
        if (result.isMissingNode()) {
            throw new DcsException(what + ": etcd answered without a result");
        }
        return EtcdJson.int64(result.path("TTL")) > 0; // TTL 0: etcd does not know the lease
    }

    /** Revokes the lease and so deletes its keys; a lease that is already gone counts as revoked. */
    public void revokeLease(long leaseId) {
        try {
            call("revoke lease " + Long.toHexString(leaseId), "/v3/lease/revoke",
                    EtcdJson.object().put("ID", leaseId));
        } catch (DcsException e) {
            if (EtcdRefusal.code(e) != EtcdRefusal.NOT_FOUND) {
                throw e;
            }
        }
    }

    /**
     * Creates the key bound to the lease unless it exists; true when this call created it (we now hold it). A lease
     * that no longer exists fails with a DcsException. After a DcsException, {@link #holds} tells whether it
     * happened.
     */
    public boolean putIfAbsentWithLease(String key, String value, long leaseId) {
        if (leaseId == 0) {
            throw new IllegalArgumentException("lease 0 is no lease");
        }
        return txn("put-if-absent " + key + " with lease " + Long.toHexString(leaseId), compare(key, "CREATE", 0),
                put(key, value, leaseId));
    }

    /**
     * True while the key exists bound to exactly this lease (we still hold it); a linearizable read. etcd deletes the
     * key when the lease ends, so this also says the lease was alive at the read.
     */
    public boolean holds(String key, long leaseId) {
        return leaseId != 0 && get(key).map(v -> v.leaseId() == leaseId).orElse(false);
    }

    /**
     * Puts {@code key} only while {@code guardKey} is bound to this lease, in one transaction: what only the leader
     * may write (etcd {@code sync}, {@code history}) is never written by a node that lost the key. True when this
     * call wrote it.
     */
    public boolean putIfLease(String key, String value, String guardKey, long leaseId) {
        return leaseId != 0 && txn("put " + key + " if " + guardKey + " has lease " + Long.toHexString(leaseId),
                compare(guardKey, "LEASE", leaseId), put(key, value, 0));
    }

    /**
     * Deletes the key only while it is bound to this lease, in one transaction, so releasing never removes someone
     * else's key. True when this call deleted it.
     */
    public boolean deleteIfLease(String key, long leaseId) {
        return leaseId != 0 && txn("delete " + key + " if lease " + Long.toHexString(leaseId),
                compare(key, "LEASE", leaseId), EtcdJson.delete(keys.absolute(key)));
    }

    // ---- watch

    /**
     * Calls {@code onChange} with the new value on every change of the key after this call, or with
     * {@code Optional.empty()} when it is deleted. Callbacks run on the watch's own thread, one at a time and in
     * order. The watch subscribes again after errors, from where it stopped; a watch is a hint to look again, so
     * callers still re-read periodically.
     */
    public Subscription watch(String key, Consumer<Optional<Versioned>> onChange) {
        ObjectNode countOnly = keyBody(key).put("count_only", true);
        // start right after the current revision, so a change made as soon as this returns is not missed while
        // the watch is being created
        JsonNode header = call("watch " + key, "/v3/kv/range", countOnly).path("header");
        long revision = EtcdJson.int64(header.path("revision"));
        EtcdWatch watch = new EtcdWatch(etcd, key, EtcdJson.b64(keys.absolute(key)), revision + 1, timeout,
                EtcdWatch.IDLE, onChange);
        watches.add(watch);
        watch.start();
        return () -> {
            watch.close();
            watches.remove(watch);
        };
    }

    // ---- etcd membership

    public List<EtcdMember> etcdMembers() {
        List<EtcdMember> out = new ArrayList<>();
        for (JsonNode m : call("list etcd members", "/v3/cluster/member/list", EtcdJson.object()).path("members")) {
            out.add(EtcdJson.member(m));
        }
        return List.copyOf(out);
    }

    /**
     * Adds a learner that will run at {@code peerUrl}: it receives the log but does not vote, so the cluster keeps
     * its quorum however long the new member takes to start. Promote it with {@link #promoteEtcdMember} once it
     * has caught up.
     */
    public EtcdMember addEtcdLearner(String peerUrl) {
        return addMember("add etcd learner " + peerUrl, peerUrl, true);
    }

    /**
     * Makes a started learner a voting member. etcd refuses until the learner has caught up with the leader's log:
     * false then, retry. A member that is already a voter counts as promoted (a promote that timed out may have
     * happened).
     */
    public boolean promoteEtcdMember(long id) {
        try {
            call("promote etcd member " + Long.toHexString(id), "/v3/cluster/member/promote", EtcdJson.memberId(id));
            return true;
        } catch (DcsException e) {
            String refused = String.valueOf(EtcdRefusal.message(e));
            if (refused.equals("etcdserver: can only promote a learner member")) {
                return true; // a voter already
            }
            if (refused.equals("etcdserver: can only promote a learner member which is in sync with leader")) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Adds a voting member that will run at {@code peerUrl}. Until it starts it counts towards quorum: adding a
     * second member to a one-member cluster stops all writes until the new member is up.
     */
    public EtcdMember addEtcdMember(String peerUrl) {
        return addMember("add etcd member " + peerUrl, peerUrl, false);
    }

    /**
     * Removes a member; one that is already gone counts as removed (a timed-out remove may have happened). etcd
     * refuses with "etcdserver: unhealthy cluster" until the remaining voters have been connected for 5 s
     * ({@code --strict-reconfig-check}); that refusal is safe to retry.
     */
    public void removeEtcdMember(long id) {
        try {
            call("remove etcd member " + Long.toHexString(id), "/v3/cluster/member/remove", EtcdJson.memberId(id));
        } catch (DcsException e) {
            if (EtcdRefusal.code(e) != EtcdRefusal.NOT_FOUND) {
                throw e;
            }
        }
    }

    /**
     * Requests go to {@code endpoints} from now on, with these credentials and TLS: {@code secure-cluster} moves a
     * running agent to https with its etcd member. Watches subscribe there when they next do, leases keep their ids.
     */
    public void retarget(List<String> endpoints, EtcdCredentials credentials, SSLContext tls) {
        etcd.retarget(endpoints, credentials, tls);
    }

    /**
     * While secrets are rotated: once etcd refuses this store's credentials and accepts {@code next}, the store goes
     * on as {@code next} and runs {@code adopted} (once). Null clears it.
     */
    public void fallBackTo(EtcdCredentials next, Runnable adopted) {
        etcd.fallBackTo(next, adopted);
    }

    /** Closes the watches still open; later calls fail. Every request has its own connection: nothing else to do. */
    @Override
    public void close() {
        closed = true;
        watches.forEach(Subscription::close);
    }

    // ---- plumbing

    private JsonNode call(String what, String path, ObjectNode body) {
        return call(what, path, body, timeout);
    }

    private JsonNode call(String what, String path, ObjectNode body, Duration budget) {
        if (closed) {
            throw new DcsException(what + ": the etcd client is closed");
        }
        return etcd.post(what, path, body, budget);
    }

    private boolean txn(String what, ObjectNode compare, ObjectNode then) {
        return call(what, "/v3/kv/txn", EtcdJson.txn(compare, then)).path("succeeded").asBoolean(false);
    }

    private ObjectNode compare(String key, String target, long value) {
        return EtcdJson.compare(keys.absolute(key), target, value);
    }

    private ObjectNode put(String key, String value, long leaseId) {
        return EtcdJson.put(keys.absolute(key), value, leaseId);
    }

    private EtcdMember addMember(String what, String peerUrl, boolean learner) {
        ObjectNode body = EtcdJson.object().put("isLearner", learner);
        body.putArray("peerURLs").add(peerUrl);
        return EtcdJson.member(call(what, "/v3/cluster/member/add", body).path("member"));
    }

    private ObjectNode keyBody(String key) {
        return EtcdJson.key(keys.absolute(key));
    }
}
