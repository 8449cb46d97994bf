package io.periscope.core.config;

import io.periscope.core.AgentConfig;
import io.periscope.core.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Hot reload: re-reads the config file when it changes (its inode, modification time or size,
 * following symlinks, so a Kubernetes ConfigMap update, which swaps a {@code ..data} symlink, counts),
 * looked at once a second, and on {@link #reload()} (SIGHUP). A file that does not validate is
 * logged and the running config kept.
 * Keys in {@link #RESTART_ONLY_KEYS} keep their running value (and a warning says a restart is
 * needed); everything else reaches the {@link #onChange} listeners.
 */
public final class ConfigWatcher implements AutoCloseable {
    /** Key paths (or section prefixes) that need re-attaching probes or re-sizing memory. */
    public static final List<String> RESTART_ONLY_KEYS = List.of(
            "ebpf.enabled", "ebpf.payload_bytes", "ebpf.ring_buffer_bytes",
            "packet.enabled", "packet.interfaces", "packet.include_loopback", "packet.fanout_readers",
            "packet.block_bytes", "packet.block_count", "packet.initial_block_count", "packet.l7_parsing",
            "flow_map.capacity", "flow_map.endpoint_metrics_interval", "pipeline", "metadata.cache_size",
            "metadata.proc_root", "metadata.kubernetes",
            "self_metrics");

    private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);
    /**
     * How often the file is looked at. The JDK's WatchService watches the whole directory, so it
     * woke on every write of any file there (a log beside the config woke the agent ~6,500 times a
     * second in bench B); one stat a second costs nothing and a config change can wait a second.
     */
    static final long POLL_MILLIS = 1000;
    /** Editors write a file in several steps; wait for it to stay the same this long before reading. */
    private static final long SETTLE_MILLIS = 200;

    private final List<String> overrides;
    private final List<Consumer<AgentConfig>> listeners = new CopyOnWriteArrayList<>();
    private final Object reloadLock = new Object();
    private volatile AgentConfig current;
    private final long pollMillis;
    private final AtomicLong checks = new AtomicLong();
    private volatile boolean closed;
    private Thread thread;

    /** Watches {@code initial.source()} (nothing to watch when it is null), re-applying {@code overrides}. */
    public ConfigWatcher(AgentConfig initial, List<String> overrides) {
        this(initial, overrides, POLL_MILLIS);
    }

    ConfigWatcher(AgentConfig initial, List<String> overrides, long pollMillis) {
        this.current = Objects.requireNonNull(initial);
        this.overrides = List.copyOf(overrides);
        this.pollMillis = pollMillis;
    }

    /** The running configuration. */
    public AgentConfig current() {
        return current;
    }

    /** Calls {@code listener} with each new effective config, on the reloading thread. */
    public void onChange(Consumer<AgentConfig> listener) {
        listeners.add(listener);
    }

    /** Starts checking the file on a daemon thread. */
    public void start() {
        Path file = current.source();
        if (file == null) {
            return;
        }
        // Taken here, not on the thread: a change made right after start() must count as one.
        Stamp loaded = stamp(file);
        thread = new Thread(() -> watch(file, loaded), "periscope-config-watcher");
        thread.setDaemon(true);
        thread.start();
        LOG.info("checking {} for changes every {} ms (SIGHUP reloads at once)", file, pollMillis);
    }

    /** How many times the watch thread has looked at the file: at most one per poll interval. */
    long checks() {
        return checks.get();
    }

    /**
     * What identifies one version of the file: its inode (a Kubernetes ConfigMap update or an
     * editor's rename gives a new one; symlinks are followed), modification time and size. Null
     * when the file cannot be read (then the next version that can is a change).
     */
    static Stamp stamp(Path file) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            return new Stamp(attributes.fileKey(), attributes.lastModifiedTime(), attributes.size());
        } catch (IOException e) {
            return null;
        }
    }

    /** One version of the config file, as {@link #stamp} sees it. */
    record Stamp(Object fileKey, FileTime modified, long size) {
    }

    private void watch(Path file, Stamp loaded) {
        Stamp seen = loaded;
        try {
            while (!closed) {
                Thread.sleep(pollMillis);
                checks.incrementAndGet();
                Stamp now = stamp(file);
                if (Objects.equals(now, seen)) {
                    continue;
                }
                // Editors write a file in several steps: wait until two looks agree.
                Stamp settled;
                do {
                    settled = now;
                    Thread.sleep(SETTLE_MILLIS);
                    now = stamp(file);
                } while (!Objects.equals(now, settled));
                seen = settled;
                reload();
            }
        } catch (InterruptedException e) {
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
        closed = true;
        if (thread != null) {
            thread.interrupt();
        }
    }
}
