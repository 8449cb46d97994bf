package io.periscope.flowmap;

import java.util.concurrent.TimeUnit;

/**
 * Immutable configuration of a {@link FlowTable}; build with {@link #builder()}. Defaults follow
 * DeepFlow's: established 300 s, opening/closing 5 s, closed by FIN 2 s, reset 35 s.
 */
public final class FlowTableConfig {
    /** What to do with a new flow when the table holds {@code maxFlows}. */
    public enum FullPolicy {
        /** Do not track the new flow; count it (and its packets) as dropped. */
        DROP_NEW,
        /** Evict the flow whose timeout comes soonest (roughly the least recently active), exporting it. */
        EVICT
    }

    private final int maxFlows;
    private final double loadFactor;
    private final FullPolicy fullPolicy;
    private final long establishedTimeoutNanos;
    private final long openingTimeoutNanos;
    private final long closingTimeoutNanos;
    private final long closedTimeoutNanos;
    private final long resetTimeoutNanos;
    private final long otherTimeoutNanos;
    private final long reportIntervalNanos;
    private final long timerTickNanos;
    private final int timerWheelSlots;
    private final int maxEndpoints;
    private final long metricsIntervalNanos;
    private final boolean reportIdleIntervals;

    private FlowTableConfig(Builder b) {
        this.maxFlows = b.maxFlows;
        this.loadFactor = b.loadFactor;
        this.fullPolicy = b.fullPolicy;
        this.establishedTimeoutNanos = b.establishedTimeoutNanos;
        this.openingTimeoutNanos = b.openingTimeoutNanos;
        this.closingTimeoutNanos = b.closingTimeoutNanos;
        this.closedTimeoutNanos = b.closedTimeoutNanos;
        this.resetTimeoutNanos = b.resetTimeoutNanos;
        this.otherTimeoutNanos = b.otherTimeoutNanos;
        this.reportIntervalNanos = b.reportIntervalNanos;
        this.timerTickNanos = b.timerTickNanos;
        this.timerWheelSlots = b.timerWheelSlots;
        this.maxEndpoints = b.maxEndpoints;
        this.metricsIntervalNanos = b.metricsIntervalNanos;
        this.reportIdleIntervals = b.reportIdleIntervals;
    }

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Flows the table holds at most (its memory is fixed from this at construction). */
    public int maxFlows() {
        return maxFlows;
    }

    /** Fraction of slots in use at {@code maxFlows} (open addressing needs free slots). */
    public double loadFactor() {
        return loadFactor;
    }

    /** Policy for new flows when full. */
    public FullPolicy fullPolicy() {
        return fullPolicy;
    }

    /** Idle timeout of an established TCP flow. */
    public long establishedTimeoutNanos() {
        return establishedTimeoutNanos;
    }

    /** Idle timeout while the handshake is in progress. */
    public long openingTimeoutNanos() {
        return openingTimeoutNanos;
    }

    /** Idle timeout after one FIN. */
    public long closingTimeoutNanos() {
        return closingTimeoutNanos;
    }

    /** Time kept after both FINs (to see the last ACK) before export. */
    public long closedTimeoutNanos() {
        return closedTimeoutNanos;
    }

    /** Time kept after a RST before export. */
    public long resetTimeoutNanos() {
        return resetTimeoutNanos;
    }

    /** Idle timeout of UDP, ICMP and other non-TCP flows. */
    public long otherTimeoutNanos() {
        return otherTimeoutNanos;
    }

    /** Interval of the periodic (delta) records of live flows. */
    public long reportIntervalNanos() {
        return reportIntervalNanos;
    }

    /**
     * Whether a live flow with no packet in a report interval still gets a (all-zero) periodic
     * record. Off by default: many idle long-lived connections would otherwise cost a record each
     * per interval for no information; their final record still comes.
     */
    public boolean reportIdleIntervals() {
        return reportIdleIntervals;
    }

    /** Resolution of the timer wheel. */
    public long timerTickNanos() {
        return timerTickNanos;
    }

    /** Slots of the timer wheel (a power of two). */
    public int timerWheelSlots() {
        return timerWheelSlots;
    }

    /** Local endpoints tracked per metrics interval at most (more are counted as dropped). */
    public int maxEndpoints() {
        return maxEndpoints;
    }

    /** Interval of the aggregate endpoint metrics. */
    public long metricsIntervalNanos() {
        return metricsIntervalNanos;
    }

    /** Builder of {@link FlowTableConfig}. */
    public static final class Builder {
        private int maxFlows = 65_536;
        private double loadFactor = 0.75;
        private FullPolicy fullPolicy = FullPolicy.DROP_NEW;
        private boolean reportIdleIntervals;
        private long establishedTimeoutNanos = TimeUnit.SECONDS.toNanos(300);
        private long openingTimeoutNanos = TimeUnit.SECONDS.toNanos(5);
        private long closingTimeoutNanos = TimeUnit.SECONDS.toNanos(5);
        private long closedTimeoutNanos = TimeUnit.SECONDS.toNanos(2);
        private long resetTimeoutNanos = TimeUnit.SECONDS.toNanos(35);
        private long otherTimeoutNanos = TimeUnit.SECONDS.toNanos(30);
        private long reportIntervalNanos = TimeUnit.SECONDS.toNanos(60);
        private long timerTickNanos = TimeUnit.MILLISECONDS.toNanos(100);
        private int timerWheelSlots = 4096;
        private int maxEndpoints = 4096;
        private long metricsIntervalNanos = TimeUnit.SECONDS.toNanos(1);

        private Builder() {
        }

        /** Maximum number of flows. */
        public Builder maxFlows(int value) {
            this.maxFlows = value;
            return this;
        }

        /** Load factor at {@code maxFlows}, in (0.1, 0.95]. */
        public Builder loadFactor(double value) {
            this.loadFactor = value;
            return this;
        }

        /** Policy when full. */
        public Builder fullPolicy(FullPolicy value) {
            this.fullPolicy = value;
            return this;
        }

        /** Established idle timeout. */
        public Builder establishedTimeout(long value, TimeUnit unit) {
            this.establishedTimeoutNanos = unit.toNanos(value);
            return this;
        }

        /** Opening (handshake) timeout. */
        public Builder openingTimeout(long value, TimeUnit unit) {
            this.openingTimeoutNanos = unit.toNanos(value);
            return this;
        }

        /** Closing (one FIN) timeout. */
        public Builder closingTimeout(long value, TimeUnit unit) {
            this.closingTimeoutNanos = unit.toNanos(value);
            return this;
        }

        /** Closed (both FIN) linger time. */
        public Builder closedTimeout(long value, TimeUnit unit) {
            this.closedTimeoutNanos = unit.toNanos(value);
            return this;
        }

        /** Reset linger time. */
        public Builder resetTimeout(long value, TimeUnit unit) {
            this.resetTimeoutNanos = unit.toNanos(value);
            return this;
        }

        /** Non-TCP idle timeout. */
        public Builder otherTimeout(long value, TimeUnit unit) {
            this.otherTimeoutNanos = unit.toNanos(value);
            return this;
        }

        /** Periodic records also for intervals without packets (default false). */
        public Builder reportIdleIntervals(boolean value) {
            this.reportIdleIntervals = value;
            return this;
        }

        /** Periodic record interval of live flows. */
        public Builder reportInterval(long value, TimeUnit unit) {
            this.reportIntervalNanos = unit.toNanos(value);
            return this;
        }

        /** Timer wheel resolution. */
        public Builder timerTick(long value, TimeUnit unit) {
            this.timerTickNanos = unit.toNanos(value);
            return this;
        }

        /** Timer wheel size (rounded up to a power of two). */
        public Builder timerWheelSlots(int value) {
            this.timerWheelSlots = value;
            return this;
        }

        /** Maximum local endpoints per metrics interval. */
        public Builder maxEndpoints(int value) {
            this.maxEndpoints = value;
            return this;
        }

        /** Endpoint metrics interval. */
        public Builder metricsInterval(long value, TimeUnit unit) {
            this.metricsIntervalNanos = unit.toNanos(value);
            return this;
        }

        /** Validates and builds; throws {@link IllegalArgumentException} naming the bad setting. */
        public FlowTableConfig build() {
            require(maxFlows >= 1 && maxFlows <= (1 << 28), "maxFlows must be in [1, 2^28], got " + maxFlows);
            require(loadFactor > 0.1 && loadFactor <= 0.95, "loadFactor must be in (0.1, 0.95], got " + loadFactor);
            require(fullPolicy != null, "fullPolicy must be set");
            require(timerTickNanos > 0, "timerTick must be > 0");
            require(timerWheelSlots >= 2 && timerWheelSlots <= (1 << 24), "timerWheelSlots must be in [2, 2^24]");
            require(maxEndpoints >= 1 && maxEndpoints <= (1 << 24), "maxEndpoints must be in [1, 2^24]");
            require(metricsIntervalNanos > 0 && reportIntervalNanos > 0, "metrics/report intervals must be > 0");
            require(establishedTimeoutNanos > 0 && openingTimeoutNanos > 0 && closingTimeoutNanos > 0
                    && closedTimeoutNanos > 0 && resetTimeoutNanos > 0 && otherTimeoutNanos > 0,
                    "timeouts must be > 0");
            int slots = Integer.highestOneBit(timerWheelSlots - 1) << 1;
            timerWheelSlots = Math.max(2, slots);
            return new FlowTableConfig(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException("flow table config: " + message);
            }
        }
    }
}
