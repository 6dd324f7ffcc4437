package org.chefbackend.dcs;

/** Maps the store's relative keys ("members/be1") to etcd keys under one cluster prefix ("/chef-backend/"). */
final class Keyspace {
    static final String DEFAULT_PREFIX = "/chef-backend/";

    private final String prefix;

    Keyspace(String prefix) {
        if (prefix == null || prefix.isBlank() || prefix.chars().allMatch(c -> c == '/')) {
            throw new IllegalArgumentException("etcd key prefix must name something, got '" + prefix + "'");
        }
        // "/chef-backend" and "/chef-backend/" are the same prefix; without the slash it would also match
        // "/chef-backend-other/..."
        this.prefix = prefix.endsWith("/") ? prefix : prefix + "/";
    }

    String prefix() {
        return prefix;
    }

    /** The etcd key of a relative key; a key names one entry, so it is neither empty nor absolute. */
    String absolute(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("empty etcd key");
        }
        return absolutePrefix(key);
    }

    /** The etcd key prefix of a relative prefix; "" means everything under the cluster prefix. */
    String absolutePrefix(String keyPrefix) {
        if (keyPrefix == null) {
            throw new IllegalArgumentException("null etcd key");
        }
        if (keyPrefix.startsWith("/")) {
            throw new IllegalArgumentException("etcd key '" + keyPrefix + "' must be relative to " + prefix);
        }
        return prefix + keyPrefix;
    }

    /** The relative key of an etcd key under the prefix. */
    String relative(String etcdKey) {
        if (!etcdKey.startsWith(prefix)) {
            throw new IllegalArgumentException("etcd key '" + etcdKey + "' is not under " + prefix);
        }
        return etcdKey.substring(prefix.length());
    }
}
