package io.periscope.core;

import io.periscope.core.config.ConfigWatcher;
import io.periscope.core.guard.ResourceGuard;
import io.periscope.core.metadata.ProcessMetadataCache;
import io.periscope.core.telemetry.Health;
import io.periscope.core.telemetry.MetricsRegistry;

/**
 * What {@link Main} sets up before the pipelines start and hands to {@link Agent}: the loaded config
 * (and its watcher for reloads), the self-metrics registry, the health the HTTP endpoint reports,
 * the process metadata cache and the resource guard. Main closes them after the agent returns.
 */
public record AgentServices(AgentConfig config, ConfigWatcher configWatcher, MetricsRegistry metrics,
                            Health health, ProcessMetadataCache metadata, ResourceGuard guard) {
}
