package org.chefbackend.cluster;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.chefbackend.dcs.ClusterStore;

/**
 * Reads records from what etcd answered, leaving out or treating as unknown any that is not valid ({@link Records}),
 * and saying so in one line (to {@code warn}) once per bad value, not on every read: one bad record (anyone with etcd
 * access may write one) must neither make its readers fail nor fill the log. Thread-safe.
 */
public final class RecordReader {
    private final Consumer<String> warn;
    /** The bad values already said, by key: their revision and why. */
    private final Map<String, String> said = new ConcurrentHashMap<>();

    public RecordReader(Consumer<String> warn) {
        this.warn = warn;
    }

    /**
     * The valid records among {@code values} (the keys under {@code prefix}, as etcd answered), by name. A record
     * whose {@code name} is not its key's is as invalid as an unparseable one.
     */
    public <T extends Records.Named> Map<String, T> named(String prefix, Map<String, ClusterStore.Versioned> values,
            Class<T> type) {
        Map<String, T> out = new LinkedHashMap<>();
        values.forEach((key, v) -> {
            String name = key.substring(prefix.length());
            try {
                T record = Records.parse(v.value(), type);
                if (!record.name().equals(name)) {
                    throw new Records.Invalid("name " + RecordRules.quoted(record.name()) + " is not the key's "
                            + RecordRules.quoted(name));
                }
                out.put(name, record);
                said.remove(key);
            } catch (Records.Invalid e) {
                note(key, v, e.getMessage(), "left out");
            }
        });
        said.keySet().removeIf(k -> k.startsWith(prefix) && !values.containsKey(k)); // deleted since
        return out;
    }

    /** The record at {@code key}: empty when there is none, or (said, with its {@code consequence}) it is invalid. */
    public <T extends Records.Checked> Optional<T> one(String key, Optional<ClusterStore.Versioned> value,
            Class<T> type, String consequence) {
        return one(key, value, type, record -> { }, consequence);
    }

    /**
     * The {@code leader} record, when valid and one of {@code members} at its recorded address
     * ({@link Records.Leader#checkAgainst}); empty otherwise.
     */
    public Optional<Records.Leader> leader(String key, Optional<ClusterStore.Versioned> value,
            Map<String, Records.Member> members, String consequence) {
        return one(key, value, Records.Leader.class, l -> l.checkAgainst(members), consequence);
    }

    private <T extends Records.Checked> Optional<T> one(String key, Optional<ClusterStore.Versioned> value,
            Class<T> type, Consumer<T> check, String consequence) {
        if (value.isEmpty()) {
            said.remove(key);
            return Optional.empty();
        }
        try {
            T record = Records.parse(value.get().value(), type);
            check.accept(record);
            said.remove(key);
            return Optional.of(record);
        } catch (Records.Invalid e) {
            note(key, value.get(), e.getMessage(), consequence);
            return Optional.empty();
        }
    }

    /** Says that the value at {@code key} is unreadable, why and what follows, once per value and reason. */
    public void note(String key, ClusterStore.Versioned v, String why, String consequence) {
        String mark = v.modRevision() + " " + why;
        if (!mark.equals(said.put(key, mark))) {
            warn.accept("etcd " + RecordRules.oneLine(key, 300) + " is unreadable (" + RecordRules.oneLine(why, 400)
                    + "): " + consequence);
        }
    }
}
