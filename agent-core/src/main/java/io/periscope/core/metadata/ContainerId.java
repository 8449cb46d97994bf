package io.periscope.core.metadata;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The container a process runs in, read from its {@code /proc/<pid>/cgroup}: the 64-hex id and the
 * runtime the cgroup path names (docker, containerd, cri-o, podman; "unknown" for a bare id).
 */
public record ContainerId(String runtime, String id) {
    /**
     * A runtime prefix and the id inside one cgroup path segment. Covers the systemd driver
     * ({@code docker-<id>.scope}, {@code cri-containerd-<id>.scope}, {@code crio-<id>.scope},
     * {@code libpod-<id>.scope}) and the "slice:prefix:id" form kubelet uses with cgroupfs naming.
     */
    private static final Pattern PREFIXED = Pattern.compile(
            "(?:^|[-:])(docker|cri-containerd|crio|libpod)[-:]([0-9a-f]{64})(?:\\.scope)?$");
    /** cgroupfs driver: the id is a segment of its own ({@code /docker/<id>}, {@code /kubepods/.../<id>}). */
    private static final Pattern BARE = Pattern.compile("([0-9a-f]{64})(?:\\.scope)?");

    /** The container id in a cgroup file's text (v1 or v2), or null for a process on the host. */
    public static ContainerId fromCgroup(String cgroupText) {
        for (String line : cgroupText.split("\n")) {
            // hierarchy-ID:controller-list:cgroup-path; the path may itself contain ':'.
            int first = line.indexOf(':');
            int second = first < 0 ? -1 : line.indexOf(':', first + 1);
            if (second < 0) {
                continue;
            }
            ContainerId found = fromPath(line.substring(second + 1));
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    private static ContainerId fromPath(String path) {
        String[] segments = path.split("/");
        // The innermost segment that names a container wins (nested cgroups sit below it).
        for (int i = segments.length - 1; i >= 0; i--) {
            String segment = segments[i];
            Matcher prefixed = PREFIXED.matcher(segment);
            if (prefixed.find()) {
                return new ContainerId(runtimeOf(prefixed.group(1)), prefixed.group(2));
            }
            Matcher bare = BARE.matcher(segment);
            if (bare.matches()) {
                String parent = i > 0 ? segments[i - 1] : "";
                String runtime = parent.equals("docker") ? "docker"
                        : parent.equals("libpod_parent") || parent.startsWith("libpod") ? "podman"
                        : "unknown";
                return new ContainerId(runtime, bare.group(1));
            }
        }
        return null;
    }

    private static String runtimeOf(String prefix) {
        switch (prefix) {
            case "docker":
                return "docker";
            case "cri-containerd":
                return "containerd";
            case "crio":
                return "cri-o";
            default:
                return "podman";
        }
    }

    /** The 12-character form {@code docker ps} shows. */
    public String shortId() {
        return id.substring(0, 12);
    }
}
