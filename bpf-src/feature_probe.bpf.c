// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The smallest end-to-end proof that this kernel runs our programs: a syscall tracepoint that
 * publishes the calling tgid through a BPF ring buffer. KernelFeatures loads it to report
 * "tracepoints + ring buffer: available" from a real attach, not from guessing.
 */
#include "periscope_vmlinux.h"
#include <bpf/bpf_helpers.h>

struct probe_event {
    __u32 tgid;
    __u32 magic;
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} probe_events SEC(".maps");

/* Set by the loader before load: only this process's calls are reported. */
const volatile __u32 target_tgid = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int probe_getppid(struct trace_event_raw_sys_enter *ctx)
{
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    if (target_tgid != 0 && tgid != target_tgid)
        return 0;
    struct probe_event *e = bpf_ringbuf_reserve(&probe_events, sizeof(*e), 0);
    if (!e)
        return 0;
    e->tgid = tgid;
    e->magic = 0x70657269; /* "peri" */
    bpf_ringbuf_submit(e, 0);
    return 0;
}

/*
 * Optional facilities, one trivial program each. The "?" prefix keeps them out of load() unless
 * KernelFeatures turns one on, so a kernel lacking (say) kprobes still loads the rest.
 */
SEC("?kprobe/__x64_sys_getppid")
int probe_kprobe(void *ctx)
{
    return 0;
}

/* bpf_fentry_test1 exists for exactly this purpose (net/bpf/test_run.c) and is in BTF. */
SEC("?fentry/bpf_fentry_test1")
int probe_fentry(void *ctx)
{
    return 0;
}

static __always_inline int publish(__u32 magic)
{
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    if (target_tgid != 0 && tgid != target_tgid)
        return 0;
    struct probe_event *e = bpf_ringbuf_reserve(&probe_events, sizeof(*e), 0);
    if (!e)
        return 0;
    e->tgid = tgid;
    e->magic = magic;
    bpf_ringbuf_submit(e, 0);
    return 0;
}

SEC("?uprobe")
int probe_uprobe(void *ctx)
{
    return publish(0x75707262); /* "uprb" */
}

/* Raw syscall entry: args[1] is the syscall number; 110 is getppid on x86_64. */
SEC("?raw_tp/sys_enter")
int probe_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
    if (ctx->args[1] != 110)
        return 0;
    return publish(0x72617774); /* "rawt" */
}

/* Not used by any program: lets tests exercise map update/delete/iterate on a hash map. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} probe_hash SEC(".maps");

SEC("?tc")
int probe_tc(void *skb)
{
    return 0; /* TC_ACT_OK */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
