package org.chefbackend.config;

/** A Ruby symbol literal such as {@code :sql}; kept apart from strings so types can decide whether to accept it. */
public record RubySymbol(String name) {
    @Override
    public String toString() {
        return ":" + name;
    }
}
