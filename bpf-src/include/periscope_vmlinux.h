/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Minimal kernel type definitions for periscope's CO-RE programs.
 *
 * Why not a full vmlinux.h: it is ~3 MB of one kernel's types, reviewable by nobody, and ties
 * the build's look to whichever host generated it. CO-RE only needs the fields we read, declared
 * with preserve_access_index so libbpf relocates every offset against the running kernel's BTF
 * at load time. The build therefore depends on no kernel headers and no host BTF.
 *
 * Add a field here only when a program reads it; keep the kernel's names exactly (relocation is
 * by name), and never rely on the order or size of these structs.
 */
#ifndef PERISCOPE_VMLINUX_H
#define PERISCOPE_VMLINUX_H

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true 1
#define false 0

/* UAPI constants (stable ABI, from include/uapi/linux/bpf.h). */
enum bpf_map_type {
    BPF_MAP_TYPE_UNSPEC = 0,
    BPF_MAP_TYPE_HASH = 1,
    BPF_MAP_TYPE_ARRAY = 2,
    BPF_MAP_TYPE_PERCPU_HASH = 5,
    BPF_MAP_TYPE_PERCPU_ARRAY = 6,
    BPF_MAP_TYPE_LRU_HASH = 9,
    BPF_MAP_TYPE_RINGBUF = 27,
};

enum {
    BPF_ANY = 0,
    BPF_NOEXIST = 1,
    BPF_EXIST = 2,
};

enum {
    BPF_RB_NO_WAKEUP = 1,
    BPF_RB_FORCE_WAKEUP = 2,
};

/* Tracepoint contexts of the syscalls/ and raw syscall events. */
struct trace_entry {
    unsigned short type;
    unsigned char flags;
    unsigned char preempt_count;
    int pid;
} __attribute__((preserve_access_index));

struct trace_event_raw_sys_enter {
    struct trace_entry ent;
    long id;
    unsigned long args[6];
} __attribute__((preserve_access_index));

struct trace_event_raw_sys_exit {
    struct trace_entry ent;
    long id;
    long ret;
} __attribute__((preserve_access_index));

#endif /* PERISCOPE_VMLINUX_H */
