package io.periscope.core;

import io.periscope.ebpf.KernelFeatures;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CountDownLatch;

/**
 * The running agent: starts the sources and pipelines the configuration asks for, then waits
 * for a stop request and takes everything down in reverse order.
 */
final class Agent {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

    private final AgentConfig config;
    /** Config watcher, self-metrics, health, metadata cache and resource guard, set up by Main. */
    private final AgentServices services;
    private final CountDownLatch stopRequested = new CountDownLatch(1);

    Agent(AgentServices services) {
        this.config = services.config();
        this.services = services;
    }

    /** Asks {@link #runUntilStopped()} to return; safe from any thread, idempotent. */
    void requestStop() {
        stopRequested.countDown();
    }

    /** Runs until {@link #requestStop()}; returns the process exit code. */
    int runUntilStopped() {
        LOG.info("periscope {} starting (config: {})", Version.current(),
                config.source() == null ? "built-in defaults" : config.source());
        KernelFeatures features = KernelFeatures.probe();
        LOG.info("kernel: {}", features.summary());
        LOG.warn("not built yet: eBPF socket tracer, AF_PACKET capture, protocol parsing, "
                + "OTLP export; the agent idles until stopped");
        LOG.info("running; stop with Ctrl-C or SIGTERM");
        try {
            stopRequested.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("stopping");
        LOG.info("stopped");
        return Main.EXIT_OK;
    }
}
