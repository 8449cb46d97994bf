package io.periscope.core.config;

/**
 * How a URL path becomes a low-cardinality endpoint (span name): keep the first
 * {@code keep_segments} segments and replace numeric and UUID segments with {@code placeholder}.
 */
public record EndpointRuleConfig(@Range(min = 0, max = 64) int keepSegments, boolean replaceNumeric,
                                 boolean replaceUuid, String placeholder) {
    private static final int DEFAULT_KEEP_SEGMENTS = 2;

    /** Two segments, numbers and UUIDs become {@code *}. */
    public static EndpointRuleConfig defaults() {
        return new EndpointRuleConfig(DEFAULT_KEEP_SEGMENTS, true, true, "*");
    }
}
