package io.periscope.core.config;

import java.util.List;
import java.util.Locale;

/** What is hidden before export: SQL literals, Redis arguments, values of the named HTTP headers. */
public record ObfuscationConfig(boolean sql, boolean redis, List<String> httpHeaders) {
    public ObfuscationConfig {
        // HTTP header names are case-insensitive; keep them in one case so lookups are simple.
        httpHeaders = httpHeaders.stream().map(name -> name.toLowerCase(Locale.ROOT)).toList();
    }

    /** Everything obfuscated; credentials headers redacted. */
    public static ObfuscationConfig defaults() {
        return new ObfuscationConfig(true, true,
                List.of("authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"));
    }
}
