package io.periscope.ebpf;

/**
 * One kernel or process facility and whether periscope can use it here.
 *
 * @param name what it is, e.g. "BTF" or "tracefs mounted"
 * @param available whether it can be used
 * @param detail where it was found when available, or why not (with the fix) when unavailable
 */
public record Facility(String name, boolean available, String detail) {
    static Facility available(String name, String detail) {
        return new Facility(name, true, detail);
    }

    static Facility unavailable(String name, String why) {
        return new Facility(name, false, why);
    }

    /** One report line: {@code name: available (detail)} or {@code name: unavailable: why}. */
    public String line() {
        return available
                ? name + ": available" + (detail.isEmpty() ? "" : " (" + detail + ")")
                : name + ": unavailable: " + detail;
    }
}
