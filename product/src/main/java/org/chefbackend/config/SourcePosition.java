package org.chefbackend.config;

/** A place in a configuration file, 1-based, as editors and compilers count. */
public record SourcePosition(String file, int line, int column) {
    @Override
    public String toString() {
        return file + ":" + line + ":" + column;
    }
}
