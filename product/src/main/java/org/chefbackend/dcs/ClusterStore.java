package org.chefbackend.dcs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.cluster.Member;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's only door to etcd: keys under one cluster prefix, UTF-8 (JSON) string values, leases, a watch and
 * etcd's membership API.
 *
 * <p>Every call waits at most the timeout given to {@link #connect} and fails with a one-line {@link DcsException}.
 * A write that timed out may still have been applied; read back to learn the outcome.
 *
 * <p>Retries, as verified in jetcd-core 0.8.5's sources ({@code KVImpl}, {@code LeaseImpl}, {@code Impl},
 * {@code support.Errors}): {@code KV.put/delete/txn} retry on UNAVAILABLE only when their option says
 * {@code withAutoRetry()} ({@code TxnOption.DEFAULT} does not; without it only auth-token errors, which the server
 * rejected before executing, are retried). But {@code Lease.grant/revoke/timeToLive} pass {@code autoRetry=true}
 * unconditionally, and gets always retry, with no option to turn that off per call. So this client sets
 * {@code retryMaxAttempts(0)}: jetcd never re-sends anything, and the agent's loop, which re-reads state each cycle,
 * is the only retry. Nothing here uses {@code withAutoRetry()} (Jepsen, jetcd 0.8.2: retried writes lose updates).
 */
public final class ClusterStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterStore.class);

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

    private final Client client;
    private final Keyspace keys;
    private final Duration timeout;
    private final List<String> endpoints;

    private ClusterStore(Client client, Keyspace keys, Duration timeout, List<String> endpoints) {
        this.client = client;
        this.keys = keys;
        this.timeout = timeout;
        this.endpoints = endpoints;
    }

    /**
     * A store over the given client URLs ({@code http://host:2379}). jetcd connects lazily, so an unreachable etcd
     * shows on the first call, not here.
     */
    public static ClusterStore connect(List<String> endpoints, String prefix, Duration timeout) {
        if (endpoints == null || endpoints.isEmpty()) {
            throw new IllegalArgumentException("no etcd endpoints");
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("etcd timeout must be positive, got " + timeout);
        }
        Keyspace keys = new Keyspace(prefix);
        Client client = Client.builder()
                .endpoints(endpoints.toArray(String[]::new))
                .retryMaxAttempts(0) // see the class comment
                .connectTimeout(timeout)
                .interceptor(new CallDeadline(timeout))
                .build();
        return new ClusterStore(client, keys, timeout, List.copyOf(endpoints));
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
        ByteSequence k = etcdKey(key);
        GetResponse r = call("get " + key, () -> client.getKVClient().get(k));
        return r.getKvs().stream().findFirst().map(ClusterStore::versioned);
    }

    /** Every key starting with {@code keyPrefix} ("members/"), by key relative to the store prefix ("members/be1"). */
    public Map<String, Versioned> getPrefix(String keyPrefix) {
        ByteSequence from = bytes(keys.absolutePrefix(keyPrefix));
        GetResponse r = call("get " + keyPrefix + "*",
                () -> client.getKVClient().get(from, GetOption.builder().isPrefix(true).build()));
        Map<String, Versioned> out = new LinkedHashMap<>(); // etcd answers in key order
        for (KeyValue kv : r.getKvs()) {
            out.put(keys.relative(kv.getKey().toString(UTF_8)), versioned(kv));
        }
        return Collections.unmodifiableMap(out);
    }

    public void put(String key, String value) {
        ByteSequence k = etcdKey(key);
        ByteSequence v = bytes(value);
        call("put " + key, () -> client.getKVClient().put(k, v));
    }

    /** Creates the key unless it exists; true when this call created it. */
    public boolean putIfAbsent(String key, String value) {
        return createIfAbsent("put-if-absent " + key, key, value, PutOption.DEFAULT);
    }

    /** Writes the key only if its last change was at {@code expectedModRevision} (0: only if absent). */
    public boolean compareAndPut(String key, long expectedModRevision, String value) {
        ByteSequence k = etcdKey(key);
        ByteSequence v = bytes(value);
        return txn("compare-and-put " + key,
                new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(expectedModRevision)),
                Op.put(k, v, PutOption.DEFAULT));
    }

    public void delete(String key) {
        ByteSequence k = etcdKey(key);
        call("delete " + key, () -> client.getKVClient().delete(k, DeleteOption.DEFAULT));
    }

    // ---- leases

    /** A new lease; etcd may round a short TTL up to its minimum (1.5 × election timeout). */
    public long grantLease(long ttlSeconds) {
        if (ttlSeconds < 1) {
            throw new IllegalArgumentException("lease TTL must be at least 1 s, got " + ttlSeconds);
        }
        return call("grant lease", () -> client.getLeaseClient().grant(ttlSeconds)).getID();
    }

    /** Refreshes the lease once; false when it is gone (expired or revoked). */
    public boolean keepAliveOnce(long leaseId) {
        return keepAliveOnce(leaseId, timeout.toNanos());
    }

    /** As {@link #keepAliveOnce(long)}, waiting at most {@code maxWaitNanos} (but never longer than the timeout). */
    boolean keepAliveOnce(long leaseId, long maxWaitNanos) {
        String what = "keep lease " + Long.toHexString(leaseId) + " alive";
        CompletableFuture<?> f = start(what, () -> client.getLeaseClient().keepAliveOnce(leaseId));
        try {
            await(what, f, Math.min(maxWaitNanos, timeout.toNanos()));
            return true;
        } catch (DcsException e) {
            // jetcd reports a keep-alive answer with TTL 0 (lease unknown to etcd) as NOT_FOUND
            if (isNotFound(e.getCause())) {
                return false;
            }
            throw e;
        }
    }

    /** Revokes the lease and so deletes its keys; a lease that is already gone counts as revoked. */
    public void revokeLease(long leaseId) {
        try {
            call("revoke lease " + Long.toHexString(leaseId), () -> client.getLeaseClient().revoke(leaseId));
        } catch (DcsException e) {
            if (!isNotFound(e.getCause())) {
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
        return createIfAbsent("put-if-absent " + key + " with lease " + Long.toHexString(leaseId), key, value,
                PutOption.builder().withLeaseId(leaseId).build());
    }

    /**
     * True while the key exists bound to exactly this lease (we still hold it); a linearizable read. etcd deletes the
     * key when the lease ends, so this also says the lease was alive at the read.
     */
    public boolean holds(String key, long leaseId) {
        return leaseId != 0 && get(key).map(v -> v.leaseId() == leaseId).orElse(false);
    }

    /**
     * Puts {@code key} only while {@code guardKey} is bound to this lease: what only the leader may write (etcd
     * {@code sync}, {@code history}) is never written by a node that lost the key. True when this call wrote it.
     */
    public boolean putIfLease(String key, String value, String guardKey, long leaseId) {
        Optional<Versioned> guard = get(guardKey);
        if (guard.isEmpty() || leaseId == 0 || guard.get().leaseId() != leaseId) {
            return false;
        }
        // the guard's mod revision stands for its lease (see deleteIfLease)
        return txn("put " + key + " if " + guardKey + " has lease " + Long.toHexString(leaseId),
                new Cmp(etcdKey(guardKey), Cmp.Op.EQUAL, CmpTarget.modRevision(guard.get().modRevision())),
                Op.put(etcdKey(key), bytes(value), PutOption.DEFAULT));
    }

    /**
     * Deletes the key only while it is bound to this lease, so releasing never removes someone else's key. True when
     * this call deleted it.
     */
    public boolean deleteIfLease(String key, long leaseId) {
        ByteSequence k = etcdKey(key);
        // jetcd 0.8.5's Cmp cannot express etcd's LEASE compare target, so compare the mod revision at which the
        // key was seen bound to our lease: rebinding or re-creating the key changes it. Only our own writes with
        // this lease can move it and still match, hence the short loop.
        for (int attempt = 0; attempt < 3; attempt++) {
            Optional<Versioned> seen = get(key);
            if (seen.isEmpty() || leaseId == 0 || seen.get().leaseId() != leaseId) {
                return false;
            }
            if (txn("delete " + key + " if lease " + Long.toHexString(leaseId),
                    new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(seen.get().modRevision())),
                    Op.delete(k, DeleteOption.DEFAULT))) {
                return true;
            }
        }
        throw new DcsException("delete " + key + ": it kept changing under lease " + Long.toHexString(leaseId));
    }

    // ---- watch

    /**
     * Calls {@code onChange} with the new value on every change of the key after this call, or with
     * {@code Optional.empty()} when it is deleted. Callbacks run on a jetcd thread, one at a time and in order.
     * jetcd re-establishes the watch after transient errors; a watch is a hint to look again, so callers still
     * re-read periodically.
     */
    public Subscription watch(String key, Consumer<Optional<Versioned>> onChange) {
        ByteSequence k = etcdKey(key);
        // start right after the current revision, so a change made as soon as this returns is not missed while
        // the watch is being created
        long revision = call("watch " + key,
                () -> client.getKVClient().get(k, GetOption.builder().withCountOnly(true).build()))
                .getHeader().getRevision();
        Watch.Listener listener = Watch.listener(response -> {
            for (WatchEvent event : response.getEvents()) {
                Optional<Versioned> change = event.getEventType() == WatchEvent.EventType.PUT
                        ? Optional.of(versioned(event.getKeyValue()))
                        : Optional.empty();
                try {
                    onChange.accept(change);
                } catch (RuntimeException e) {
                    LOG.warn("watch callback for {} failed", key, e);
                }
            }
        }, error -> LOG.warn("watch of {} failed: {}", key, describe(error)));
        Watch.Watcher watcher = client.getWatchClient().watch(k,
                WatchOption.builder().withRevision(revision + 1).build(), listener);
        return watcher::close;
    }

    // ---- etcd membership

    public List<EtcdMember> etcdMembers() {
        return call("list etcd members", () -> client.getClusterClient().listMember())
                .getMembers().stream().map(ClusterStore::member).toList();
    }

    /**
     * Adds a learner that will run at {@code peerUrl}: it receives the log but does not vote, so the cluster keeps
     * its quorum however long the new member takes to start. Promote it with {@link #promoteEtcdMember} once it
     * has caught up.
     */
    public EtcdMember addEtcdLearner(String peerUrl) {
        URI url = URI.create(peerUrl);
        return member(call("add etcd learner " + peerUrl,
                () -> client.getClusterClient().addMember(List.of(url), true)).getMember());
    }

    /**
     * Makes a started learner a voting member. jetcd has no promote call, so this goes through etcd's HTTP gateway
     * (v3 API over JSON). etcd refuses until the learner has caught up with the leader's log: false then, retry.
     */
    public boolean promoteEtcdMember(long id) {
        String body = "{\"ID\":\"" + Long.toUnsignedString(id) + "\"}";
        for (String endpoint : endpoints) {
            try {
                org.chefbackend.system.Http.Response r = org.chefbackend.system.Http.send("POST",
                        endpoint + "/v3/cluster/member/promote", Map.of("Content-Type", "application/json"),
                        body.getBytes(java.nio.charset.StandardCharsets.UTF_8), timeout, timeout);
                if (r.status() == 200) {
                    return true;
                }
                if (r.text().contains("not a learner")) {
                    return true; // already promoted (a retry of a promote that did happen)
                }
                return false;
            } catch (java.io.IOException e) {
                // try the next endpoint
            }
        }
        throw new DcsException("promote etcd member " + Long.toHexString(id) + ": no etcd endpoint answered");
    }

    /**
     * Adds a voting member that will run at {@code peerUrl}. Until it starts it counts towards quorum: adding a
     * second member to a one-member cluster stops all writes until the new member is up.
     */
    public EtcdMember addEtcdMember(String peerUrl) {
        URI url = URI.create(peerUrl);
        return member(call("add etcd member " + peerUrl,
                () -> client.getClusterClient().addMember(List.of(url))).getMember());
    }

    /**
     * Removes a member; one that is already gone counts as removed (a timed-out remove may have happened). etcd
     * refuses with "etcdserver: unhealthy cluster" until the remaining voters have been connected for 5 s
     * ({@code --strict-reconfig-check}); that refusal is safe to retry.
     */
    public void removeEtcdMember(long id) {
        try {
            call("remove etcd member " + Long.toHexString(id), () -> client.getClusterClient().removeMember(id));
        } catch (DcsException e) {
            if (!isNotFound(e.getCause())) {
                throw e;
            }
        }
    }

    @Override
    public void close() {
        client.close();
    }

    // ---- plumbing

    private boolean createIfAbsent(String what, String key, String value, PutOption option) {
        ByteSequence k = etcdKey(key);
        // create revision 0 = the key does not exist
        return txn(what, new Cmp(k, Cmp.Op.EQUAL, CmpTarget.createRevision(0)), Op.put(k, bytes(value), option));
    }

    /** One compare, one operation. TxnOption.DEFAULT: not retried by jetcd (see the class comment). */
    private boolean txn(String what, Cmp compare, Op then) {
        return call(what, () -> client.getKVClient().txn().If(compare).Then(then).commit()).isSucceeded();
    }

    private <T> T call(String what, Supplier<CompletableFuture<T>> request) {
        return await(what, start(what, request), timeout.toNanos());
    }

    private static <T> CompletableFuture<T> start(String what, Supplier<CompletableFuture<T>> request) {
        try {
            return request.get();
        } catch (RuntimeException e) { // e.g. the client is closed
            throw new DcsException(what + ": " + describe(e), e);
        }
    }

    private <T> T await(String what, CompletableFuture<T> f, long nanos) {
        try {
            return f.get(nanos, NANOSECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new DcsException(what + ": " + noAnswer(), e);
        } catch (ExecutionException | CompletionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            String why = Status.fromThrowable(cause).getCode() == Status.Code.DEADLINE_EXCEEDED
                    ? noAnswer() // the gRPC deadline below fired first
                    : describe(cause);
            throw new DcsException(what + ": " + why, cause);
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new DcsException(what + ": interrupted", e);
        }
    }

    private String noAnswer() {
        return "etcd did not answer within " + timeout.toMillis() + " ms";
    }

    static String describe(Throwable t) {
        while ((t instanceof ExecutionException || t instanceof CompletionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof EtcdException) {
            return t.getMessage();
        }
        Status s = Status.fromThrowable(t);
        if (s.getCode() == Status.Code.UNKNOWN && s.getDescription() == null) {
            return String.valueOf(t.getMessage() != null ? t.getMessage() : t);
        }
        return s.getDescription() != null ? s.getDescription() : s.getCode().toString();
    }

    private static boolean isNotFound(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof EtcdException e && e.getErrorCode() == ErrorCode.NOT_FOUND) {
                return true;
            }
        }
        return t != null && Status.fromThrowable(t).getCode() == Status.Code.NOT_FOUND;
    }

    private ByteSequence etcdKey(String key) {
        return bytes(keys.absolute(key));
    }

    private static ByteSequence bytes(String s) {
        if (s == null) {
            throw new IllegalArgumentException("null etcd value");
        }
        return ByteSequence.from(s, UTF_8);
    }

    private static Versioned versioned(KeyValue kv) {
        return new Versioned(kv.getValue().toString(UTF_8), kv.getModRevision(), kv.getLease());
    }

    private static EtcdMember member(Member m) {
        return new EtcdMember(m.getId(), m.getName(),
                m.getPeerURIs().stream().map(URI::toString).toList(),
                m.getClientURIs().stream().map(URI::toString).toList());
    }

    /**
     * Puts the store's timeout on the wire as a gRPC deadline, so a call that timed out here is also abandoned by
     * gRPC instead of lingering on a stalled connection. Watches are long-lived streams and are left alone.
     */
    private record CallDeadline(Duration timeout) implements ClientInterceptor {
        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            boolean watch = "etcdserverpb.Watch".equals(method.getServiceName());
            return next.newCall(method, watch ? options : options.withDeadlineAfter(timeout.toNanos(), NANOSECONDS));
        }
    }
}
