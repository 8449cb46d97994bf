package io.periscope.sender;

/** What a full export queue gives up to stay bounded. */
public enum DropPolicy {
    /**
     * Evict the oldest queued item to make room: the freshest data survives an outage, but each
     * eviction copies into the least recently used (cold) slot.
     */
    DROP_OLDEST,
    /** Refuse the new item (the default): costs nothing; what was queued first is sent first. */
    DROP_NEWEST
}
