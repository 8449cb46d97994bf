package io.periscope.core;

/** A configuration the agent cannot run with; the message names the file, key and line. */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }
}
