package org.chefbackend.config;

import java.util.List;

/**
 * One setting statement of chef-backend.rb, e.g. {@code postgresql['port'] = 5432} becomes
 * path [postgresql, port] and value 5432.
 *
 * <p>Values are plain Java: {@link String}, {@link Long}, {@link Double}, {@link Boolean}, {@code null} (Ruby nil),
 * {@link RubySymbol}, {@link List} of values, {@link java.util.Map} (insertion-ordered) from String keys
 * (symbol keys are turned into their names) to values.
 *
 * @param path the dotted/bracketed key, one element per segment
 * @param value the literal value
 * @param position where the statement starts (the first segment of the key)
 * @param valuePosition where the value starts, for type errors
 */
public record Assignment(List<String> path, Object value, SourcePosition position, SourcePosition valuePosition) {
    public String key() {
        return String.join(".", path);
    }
}
