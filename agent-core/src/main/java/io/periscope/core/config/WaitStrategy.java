package io.periscope.core.config;

/** How pipeline consumers wait for work (Disruptor wait strategies, cheapest CPU first). */
public enum WaitStrategy {
    BLOCKING,
    SLEEPING,
    YIELDING,
    BUSY_SPIN
}
