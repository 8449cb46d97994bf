package io.periscope.core.config;

import java.util.List;

/**
 * Which processes are traced, by {@code comm} (the kernel's 15-character task name): an empty allow
 * list allows every process; deny wins over allow.
 */
public record ProcessFilter(List<String> allow, List<String> deny) {
    /** The kernel keeps at most this many characters of a task name (TASK_COMM_LEN - 1). */
    public static final int MAX_COMM_CHARS = 15;

    public ProcessFilter {
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
        check("allow", allow);
        check("deny", deny);
    }

    private static void check(String key, List<String> names) {
        for (String name : names) {
            if (name.isEmpty() || name.length() > MAX_COMM_CHARS) {
                throw new ConfigValueException(key, "'" + name + "' cannot match: a process name (comm) is 1-"
                        + MAX_COMM_CHARS + " characters; use the first " + MAX_COMM_CHARS
                        + " characters of the executable name");
            }
        }
    }

    /** Every process. */
    public static ProcessFilter defaults() {
        return new ProcessFilter(List.of(), List.of());
    }

    /** Whether a process named {@code comm} passes this filter. */
    public boolean admits(String comm) {
        if (deny.contains(comm)) {
            return false;
        }
        return allow.isEmpty() || allow.contains(comm);
    }
}
