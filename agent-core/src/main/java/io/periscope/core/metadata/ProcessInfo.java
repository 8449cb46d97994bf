package io.periscope.core.metadata;

import java.time.Instant;

/**
 * What periscope knows about one process: names, command line, start time, container and the
 * {@code service.name} its spans carry. {@code container} is null on the host; strings are empty
 * when the kernel would not tell (kernel threads, permission). {@code serviceNameExplicit}: the name was
 * chosen by a person (the config's {@code metadata.service_names} or the process's OTEL_SERVICE_NAME), so
 * it outranks what pod labels suggest.
 */
public record ProcessInfo(int pid, String comm, String executable, String commandLine, long startTimeTicks,
                          Instant startTime, ContainerId container, String serviceName,
                          boolean serviceNameExplicit) {
}
