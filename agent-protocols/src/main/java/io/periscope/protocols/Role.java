package io.periscope.protocols;

/** Which end of the connection the observation point is on. */
public enum Role {
    UNKNOWN,
    /** The observed process opened the connection (connect). */
    CLIENT,
    /** The observed process accepted the connection (accept). */
    SERVER
}
