package io.periscope.core.metadata;

import java.time.Instant;

/**
 * What periscope knows about one process: names, command line, start time, container and the
 * {@code service.name} its spans carry. {@code container} is null on the host; strings are empty
 * when the kernel would not tell (kernel threads, permission).
 */
public record ProcessInfo(int pid, String comm, String executable, String commandLine, long startTimeTicks,
                          Instant startTime, ContainerId container, String serviceName) {
}
