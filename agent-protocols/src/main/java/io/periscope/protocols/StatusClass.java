package io.periscope.protocols;

/** The outcome of a request, independent of its protocol's own status codes. */
public enum StatusClass {
    /** Answered successfully. */
    OK,
    /** Answered with an error attributable to the client (HTTP 4xx, unknown command, ...). */
    CLIENT_ERROR,
    /** Answered with an error attributable to the server (HTTP 5xx, SQL error, ...). */
    SERVER_ERROR,
    /** Not answered within the protocol's timeout. */
    TIMEOUT,
    /** Answered, but the answer could not be classified (truncated or not parsed). */
    UNKNOWN
}
