package org.chefbackend.repository;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * Reading pgBackRest's JSON field by field, so that an output of another shape fails naming the field (one line
 * for an operator), not as a Jackson stack trace or a silent default.
 */
final class JsonFields {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final String source;

    /** @param source what the JSON is, for messages ("pgbackrest info") */
    JsonFields(String source) {
        this.source = source;
    }

    JsonNode tree(String json) {
        try {
            JsonNode root = JSON.readTree(json == null ? "" : json);
            if (root == null || root.isMissingNode()) {
                throw fail("empty output");
            }
            return root;
        } catch (JsonProcessingException e) {
            throw fail("not JSON: " + e.getOriginalMessage());
        }
    }

    IllegalArgumentException fail(String why) {
        return new IllegalArgumentException(source + " output: " + why);
    }

    JsonNode object(JsonNode parent, String field, String where) {
        JsonNode n = parent.get(field);
        if (n == null || !n.isObject()) {
            throw fail(where + "." + field + (absent(n) ? " is missing" : " is not an object"));
        }
        return n;
    }

    JsonNode array(JsonNode parent, String field, String where) {
        JsonNode n = parent.get(field);
        if (n == null || !n.isArray()) {
            throw fail(where + "." + field + (absent(n) ? " is missing" : " is not an array"));
        }
        return n;
    }

    String text(JsonNode parent, String field, String where) {
        String s = textOrNull(parent, field, where);
        if (s == null) {
            throw fail(where + "." + field + " is missing");
        }
        return s;
    }

    private static boolean absent(JsonNode n) {
        return n == null || n.isNull();
    }

    /** The text, or null when the field is absent or null. */
    String textOrNull(JsonNode parent, String field, String where) {
        JsonNode n = parent.get(field);
        if (absent(n)) {
            return null;
        }
        if (!n.isTextual()) {
            throw fail(where + "." + field + " is not text: " + n);
        }
        return n.asText();
    }

    long number(JsonNode parent, String field, String where) {
        JsonNode n = parent.get(field);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
            throw fail(where + "." + field + (absent(n) ? " is missing" : " is not a whole number: " + n));
        }
        return n.asLong();
    }

    boolean flag(JsonNode parent, String field, String where) {
        JsonNode n = parent.get(field);
        if (n == null || !n.isBoolean()) {
            throw fail(where + "." + field + (absent(n) ? " is missing" : " is not true or false: " + n));
        }
        return n.asBoolean();
    }
}
