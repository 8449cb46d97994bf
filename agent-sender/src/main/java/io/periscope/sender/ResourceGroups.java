package io.periscope.sender;

import java.util.Arrays;
import java.util.IdentityHashMap;

/**
 * Groups a batch's records by their process resource, so that an OTLP request carries each
 * resource once (ResourceSpans / ResourceLogs) with its records under it, in their batch order.
 * Reused from batch to batch: it allocates only when a batch is larger, or has more resources,
 * than any before.
 */
final class ResourceGroups {
    private final IdentityHashMap<ProcessResource, Integer> groupOf = new IdentityHashMap<>();
    private ProcessResource[] groups = new ProcessResource[16];
    private int[] groupIndex = new int[512];

    /** Numbers the distinct resources of {@code resources[0, count)} in order of first use; returns how many. */
    int assign(ProcessResource[] resources, int count) {
        if (groupIndex.length < count) {
            groupIndex = new int[count];
        }
        groupOf.clear();
        int groupCount = 0;
        ProcessResource last = null;
        int lastGroup = -1;
        for (int i = 0; i < count; i++) {
            ProcessResource r = resources[i];
            if (r != last) {
                Integer g = groupOf.get(r);
                if (g == null) {
                    if (groupCount == groups.length) {
                        groups = Arrays.copyOf(groups, groupCount * 2);
                    }
                    groups[groupCount] = r;
                    g = groupCount++;
                    groupOf.put(r, g);
                }
                last = r;
                lastGroup = g;
            }
            groupIndex[i] = lastGroup;
        }
        return groupCount;
    }

    /** The resource of group {@code g} (after {@link #assign}). */
    ProcessResource resource(int g) {
        return groups[g];
    }

    /** The group of record {@code i} of the last assigned batch. */
    int groupOf(int i) {
        return groupIndex[i];
    }
}
