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
    BPF_MAP_TYPE_TASK_STORAGE = 29,
};

enum {
    BPF_F_NO_PREALLOC = 1,
};

enum {
    BPF_LOCAL_STORAGE_GET_F_CREATE = 1,
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

enum {
    BPF_RB_AVAIL_DATA = 0,
};

/* Context of raw tracepoint programs (include/uapi/linux/bpf.h). */
struct bpf_raw_tracepoint_args {
    __u64 args[0];
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

/*
 * Task -> fd table -> file -> socket -> sock, for the socket tracer. Only the fields read.
 * sock_common's address/port fields live in anonymous unions in the kernel; libbpf's CO-RE
 * matcher looks through anonymous members by name, so they are declared flat here.
 */
struct fdtable {
    unsigned int max_fds;
    struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
    struct fdtable *fdt;
} __attribute__((preserve_access_index));

struct task_struct {
    struct files_struct *files;
    char comm[16];
    int pid;
    int tgid;
} __attribute__((preserve_access_index));

/*
 * A kernel struct that is exactly one pointer at offset 0: bpf_rdonly_cast of the address of a
 * pointer-array slot (fdtable->fd[fd]) to it reads the slot with one direct load, where BTF
 * gives no typed access to the array element itself.
 */
struct llist_node {
    struct llist_node *next;
} __attribute__((preserve_access_index));

struct inode {
    unsigned short i_mode;
    unsigned long i_ino;
} __attribute__((preserve_access_index));

struct file_operations;

typedef struct {
    __s64 counter;
} atomic_long_t;

/* Since 6.13 a file's references are a file_ref_t whose count is references - 1 (0: one). */
typedef struct {
    atomic_long_t refcnt;
} file_ref_t;

struct file {
    void *private_data;
    struct inode *f_inode;
    const struct file_operations *f_op;
    file_ref_t f_ref;
} __attribute__((preserve_access_index));

/* Before 6.13: a plain reference count. CO-RE picks whichever the running kernel has. */
struct file___pre_6_13 {
    atomic_long_t f_count;
} __attribute__((preserve_access_index));

struct in6_addr {
    union {
        __be32 u6_addr32[4];
    } in6_u;
} __attribute__((preserve_access_index));

struct sock_common {
    __be32 skc_daddr;
    __be32 skc_rcv_saddr;
    __be16 skc_dport;
    __u16 skc_num;
    unsigned short skc_family;
    struct in6_addr skc_v6_daddr;
    struct in6_addr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct sock {
    struct sock_common __sk_common;
    __u16 sk_protocol;
} __attribute__((preserve_access_index));

struct socket {
    struct sock *sk;
} __attribute__((preserve_access_index));

struct tcp_sock {
    __u32 copied_seq;
    __u32 write_seq;
} __attribute__((preserve_access_index));

/* User-space ABI structs read with bpf_probe_read_user (x86_64 layout; no CO-RE needed). */
struct iovec {
    void *iov_base;
    unsigned long iov_len;
};

struct user_msghdr {
    void *msg_name;
    int msg_namelen;
    struct iovec *msg_iov;
    unsigned long msg_iovlen;
    void *msg_control;
    unsigned long msg_controllen;
    unsigned int msg_flags;
};

struct mmsghdr {
    struct user_msghdr msg_hdr;
    unsigned int msg_len;
};

/* Stable constants (include/uapi/linux/stat.h, socket.h, in.h). */
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

#endif /* PERISCOPE_VMLINUX_H */
