package org.chefbackend.etcd;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The cluster an etcd member starts into the first time: {@code --initial-cluster-state} and
 * {@code --initial-cluster}. etcd reads both only while its data directory is empty; afterwards the membership
 * lives in its own data.
 *
 * @param state "new" when forming a cluster, "existing" when joining one (after {@code member add})
 * @param members member name (node GUID) to peer URL, this node included
 */
public record InitialCluster(String state, Map<String, String> members) {
    public static final String NEW = "new";
    public static final String EXISTING = "existing";
    // etcd splits --initial-cluster on ',' and '='; keep names and URLs free of both
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern PEER_URL = Pattern.compile("https?://[^,=\\s]+");

    public InitialCluster {
        if (!NEW.equals(state) && !EXISTING.equals(state)) {
            throw new IllegalArgumentException("state must be \"new\" or \"existing\", not " + state);
        }
        if (members == null || members.isEmpty()) {
            throw new IllegalArgumentException("members must name at least one member");
        }
        members.forEach((name, url) -> {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("invalid member name " + name);
            }
            if (url == null || !PEER_URL.matcher(url).matches()) {
                throw new IllegalArgumentException("invalid peer URL " + url + " of member " + name);
            }
        });
        members = Collections.unmodifiableMap(new TreeMap<>(members)); // sorted: stable rendering
    }

    /** A cluster of one: this node forming its own. */
    public static InitialCluster single(String name, String peerUrl) {
        return new InitialCluster(NEW, Map.of(name, peerUrl));
    }

    /**
     * The same members with every peer URL in {@code scheme} ("http", "https"): a cluster that {@code secure-cluster}
     * moved to peer TLS was written down with http URLs when its members joined.
     */
    public InitialCluster withPeerScheme(String scheme) {
        Map<String, String> moved = new TreeMap<>();
        members.forEach((name, url) -> moved.put(name, scheme + url.substring(url.indexOf("://"))));
        return new InitialCluster(state, moved);
    }

    /** The value of {@code --initial-cluster}: {@code name=url,name=url}. */
    public String flagValue() {
        return members.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(","));
    }
}
