/**
 * OTLP export of periscope's telemetry: {@link io.periscope.sender.OtlpExporter} (built from a
 * {@link io.periscope.sender.SenderConfig}) takes request logs, flows and counters and ships
 * traces, metrics and logs over gRPC or into an OTLP JSON lines file.
 */
package io.periscope.sender;
