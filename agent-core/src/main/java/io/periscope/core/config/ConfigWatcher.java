package io.periscope.core.config;

import io.periscope.core.AgentConfig;
import io.periscope.core.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Hot reload: re-reads the config file when its directory changes (Kubernetes swaps ConfigMap
 * files by renaming a {@code ..data} symlink, so any change in the directory counts) and on
 * {@link #reload()} (SIGHUP). A file that does not validate is logged and the running config kept.
 * Keys in {@link #RESTART_ONLY_KEYS} keep their running value (and a warning says a restart is
 * needed); everything else reaches the {@link #onChange} listeners.
 */
public final class ConfigWatcher implements AutoCloseable {
    /** Key paths (or section prefixes) that need re-attaching probes or re-sizing memory. */
    public static final List<String> RESTART_ONLY_KEYS = List.of(
            "ebpf.enabled", "ebpf.payload_bytes", "ebpf.ring_buffer_bytes",
            "packet.enabled", "packet.interfaces", "packet.include_loopback", "packet.fanout_readers",
            "packet.block_bytes", "packet.block_count", "packet.l7_parsing",
            "flow_map.capacity", "flow_map.endpoint_metrics_interval", "pipeline", "metadata.cache_size",
            "metadata.proc_root", "metadata.kubernetes",
            "self_metrics");

    private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);
    /** Editors write a file in several steps; wait for the directory to go quiet before reading. */
    private static final long SETTLE_MILLIS = 200;

    private final List<String> overrides;
    private final List<Consumer<AgentConfig>> listeners = new CopyOnWriteArrayList<>();
    private final Object reloadLock = new Object();
    private volatile AgentConfig current;
    private WatchService watchService;
    private Thread thread;

    /** Watches {@code initial.source()} (nothing to watch when it is null), re-applying {@code overrides}. */
    public ConfigWatcher(AgentConfig initial, List<String> overrides) {
        this.current = Objects.requireNonNull(initial);
        this.overrides = List.copyOf(overrides);
    }

    /** The running configuration. */
    public AgentConfig current() {
        return current;
    }

    /** Calls {@code listener} with each new effective config, on the reloading thread. */
    public void onChange(Consumer<AgentConfig> listener) {
        listeners.add(listener);
    }

    /** Starts watching the file's directory on a daemon thread. */
    public void start() throws IOException {
        Path file = current.source();
        if (file == null) {
            return;
        }
        Path directory = file.toAbsolutePath().getParent();
        watchService = FileSystems.getDefault().newWatchService();
        directory.register(watchService, StandardWatchEventKinds.ENTRY_CREATE,
                StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
        thread = new Thread(this::watch, "periscope-config-watcher");
        thread.setDaemon(true);
        thread.start();
        LOG.info("watching {} for changes (SIGHUP also reloads)", file);
    }

    /**
     * True for an event about the config file itself, an overflow (events were lost), or a
     * Kubernetes ConfigMap update (the kubelet swaps the {@code ..data} symlink, never touching
     * the file's own name). Other files in the directory, e.g. a log or an export file written
     * next to the config, must not make the agent re-parse its config on every write.
     */
    static boolean concernsConfig(Object context, String configName) {
        if (!(context instanceof Path)) {
            return true;
        }
        String name = context.toString();
        return name.equals(configName) || name.startsWith("..");
    }

    private void watch() {
        String configName = current.source().getFileName().toString();
        try {
            while (true) {
                WatchKey key = watchService.take();
                boolean valid;
                boolean relevant = false;
                do {
                    for (WatchEvent<?> event : key.pollEvents()) {
                        relevant |= concernsConfig(event.context(), configName);
                    }
                    valid = key.reset();
                    key = watchService.poll(SETTLE_MILLIS, TimeUnit.MILLISECONDS);
                } while (key != null);
                if (relevant) {
                    reload();
                }
                if (!valid) {
                    LOG.warn("the config directory of {} is gone; no more reloads on change", current.source());
                    return;
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // close() ends the watch.
        }
    }

    /**
     * Re-reads the file now. Returns true when the effective config changed and listeners were told;
     * false when nothing changed or the new file is invalid (logged, running config kept).
     */
    public boolean reload() {
        synchronized (reloadLock) {
            AgentConfig running = current;
            if (running.source() == null) {
                return false;
            }
            AgentConfig next;
            try {
                next = ConfigLoader.load(running.source(), overrides);
            } catch (ConfigException e) {
                LOG.error("config reload rejected, keeping the running config: {}", e.getMessage());
                return false;
            }
            Map<String, Object> before = ConfigPrinter.flatten(running);
            Map<String, Object> after = ConfigPrinter.flatten(next);
            List<String> changed = new ArrayList<>();
            List<String> needRestart = new ArrayList<>();
            Map<String, Object> effective = new LinkedHashMap<>();
            for (Map.Entry<String, Object> entry : after.entrySet()) {
                String path = entry.getKey();
                Object old = before.get(path);
                if (Objects.equals(old, entry.getValue())) {
                    effective.put(path, old);
                } else if (restartOnly(path)) {
                    needRestart.add(path);
                    effective.put(path, old);
                } else {
                    changed.add(path);
                    effective.put(path, entry.getValue());
                }
            }
            if (!needRestart.isEmpty()) {
                LOG.warn("config reload: {} changed but need a restart; keeping the running values", needRestart);
            }
            if (changed.isEmpty()) {
                return false;
            }
            AgentConfig applied;
            try {
                applied = ConfigLoader.parse(toYaml(effective), running.source().toString(), List.of(),
                        running.source());
            } catch (ConfigException e) {
                // Mixing new reloadable keys with old restart-only ones can break a cross-key rule.
                LOG.error("config reload rejected, keeping the running config: {}", e.getMessage());
                return false;
            }
            current = applied;
            LOG.info("config reloaded from {}: changed {}", running.source(), changed);
            for (Consumer<AgentConfig> listener : listeners) {
                try {
                    listener.accept(applied);
                } catch (RuntimeException e) {
                    LOG.error("config listener {} failed on reload", listener, e);
                }
            }
            return true;
        }
    }

    static boolean restartOnly(String path) {
        for (String key : RESTART_ONLY_KEYS) {
            if (path.equals(key) || path.startsWith(key + ".")) {
                return true;
            }
        }
        return false;
    }

    @SuppressWarnings("unchecked")
    private static String toYaml(Map<String, Object> leaves) {
        Map<String, Object> tree = new LinkedHashMap<>();
        for (Map.Entry<String, Object> leaf : leaves.entrySet()) {
            String[] keys = leaf.getKey().split("\\.");
            Map<String, Object> node = tree;
            for (int i = 0; i < keys.length - 1; i++) {
                node = (Map<String, Object>) node.computeIfAbsent(keys[i], k -> new LinkedHashMap<String, Object>());
            }
            node.put(keys[keys.length - 1], leaf.getValue());
        }
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        return new Yaml(options).dump(tree);
    }

    @Override
    public void close() {
        if (watchService != null) {
            try {
                watchService.close();
            } catch (IOException e) {
                LOG.debug("closing the config watch service", e);
            }
        }
        if (thread != null) {
            thread.interrupt();
        }
    }
}
