package io.periscope.core.config;

import java.time.Duration;
import java.util.List;

/**
 * One application protocol: whether it is parsed, whether only the shallow fields (method, status,
 * latency) are extracted, the ports that hint at it before inference, and how long a request waits
 * for its response.
 */
public record ProtocolConfig(boolean enabled, boolean shallow, List<PortRange> ports, Duration timeout) {
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    public ProtocolConfig {
        ports = List.copyOf(ports);
        if (timeout.isZero() || timeout.isNegative()) {
            throw new ConfigValueException("timeout", "must be positive, e.g. 30s");
        }
    }

    /** Enabled, full parsing, the given port hints, 30 s response timeout. */
    public static ProtocolConfig withPorts(int... ports) {
        PortRange[] ranges = new PortRange[ports.length];
        for (int i = 0; i < ports.length; i++) {
            ranges[i] = PortRange.of(ports[i]);
        }
        return new ProtocolConfig(true, false, List.of(ranges), DEFAULT_TIMEOUT);
    }
}
