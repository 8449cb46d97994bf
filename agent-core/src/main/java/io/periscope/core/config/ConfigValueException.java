package io.periscope.core.config;

/**
 * Thrown by a config record's constructor when a value is out of place; {@link #key()} is the
 * record component's YAML key (relative to the record) so the loader can name the full path and line.
 */
public final class ConfigValueException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String key;

    public ConfigValueException(String key, String message) {
        super(message);
        this.key = key;
    }

    /** The offending key, relative to the record that threw. */
    public String key() {
        return key;
    }
}
