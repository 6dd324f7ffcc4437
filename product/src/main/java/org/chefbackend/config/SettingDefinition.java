package org.chefbackend.config;

import java.util.function.Function;

/**
 * One documented chef-backend.rb option.
 *
 * @param key dotted key as the documents spell it, e.g. {@code leaderl.health_check.interval_seconds}
 * @param type accepted literals and canonical value
 * @param defaultValue the documented default, computed from the machine where the documents say so
 * @param computed whether the default depends on the machine (the sample says so)
 * @param description one or two sentences from the documents
 * @param compatibilityNote non-null for options kept only so existing files and runbooks keep working; says what
 *     (if anything) they do here
 */
public record SettingDefinition(
        String key,
        SettingType type,
        Function<MachineFacts, Object> defaultValue,
        boolean computed,
        String description,
        String compatibilityNote) {

    public Object defaultFor(MachineFacts machine) {
        return type.coerce(defaultValue.apply(machine));
    }

    /** The first segment: the section the option belongs to ("postgresql"), or "" for top-level options. */
    public String section() {
        int dot = key.indexOf('.');
        return dot < 0 ? "" : key.substring(0, dot);
    }
}
