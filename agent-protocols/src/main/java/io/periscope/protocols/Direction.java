package io.periscope.protocols;

/** Whether captured bytes entered or left the observed endpoint. */
public enum Direction {
    INGRESS,
    EGRESS
}
