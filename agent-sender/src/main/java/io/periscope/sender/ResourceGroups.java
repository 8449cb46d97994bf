package io.periscope.sender;

import io.periscope.sender.internal.ProtoWriter;

import java.util.Arrays;
import java.util.IdentityHashMap;

/**
 * Groups a batch's records by their process resource, so that an OTLP request carries each
 * resource once (ResourceSpans / ResourceLogs) with its records under it, in their batch order,
 * and writes the batch as requests of at most a given size. Reused from batch to batch: it
 * allocates only when a batch is larger, or has more resources, than any before.
 */
final class ResourceGroups {
    /** Room left in a request for the resource and scope headers before a split. */
    static final int HEADER_ALLOWANCE_BYTES = 1024;

    /** Writes record {@code i} of the batch being encoded as one field of the open scope. */
    @FunctionalInterface
    interface RecordWriter {
        void write(int i);
    }

    /**
     * Opens a resource's group and its one scope message in the request; returns both marks, the
     * group's in the high 32 bits and the scope's in the low ones.
     */
    @FunctionalInterface
    interface GroupOpener {
        long open(ProcessResource resource);
    }


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

    /**
     * Writes {@code resources[0, count)}'s records into {@code out} grouped by resource, handing
     * each request to {@code sink} when the next record would take it past {@code maxMessageBytes}
     * (a record alone in a request is sent whatever its size); returns how many requests.
     */
    int encode(ProtoWriter out, ProcessResource[] resources, int count, int maxMessageBytes, GroupOpener opener,
            RecordWriter records, SpanEncoder.RequestSink sink) {
        if (count == 0) {
            return 0;
        }
        int groupCount = assign(resources, count);
        int requests = 0;
        int inRequest = 0;
        out.reset();
        for (int g = 0; g < groupCount; g++) {
            ProcessResource resource = groups[g];
            long marks = opener.open(resource);
            int inGroup = 0;
            for (int i = 0; i < count; i++) {
                if (groupIndex[i] != g) {
                    continue;
                }
                int before = out.position();
                records.write(i);
                if (out.position() + HEADER_ALLOWANCE_BYTES > maxMessageBytes && inRequest > 0) {
                    // This record does not fit: send what came before it, then start again with it.
                    out.truncate(before);
                    if (inGroup > 0) {
                        close(out, marks);
                    } else {
                        out.truncate((int) (marks >>> 32) - 1);
                    }
                    sink.accept(out.array(), out.position(), inRequest);
                    requests++;
                    inRequest = 0;
                    inGroup = 0;
                    out.reset();
                    marks = opener.open(resource);
                    records.write(i);
                }
                inGroup++;
                inRequest++;
            }
            close(out, marks);
        }
        if (inRequest > 0) {
            sink.accept(out.array(), out.position(), inRequest);
            requests++;
        }
        return requests;
    }

    /** Both marks of {@link GroupOpener#open} as one value. */
    static long marks(int group, int scope) {
        return ((long) group << 32) | (scope & 0xFFFF_FFFFL);
    }

    private static void close(ProtoWriter out, long marks) {
        out.endMessage((int) marks);
        out.endMessage((int) (marks >>> 32));
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
