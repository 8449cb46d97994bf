package io.periscope.sender;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Sends one encoded request until it is delivered, refused for good, out of retry time, or the
 * exporter is aborted, and accounts for every item it carried. Retryable failures back off
 * exponentially with jitter (or as long as the receiver's RetryInfo asks).
 */
final class Delivery {
    private static final Logger LOG = LoggerFactory.getLogger(Delivery.class);

    private final ExportTransport transport;
    private final Map<Signal, SignalCounters> counters;
    private final long initialBackoffNanos;
    private final long maxBackoffNanos;
    private final double multiplier;
    private final double jitter;
    private final long maxRetryElapsedNanos;
    private volatile boolean aborted;
    /**
     * Per signal: whether the last attempt failed, so that an outage is logged once, not per
     * retry. Several trace workers may race on it; the worst outcome is one log line too many.
     */
    private final boolean[] failing = new boolean[Signal.values().length];

    Delivery(ExportTransport transport, SenderConfig config, Map<Signal, SignalCounters> counters) {
        this.transport = transport;
        this.counters = counters;
        this.initialBackoffNanos = config.initialBackoff().toNanos();
        this.maxBackoffNanos = config.maxBackoff().toNanos();
        this.multiplier = config.backoffMultiplier();
        this.jitter = config.backoffJitter();
        this.maxRetryElapsedNanos = config.maxRetryElapsed().toNanos();
    }

    /** Makes every send in progress or to come give up at once (shutdown deadline passed). */
    void abort() {
        aborted = true;
    }

    boolean aborted() {
        return aborted;
    }

    /**
     * Delivers {@code items} items encoded in {@code request[0, length)}; blocks the calling
     * worker (never a producer) until the outcome is final.
     */
    void send(Signal signal, byte[] request, int length, int items, SplittableRandom random) {
        SignalCounters c = counters.get(signal);
        long startNanos = System.nanoTime();
        double backoffNanos = initialBackoffNanos;
        while (true) {
            if (aborted) {
                settleFailed(c, items);
                return;
            }
            ExportTransport.ExportOutcome outcome = transport.export(signal, request, length);
            switch (outcome.kind()) {
                case OK: {
                    long rejected = Math.min(Math.max(outcome.rejected(), 0), items);
                    c.rejected.add(rejected);
                    c.exported.add(items - rejected);
                    c.requests.increment();
                    c.pending.add(-items);
                    if (rejected > 0) {
                        LOG.warn("collector rejected {} of {} {}: {}", rejected, items, signal.unit(),
                                outcome.message());
                    }
                    recovered(signal);
                    return;
                }
                case FATAL:
                    LOG.warn("export of {} {} failed and will not be retried: {}", items, signal.unit(),
                            outcome.message());
                    settleFailed(c, items);
                    return;
                default:
                    break;
            }
            long elapsedNanos = System.nanoTime() - startNanos;
            if (aborted || elapsedNanos > maxRetryElapsedNanos) {
                LOG.warn("giving up on {} {} after {} ms of retries: {}", items, signal.unit(),
                        TimeUnit.NANOSECONDS.toMillis(elapsedNanos), outcome.message());
                settleFailed(c, items);
                return;
            }
            if (!failing[signal.ordinal()]) {
                failing[signal.ordinal()] = true;
                LOG.warn("export of {} failing, retrying with backoff: {}", signal.label(), outcome.message());
            }
            c.retried.increment();
            double spread = 1 + jitter * (2 * random.nextDouble() - 1);
            long sleepNanos = Math.max((long) (backoffNanos * spread), outcome.retryAfterNanos());
            backoffNanos = Math.min(backoffNanos * multiplier, maxBackoffNanos);
            try {
                TimeUnit.NANOSECONDS.sleep(sleepNanos);
            } catch (InterruptedException e) {
                // Interrupts come from shutdown; the abort flag decides at the top of the loop.
                Thread.currentThread().interrupt();
                settleFailed(c, items);
                return;
            }
        }
    }

    private void recovered(Signal signal) {
        if (failing[signal.ordinal()]) {
            failing[signal.ordinal()] = false;
            LOG.info("export of {} recovered", signal.label());
        }
    }

    private static void settleFailed(SignalCounters c, int items) {
        c.failed.add(items);
        c.pending.add(-items);
    }
}
