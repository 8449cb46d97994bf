// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Bad input for BpfObjectLoadFailureTest: a hash map lookup used without the NULL check the verifier demands. */
#include "periscope_vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} values SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int fine_program(void *ctx)
{
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int unchecked_lookup(void *ctx)
{
    __u32 key = 0;
    __u64 *value = bpf_map_lookup_elem(&values, &key);
    return (int)*value;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
