// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Socket syscall tracer on syscall tracepoints only (works where kprobes/fentry do not).
 *
 * sys_enter_* keeps the arguments of a data syscall on a socket fd in the thread's task storage;
 * sys_exit_* turns them into one event per call (per message for *mmsg) with the socket's
 * addresses, tcp sequence, timing, a per-thread syscall trace id and up to payload_bytes of the
 * data, copied through a per-CPU scratch buffer and published with bpf_ringbuf_output so ring
 * space is spent only on the bytes captured. Whether the fd is a socket is decided at exit, and
 * only for calls that moved data: the syscall has just walked the same fd table, file and sock,
 * so the walk hits warm cache lines, and failed or empty calls (EAGAIN) never walk at all.
 * Ring-full drops are counted per CPU in `lost_events`.
 *
 * The Java twin of struct socket_event is io.periscope.ebpf.tracer.SocketEvent: keep them in sync.
 */
#include "periscope_vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/*
 * Ablation builds, for measuring where a program's time goes (never set in the shipped object,
 * where the checks compile away): `make OUT=<dir> CLANG="clang -DABLATE_EXIT=n"`, then bpf_stats
 * of each build minus the one before gives each step's cost (agent-ebpf-loader README, session 7).
 * ABLATE_EXIT, every data exit returns: 1 at once; 2 after task storage and the enter pairing;
 * 3 after the fd -> socket walk; 4 after the socket cache/LRU and the filters; 5 after the trace
 * id and the runtime config; 6 after the header (exit clock, addresses, comm, tcp_seq); 7 after
 * the payload copy, before publishing; 8 publishes without the wake-up query (BPF_RB_NO_WAKEUP).
 * ABLATE_ENTER: 1 returns at once; 2 after task storage; 3 stores everything but reads no clock;
 * 4 stores only the clock and the syscall (no arguments).
 */
#ifndef ABLATE_EXIT
#define ABLATE_EXIT 0
#endif
#ifndef ABLATE_ENTER
#define ABLATE_ENTER 0
#endif

#define MAX_PAYLOAD_BYTES 16384
#define MAX_IOVECS 8
#define MAX_MMSG 4
#define MAX_FILTER_PORTS 16

enum event_kind {
    EVENT_DATA = 1,
    EVENT_CLOSE = 2,
    EVENT_EXEC = 3,
    EVENT_EXIT = 4,
};

enum direction {
    DIR_EGRESS = 0,
    DIR_INGRESS = 1,
};

enum role {
    ROLE_UNKNOWN = 0,
    ROLE_CLIENT = 1,
    ROLE_SERVER = 2,
};

enum syscall_kind {
    SC_READ = 1, SC_WRITE, SC_READV, SC_WRITEV, SC_SENDTO, SC_RECVFROM,
    SC_SENDMSG, SC_RECVMSG, SC_SENDMMSG, SC_RECVMMSG,
};

#define FLAG_TRUNCATED 1

struct socket_event {
    __u16 kind;
    __u8 direction;
    __u8 role;
    __u8 l4_proto;
    __u8 family;
    __u8 syscall;
    __u8 flags;
    __u32 tgid;
    __u32 tid;
    __s32 fd;
    __u32 tcp_seq;
    __u64 socket_id;
    __u64 enter_ns;
    __u64 exit_ns;
    __u64 syscall_trace_id;
    __s64 ret;
    __u16 local_port;
    __u16 remote_port;
    __u32 payload_len;
    __u8 local_addr[16];
    __u8 remote_addr[16];
    char comm[16];
    /* Twice the maximum so a chunk at any offset < MAX fits without the verifier relating them. */
    __u8 payload[2 * MAX_PAYLOAD_BYTES];
};

#define EVENT_HEADER_BYTES (sizeof(struct socket_event) - 2 * MAX_PAYLOAD_BYTES)

/* Set by the loader before load (frozen: the verifier sees them as constants). */
const volatile __u32 ignore_tgid = 0;
const volatile __u32 target_tgid = 0;
const volatile bool trace_unix = false;
const volatile __u32 filter_port_count = 0;
const volatile __u16 filter_ports[MAX_FILTER_PORTS] = {};
/* Wake the reader only once this much is pending: a wakeup per event (irq_work in the traced
 * task's syscall plus a context switch for the reader) would cost more than the event itself.
 * The reader also polls on a timer, so a quiet ring is still drained. 0: wake on every event. */
const volatile __u32 wakeup_bytes = 1 << 20;
/* First-bytes prefilter: when prefix_count > 0, a socket's first data event (either direction)
 * must start with one of these prefixes, or the socket is ignored for the rest of its life.
 * Cheap protocol inference for the protocols the agent parses ("GET ", "POST", "HTTP", ...). */
#define MAX_PREFIXES 8
#define MAX_PREFIX_BYTES 8
const volatile __u32 prefix_count = 0;
const volatile __u8 prefix_lens[MAX_PREFIXES] = {};
const volatile __u8 prefixes[MAX_PREFIXES][MAX_PREFIX_BYTES] = {};

/* Unique ids for the tracer's lifetime, handed out atomically across CPUs. */
__u64 next_socket_id = 1;
/* The kernel's socket_file_ops address, learned from the first socket seen (see socket_of_fd). */
__u64 socket_fops = 0;
/* Syscall trace ids: a thread takes a block of 2^32 ids on its first trace (and when it used them
 * up) and numbers its traces inside it, so ids are unique and increase per thread while the
 * shared counter's cache line is touched once per thread, not once per request. */
__u64 next_trace_block = 1;
/* Socket epoch: bumped whenever a socket's id ends (its last traced close) or its role changes.
 * A thread's cached socket (thread_state.cache_*) is valid only while the epoch it was cached at
 * is current, so a new socket allocated at a closed one's address never inherits its id from the
 * cache. Read on every data exit, written on closes: its own cache line, apart from the
 * counters above that every new socket and thread writes. */
__u64 sock_epoch __attribute__((aligned(64))) = 0;

struct syscall_args {
    __u64 buf; /* buf, iovec array, msghdr or mmsghdr array */
    __u64 enter_ns;
    __u64 addr; /* sendto dest_addr / recvfrom src_addr (user struct sockaddr *), or 0 */
    __s32 fd;
    __u32 vlen;
    __u8 syscall;
    __u8 direction;
};

/*
 * A socks entry is keyed by the struct sock's address, which the kernel reuses as soon as the
 * socket is freed. A traced last close deletes the entry, but a socket can end without one: its
 * process exits or execs (CLOEXEC) and the kernel closes the fd, or the close is not traced
 * (another tgid filtered out, the tracer attached later). So each entry also keeps the socket's
 * incarnation, the sockfs inode number (what /proc/net/tcp shows; get_next_ino() numbers are
 * 32-bit and wrap only after 2^32 new inodes), and a lookup that finds another inode at the same
 * address treats the entry as stale: the new socket gets a new id and fresh role/prefix state.
 */
struct sock_info {
    __u64 id;
    __u32 ino;
    __u8 role;
    __u8 prefix_state; /* PREFIX_UNCHECKED, PREFIX_MATCHED or PREFIX_REJECTED */
};

enum {
    PREFIX_UNCHECKED = 0,
    PREFIX_MATCHED = 1,
    PREFIX_REJECTED = 2,
};

/* A cached copy of one socket's socks entry: valid while the socket is still at sk, has the
 * same inode (a socket reusing a freed one's address misses even if no close bumped the epoch)
 * and sock_epoch is unchanged. Only a final entry is cached (prefix state checked or no
 * prefilter), so a copy never has to be written back. */
struct sock_cache_slot {
    __u64 sk;
    __u64 epoch;
    struct sock_info info;
};

static __always_inline bool slot_holds(const struct sock_cache_slot *slot, __u64 skp, __u32 ino, __u64 epoch)
{
    return slot->sk == skp && slot->info.ino == ino && slot->epoch == epoch;
}

static __always_inline void slot_fill(struct sock_cache_slot *slot, __u64 skp, const struct sock_info *info,
                                      __u64 epoch)
{
    slot->info = *info;
    slot->sk = skp;
    slot->epoch = epoch;
}

/* Per-thread state in task-local storage: the call in flight between enter and exit, and the
 * syscall trace id. Faster than hash maps keyed by thread id (no bucket lock, no update/delete
 * per call) and freed by the kernel when the thread exits. */
struct thread_state {
    struct syscall_args args;
    __u64 trace_id;
    /* The socket of this thread's last event: a thread's next call is usually on the same
     * socket (a server reads a request and writes its response), and the copy skips the socks
     * LRU lookup. */
    struct sock_cache_slot cache;
    __u8 in_flight;
    __u8 last_direction;
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4 << 20);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} lost_events SEC(".maps");

/* Stale socks entries replaced: the entry's socket ended untraced (exit, exec, an untraced close)
 * and a new socket took its address (see struct sock_info). */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} stale_socks SEC(".maps");

/* Settings the agent changes while attached (not .rodata, which is frozen at load). The loader
 * writes the configured values after load and before attach. */
struct runtime_config {
    /* Bytes of payload captured per event, 0..MAX_PAYLOAD_BYTES; 0: metadata-only events
     * (lengths, addresses, timestamps), the resource guard's last level. */
    __u32 payload_bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct runtime_config);
} runtime SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct thread_state);
} threads SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 65536);
    __type(key, __u64);
    __type(value, struct sock_info);
} socks SEC(".maps");

/*
 * Second-level socket cache for threads serving several sockets (an event loop: nginx's worker
 * reads one connection's request after writing another's response, so the one-socket cache in
 * thread_state misses on every read). Slots are picked by fd (a server's fds are small dense
 * integers) and validated exactly like thread_state's copy: same sock address, same inode, and
 * the epoch current. A slot is a placement hint, never trusted by fd alone. A separate task
 * storage map so that only threads that use traced sockets pay its 512 bytes (a 1 KiB
 * allocation with the kernel's element header), not every thread that reads a file. Profile of
 * nginx (4 connections) before: the socks LRU lookup (lookup_nulls_elem_raw, cold bucket and
 * element lines) was 26% of exit_recvfrom's samples.
 */
#define FD_CACHE_SLOTS 16

struct fd_cache {
    struct sock_cache_slot slot[FD_CACHE_SLOTS];
};

struct {
    __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, struct fd_cache);
} fd_caches SEC(".maps");


/* One scratch event per CPU, indexed by CPU number: an ARRAY (max_entries set to the possible
 * CPU count by the loader) because a per-CPU map value may not exceed 32 KiB. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct socket_event);
} scratch SEC(".maps");

static __always_inline void count_lost(void)
{
    __u32 zero = 0;
    __u64 *n = bpf_map_lookup_elem(&lost_events, &zero);
    if (n)
        *n += 1;
}

static __always_inline void count_stale(void)
{
    __u32 zero = 0;
    __u64 *n = bpf_map_lookup_elem(&stale_socks, &zero);
    if (n)
        *n += 1;
}

/*
 * Wake the reader only for the record that takes the pending data across a multiple of
 * wakeup_bytes. Waking for every record past the threshold queued an irq_work per event until
 * the reader ran (each a self-IPI: an APIC write, a VM exit on a virtual machine). A crossing
 * missed in a race between CPUs is caught at the next multiple; the reader's poll timer bounds
 * the wait in any case, and its epoll reports the ring readable whenever data is pending.
 */
static __always_inline __u64 wakeup_flags(__u32 record_bytes)
{
    if (wakeup_bytes == 0)
        return 0;
    __u64 pending = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
    /* The ring's own 8-byte record header, rounded to 8 like the kernel does. */
    __u64 before = pending - ((record_bytes + 8 + 7) & ~7ULL);
    if (before > pending)
        before = 0;
    return pending / wakeup_bytes != before / wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void emit_small(__u16 kind, __s32 fd, __u64 socket_id)
{
    struct socket_event *e = bpf_ringbuf_reserve(&events, EVENT_HEADER_BYTES, 0);
    if (!e) {
        count_lost();
        return;
    }
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __builtin_memset(e, 0, EVENT_HEADER_BYTES);
    e->kind = kind;
    e->tgid = pid_tgid >> 32;
    e->tid = (__u32)pid_tgid;
    e->fd = fd;
    e->socket_id = socket_id;
    e->enter_ns = bpf_ktime_get_ns();
    e->exit_ns = e->enter_ns;
    bpf_get_current_comm(&e->comm, sizeof(e->comm));
    bpf_ringbuf_submit(e, wakeup_flags(EVENT_HEADER_BYTES));
}

static __always_inline bool process_wanted(__u32 tgid)
{
    if (ignore_tgid != 0 && tgid == ignore_tgid)
        return false;
    if (target_tgid != 0 && tgid != target_tgid)
        return false;
    return true;
}

/*
 * Kernel pointers are walked with direct loads through BTF-typed pointers (bpf_get_current_task_btf,
 * bpf_rdonly_cast) instead of one bpf_probe_read_kernel per field: the loads compile to
 * fault-tolerant PROBE_MEM instructions costing a few ns each, where each helper call cost
 * ~50 ns and a syscall needed a dozen. bpf_rdonly_cast (kernel >= 6.2) is inlined by the
 * verifier; a NULL or stale pointer reads as 0.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

static __always_inline struct sock *as_sock(__u64 sk)
{
    return bpf_rdonly_cast((void *)sk, bpf_core_type_id_kernel(struct sock));
}

/* The open file behind task's fd (as the kernel's struct file pointer), 0 if there is none. */
static __always_inline void *file_ptr_of_fd(struct task_struct *task, int fd)
{
    if (fd < 0)
        return 0;
    struct fdtable *fdt = task->files->fdt;
    if ((unsigned int)fd >= fdt->max_fds)
        return 0;
    struct file **fds = fdt->fd;
    /* fd[] is an array of pointers, which BTF gives no typed access to: read the slot through a
     * one-pointer kernel struct (a direct load) instead of a bpf_probe_read_kernel call. */
    struct llist_node *slot = bpf_rdonly_cast((void *)&fds[fd], bpf_core_type_id_kernel(struct llist_node));
    return slot->next;
}

/* The struct sock behind fd if it is a traced socket (TCP/UDP over IPv4/IPv6, unix if enabled),
 * with its sockfs inode number in *ino (the socket's incarnation, see struct sock_info). */
static __always_inline __u64 socket_of_fd(struct task_struct *task, int fd, __u32 *ino)
{
    void *fp = file_ptr_of_fd(task, fd);
    if (!fp)
        return 0;
    struct file *file = bpf_rdonly_cast(fp, bpf_core_type_id_kernel(struct file));
    /* Every socket file shares the kernel's socket_file_ops (sock_alloc_file), which the syscall
     * itself just compared (sock_from_file), so that line is warm; the inode is not. Learn the
     * address from the first file whose inode says S_IFSOCK, then skip the inode for sockets.
     * A non-socket file never matches, so it still takes the inode check. */
    __u64 fops = (__u64)file->f_op;
    if (fops != socket_fops || fops == 0) {
        if ((file->f_inode->i_mode & S_IFMT) != S_IFSOCK)
            return 0;
        socket_fops = fops;
    }
    struct socket *sock = bpf_rdonly_cast(file->private_data, bpf_core_type_id_kernel(struct socket));
    struct sock *sk = sock->sk;
    if (!sk)
        return 0;
    unsigned short family = sk->__sk_common.skc_family;
    if (family == AF_UNIX) {
        if (!trace_unix)
            return 0;
        *ino = (__u32)file->f_inode->i_ino;
        return (__u64)sk;
    }
    if (family != AF_INET && family != AF_INET6)
        return 0;
    __u16 proto = sk->sk_protocol;
    if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
        return 0;
    *ino = (__u32)file->f_inode->i_ino;
    return (__u64)sk;
}

/* True when fd's file has other references than this fd (another process's fd table after a
 * fork, or a dup). Called only for sockets socket_of_fd accepted, so fd is in range. */
static __always_inline int file_still_shared(struct task_struct *task, int fd)
{
    void *fp = file_ptr_of_fd(task, fd);
    if (!fp)
        return 0;
    struct file *file = bpf_rdonly_cast(fp, bpf_core_type_id_kernel(struct file));
    if (bpf_core_field_exists(file->f_ref))
        return file->f_ref.refcnt.counter > 0;
    struct file___pre_6_13 *old = bpf_rdonly_cast(fp, bpf_core_type_id_kernel(struct file___pre_6_13));
    return old->f_count.counter > 1;
}

/*
 * The entry of socket sk (inode ino), created with a new id when there is none. An entry left by
 * an earlier socket at the same address (ended without a traced close) is taken over in place:
 * new id, this role, prefix unchecked; and a close event for the old id is emitted first, so
 * downstream ends that connection before the new socket's events arrive.
 */
static __always_inline struct sock_info *sock_info_of(__u64 sk, __u32 ino, __u8 role)
{
    __u64 key = sk;
    struct sock_info *info = bpf_map_lookup_elem(&socks, &key);
    if (info) {
        if (info->ino != ino) {
            __u64 old = info->id;
            info->id = __sync_fetch_and_add(&next_socket_id, 1);
            info->ino = ino;
            info->role = role;
            info->prefix_state = PREFIX_UNCHECKED;
            count_stale();
            emit_small(EVENT_CLOSE, -1, old);
            return info;
        }
        if (role != ROLE_UNKNOWN && info->role != role) {
            info->role = role;
            /* Threads may hold a copy with the old role. */
            __sync_fetch_and_add(&sock_epoch, 1);
        }
        return info;
    }
    struct sock_info fresh = {};
    fresh.id = __sync_fetch_and_add(&next_socket_id, 1);
    fresh.ino = ino;
    fresh.role = role;
    bpf_map_update_elem(&socks, &key, &fresh, BPF_NOEXIST);
    return bpf_map_lookup_elem(&socks, &key);
}

static __always_inline bool port_wanted(__u16 local_port, __u16 remote_port)
{
    if (filter_port_count == 0)
        return true;
    for (int i = 0; i < MAX_FILTER_PORTS; i++) {
        if (i >= filter_port_count)
            break;
        if (filter_ports[i] == local_port || filter_ports[i] == remote_port)
            return true;
    }
    return false;
}

/*
 * Enter only records the arguments: no fd walk here, where the task's fd table, file and sock are
 * often cold (the syscall has not touched them yet). The exit walks them after the syscall did.
 */
static __always_inline int enter_data(int fd, __u64 buf, __u32 vlen, __u64 addr, __u8 syscall, __u8 direction)
{
    if (fd < 0 || ABLATE_ENTER == 1)
        return 0;
    struct task_struct *task = bpf_get_current_task_btf();
    /* tgid by a direct load from the task: a helper call costs more than the load. */
    if ((ignore_tgid != 0 || target_tgid != 0) && !process_wanted(task->tgid))
        return 0;
    struct thread_state *ts = bpf_task_storage_get(&threads, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (!ts) {
        /* Allocation failure or storage busy (recursion): this call's event is lost; count it. */
        count_lost();
        return 0;
    }
    if (ABLATE_ENTER == 2)
        return 0;
    if (ABLATE_ENTER == 4) {
        ts->args.enter_ns = bpf_ktime_get_ns();
        ts->args.syscall = syscall;
        ts->in_flight = 1;
        return 0;
    }
    ts->args.buf = buf;
    ts->args.enter_ns = ABLATE_ENTER == 3 ? 0 : bpf_ktime_get_ns();
    ts->args.fd = fd;
    ts->args.vlen = vlen;
    ts->args.addr = addr;
    ts->args.syscall = syscall;
    ts->args.direction = direction;
    ts->in_flight = 1;
    return 0;
}

/* Copies up to `want` bytes gathered from an iovec array into e->payload; returns bytes copied. */
static __always_inline __u32 copy_iovecs(struct socket_event *e, struct iovec *iov, __u64 iovcnt, __u32 want)
{
    /* One user read for the whole (bounded) iovec array instead of one per element. */
    struct iovec vecs[MAX_IOVECS];
    __u64 n = iovcnt < MAX_IOVECS ? iovcnt : MAX_IOVECS;
    if (n == 0 || bpf_probe_read_user(vecs, n * sizeof(struct iovec), iov))
        return 0;
    __u32 off = 0;
    for (int i = 0; i < MAX_IOVECS; i++) {
        if (i >= n || off >= want || off >= MAX_PAYLOAD_BYTES)
            break;
        __u64 chunk = vecs[i].iov_len;
        if (chunk > want - off)
            chunk = want - off;
        if (chunk > MAX_PAYLOAD_BYTES)
            chunk = MAX_PAYLOAD_BYTES;
        /* off < MAX already; the mask (kept by the barrier) makes the verifier see it too. */
        __u32 at = off;
        barrier_var(at);
        at &= MAX_PAYLOAD_BYTES - 1;
        if (bpf_probe_read_user(&e->payload[at], chunk, vecs[i].iov_base))
            break;
        off += chunk;
    }
    return off;
}

static __always_inline void fill_addresses(struct socket_event *e, struct sock *sk)
{
    unsigned short family = sk->__sk_common.skc_family;
    e->family = family;
    e->local_port = sk->__sk_common.skc_num;
    e->remote_port = __builtin_bswap16(sk->__sk_common.skc_dport);
    e->l4_proto = sk->sk_protocol;
    __u32 *local = (__u32 *)e->local_addr;
    __u32 *remote = (__u32 *)e->remote_addr;
    if (family == AF_INET6) {
        for (int i = 0; i < 4; i++) {
            local[i] = sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32[i];
            remote[i] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[i];
        }
    } else {
        local[0] = family == AF_INET ? sk->__sk_common.skc_rcv_saddr : 0;
        remote[0] = family == AF_INET ? sk->__sk_common.skc_daddr : 0;
        for (int i = 1; i < 4; i++) {
            local[i] = 0;
            remote[i] = 0;
        }
    }
}

static __always_inline bool starts_with_known_prefix(struct socket_event *e, __u32 got)
{
    for (int p = 0; p < MAX_PREFIXES; p++) {
        if (p >= prefix_count)
            break;
        __u32 len = prefix_lens[p];
        if (len == 0 || len > got)
            continue;
        bool same = true;
        for (int i = 0; i < MAX_PREFIX_BYTES; i++) {
            if (i >= len)
                break;
            if (e->payload[i] != prefixes[p][i]) {
                same = false;
                break;
            }
        }
        if (same)
            return true;
    }
    return false;
}

/* Emits one data event for `bytes` transferred; payload from buf (iovcnt 0) or an iovec array. */
/*
 * An unconnected UDP socket has no peer in the sock: take it from the syscall's own address
 * (sendto/sendmsg destination, recvfrom/recvmsg source as filled in by the kernel).
 */
static __always_inline void peer_from_sockaddr(struct socket_event *e, __u64 name)
{
    struct {
        __u16 family;
        __be16 port;
        __be32 v4;
    } sa = {};
    if (!name || bpf_probe_read_user(&sa, sizeof(sa), (void *)name))
        return;
    __u32 *remote = (__u32 *)e->remote_addr;
    if (sa.family == AF_INET) {
        e->remote_port = __builtin_bswap16(sa.port);
        remote[0] = sa.v4;
    } else if (sa.family == AF_INET6) {
        /* sockaddr_in6: family, port, flowinfo, then the 16-byte address at offset 8. */
        if (bpf_probe_read_user(e->remote_addr, 16, (void *)(name + 8)) == 0)
            e->remote_port = __builtin_bswap16(sa.port);
    }
}

static __always_inline void emit_data(struct task_struct *task, struct syscall_args *args, struct sock *sk,
                                      struct sock_info *info,
                                      __u64 trace_id, __s64 bytes, __u64 buf, __u64 iovcnt, bool vectored,
                                      __u64 name, __u32 payload_bytes)
{
    __u32 cpu = bpf_get_smp_processor_id();
    struct socket_event *e = bpf_map_lookup_elem(&scratch, &cpu);
    if (!e) {
        count_lost();
        return;
    }
    e->kind = EVENT_DATA;
    e->direction = args->direction;
    e->role = info->role;
    e->syscall = args->syscall;
    e->flags = 0;
    e->tgid = task->tgid;
    e->tid = task->pid;
    e->fd = args->fd;
    e->socket_id = info->id;
    e->enter_ns = args->enter_ns;
    e->exit_ns = bpf_ktime_get_ns();
    e->syscall_trace_id = trace_id;
    e->ret = bytes;
    fill_addresses(e, sk);
    if (e->l4_proto == IPPROTO_UDP && e->remote_port == 0) {
        peer_from_sockaddr(e, name);
        /* exit_data could not filter without the peer; now it is known. */
        if (!port_wanted(e->local_port, e->remote_port))
            return;
    }
    /* comm with two direct loads from the task instead of the bpf_get_current_comm helper
     * (a call and a byte-wise copy); a concurrent rename may tear it, as the helper may too. */
    const __u64 *comm = (const __u64 *)task->comm;
    __u64 *dst = (__u64 *)e->comm;
    dst[0] = comm[0];
    dst[1] = comm[1];
    e->tcp_seq = 0;
    if (e->l4_proto == IPPROTO_TCP) {
        struct tcp_sock *tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
        __u32 seq = args->direction == DIR_EGRESS ? tp->write_seq : tp->copied_seq;
        e->tcp_seq = seq - (__u32)bytes;
    }
    if (ABLATE_EXIT == 6)
        return;

    __u32 want = payload_bytes;
    if (want > MAX_PAYLOAD_BYTES)
        want = MAX_PAYLOAD_BYTES;
    if (bytes < want)
        want = bytes;
    /* want <= MAX already; payload_bytes is a runtime value now, and clang may drop the clamp's
     * bound on the copy it passes on, so the mask (kept by the barrier) restates it. */
    barrier_var(want);
    want &= 2 * MAX_PAYLOAD_BYTES - 1;
    __u32 got = 0;
    if (vectored) {
        got = copy_iovecs(e, (struct iovec *)buf, iovcnt, want);
    } else if (want > 0) {
        if (bpf_probe_read_user(e->payload, want, (void *)buf) == 0)
            got = want;
    }
    /* got <= want <= MAX, so the mask changes nothing; it (kept by the barrier) is what lets the
     * verifier prove the output stays inside the scratch value. */
    barrier_var(got);
    got &= 2 * MAX_PAYLOAD_BYTES - 1;
    e->payload_len = got;
    if (got < bytes)
        e->flags |= FLAG_TRUNCATED;
    /* Without captured bytes (payload capture off) there is nothing to judge yet: stay unchecked. */
    if (prefix_count > 0 && info->prefix_state == PREFIX_UNCHECKED && got > 0)
        info->prefix_state = starts_with_known_prefix(e, got) ? PREFIX_MATCHED : PREFIX_REJECTED;
    if (info->prefix_state == PREFIX_REJECTED || ABLATE_EXIT == 7)
        return;
    if (ABLATE_EXIT == 8) {
        if (bpf_ringbuf_output(&events, e, EVENT_HEADER_BYTES + got, BPF_RB_NO_WAKEUP))
            count_lost();
        return;
    }
    if (bpf_ringbuf_output(&events, e, EVENT_HEADER_BYTES + got, wakeup_flags(EVENT_HEADER_BYTES + got)))
        count_lost();
}

static __always_inline int exit_data(long ret, __u8 syscall)
{
    if (ABLATE_EXIT == 1)
        return 0;
    /* A failed or empty call (EAGAIN on a non-blocking socket, EOF, a bad fd) has no event: leave
     * before the task-storage lookup, a helper call on lines the enter may have left cold. Its
     * in_flight stays set, which pairs with nothing: the thread's next traced call's enter
     * overwrites the arguments first (an enter skips only fd < 0, whose call fails too). */
    if (ret <= 0)
        return 0;
    struct task_struct *task = bpf_get_current_task_btf();
    struct thread_state *ts = bpf_task_storage_get(&threads, task, 0, 0);
    if (!ts || !ts->in_flight)
        return 0;
    ts->in_flight = 0;
    /* An enter seen without its exit (attached mid-call) must not pair with another syscall. */
    if (ts->args.syscall != syscall)
        return 0;
    if (ABLATE_EXIT == 2)
        return 0;
    struct syscall_args a = ts->args;
    __u32 ino = 0;
    __u64 skp = socket_of_fd(task, a.fd, &ino);
    if (!skp || ABLATE_EXIT == 3)
        return 0;
    struct sock *sk = as_sock(skp);
    /* The epoch is read before the LRU lookup: a close that deletes the entry bumps it after the
     * delete, so a copy taken from an entry being deleted is never stored as current. */
    __u64 epoch = sock_epoch;
    struct sock_info *info;
    if (slot_holds(&ts->cache, skp, ino, epoch)) {
        info = &ts->cache.info;
    } else {
        struct fd_cache *fc = bpf_task_storage_get(&fd_caches, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
        struct sock_cache_slot *slot = fc ? &fc->slot[a.fd & (FD_CACHE_SLOTS - 1)] : 0;
        bool from_slot = slot && slot_holds(slot, skp, ino, epoch);
        if (from_slot) {
            info = &slot->info;
        } else {
            info = sock_info_of(skp, ino, ROLE_UNKNOWN);
            if (!info)
                return 0;
        }
        /* Cache only an entry that exit_data will not change: its prefix state is final. */
        if (prefix_count == 0 || info->prefix_state != PREFIX_UNCHECKED) {
            if (slot && !from_slot)
                slot_fill(slot, skp, info, epoch);
            slot_fill(&ts->cache, skp, info, epoch);
        }
    }
    __u16 local_port = sk->__sk_common.skc_num;
    __u16 remote_port = __builtin_bswap16(sk->__sk_common.skc_dport);
    /* remote_port 0: an unconnected UDP socket whose peer only the syscall's address names;
     * emit_data filters it once that is read. */
    if (remote_port != 0 && !port_wanted(local_port, remote_port))
        return 0;
    if (info->prefix_state == PREFIX_REJECTED || ABLATE_EXIT == 4)
        return 0;

    /* DeepFlow's syscall_trace_id: a thread that reads after writing starts a new trace; the
     * writes that follow carry it. */
    __u64 trace_id;
    if (a.direction == DIR_INGRESS) {
        if (ts->last_direction != DIR_INGRESS || ts->trace_id == 0) {
            __u64 next = ts->trace_id + 1;
            if (ts->trace_id == 0 || (__u32)next == 0)
                next = (__sync_fetch_and_add(&next_trace_block, 1) << 32) | 1;
            ts->trace_id = next;
            ts->last_direction = DIR_INGRESS;
        }
        trace_id = ts->trace_id;
    } else {
        trace_id = ts->trace_id;
        ts->last_direction = DIR_EGRESS;
    }

    __u32 zero = 0;
    struct runtime_config *rc = bpf_map_lookup_elem(&runtime, &zero);
    __u32 payload_bytes = rc ? rc->payload_bytes : 0;
    if (ABLATE_EXIT == 5)
        return 0;

    switch (a.syscall) {
    case SC_READV:
    case SC_WRITEV:
        emit_data(task, &a, sk, info, trace_id, ret, a.buf, a.vlen, true, 0, payload_bytes);
        break;
    case SC_SENDMSG:
    case SC_RECVMSG: {
        struct user_msghdr msg = {};
        if (bpf_probe_read_user(&msg, sizeof(msg), (void *)a.buf) == 0)
            emit_data(task, &a, sk, info, trace_id, ret, (__u64)msg.msg_iov, msg.msg_iovlen, true,
                      (__u64)msg.msg_name, payload_bytes);
        break;
    }
    case SC_SENDMMSG:
    case SC_RECVMMSG: {
        /* ret is the number of messages; each carries its own length. */
        for (int i = 0; i < MAX_MMSG; i++) {
            if (i >= ret)
                break;
            struct mmsghdr m = {};
            if (bpf_probe_read_user(&m, sizeof(m), (void *)(a.buf + i * sizeof(struct mmsghdr))))
                break;
            if (m.msg_len > 0)
                emit_data(task, &a, sk, info, trace_id, m.msg_len, (__u64)m.msg_hdr.msg_iov, m.msg_hdr.msg_iovlen, true,
                          (__u64)m.msg_hdr.msg_name, payload_bytes);
        }
        break;
    }
    default:
        emit_data(task, &a, sk, info, trace_id, ret, a.buf, 0, false, a.addr, payload_bytes);
    }
    return 0;
}

#define DATA_PROBES(name, sc, dir, buf_arg, vlen_arg, addr_arg)                        \
    SEC("tracepoint/syscalls/sys_enter_" #name)                                        \
    int enter_##name(struct trace_event_raw_sys_enter *ctx)                            \
    {                                                                                  \
        return enter_data((int)ctx->args[0], ctx->args[buf_arg],                       \
                          vlen_arg < 0 ? 0 : (__u32)ctx->args[vlen_arg < 0 ? 0 : vlen_arg],  \
                          addr_arg < 0 ? 0 : ctx->args[addr_arg < 0 ? 0 : addr_arg], sc, dir); \
    }                                                                                  \
    SEC("tracepoint/syscalls/sys_exit_" #name)                                         \
    int exit_##name(struct trace_event_raw_sys_exit *ctx)                              \
    {                                                                                  \
        return exit_data(ctx->ret, sc);                                                \
    }

DATA_PROBES(read, SC_READ, DIR_INGRESS, 1, -1, -1)
DATA_PROBES(write, SC_WRITE, DIR_EGRESS, 1, -1, -1)
DATA_PROBES(readv, SC_READV, DIR_INGRESS, 1, 2, -1)
DATA_PROBES(writev, SC_WRITEV, DIR_EGRESS, 1, 2, -1)
DATA_PROBES(recvfrom, SC_RECVFROM, DIR_INGRESS, 1, -1, 4)
DATA_PROBES(sendto, SC_SENDTO, DIR_EGRESS, 1, -1, 4)
DATA_PROBES(recvmsg, SC_RECVMSG, DIR_INGRESS, 1, -1, -1)
DATA_PROBES(sendmsg, SC_SENDMSG, DIR_EGRESS, 1, -1, -1)
DATA_PROBES(recvmmsg, SC_RECVMMSG, DIR_INGRESS, 1, 2, -1)
DATA_PROBES(sendmmsg, SC_SENDMMSG, DIR_EGRESS, 1, 2, -1)

/* connect/accept: remember the fd (connect) across the call to learn the role at exit. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, __u64);
    __type(value, __s32);
} connecting SEC(".maps");

#define EINPROGRESS 115

SEC("tracepoint/syscalls/sys_enter_connect")
int enter_connect(struct trace_event_raw_sys_enter *ctx)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    if (!process_wanted(pid_tgid >> 32))
        return 0;
    __s32 fd = (__s32)ctx->args[0];
    bpf_map_update_elem(&connecting, &pid_tgid, &fd, BPF_ANY);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int exit_connect(struct trace_event_raw_sys_exit *ctx)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __s32 *fdp = bpf_map_lookup_elem(&connecting, &pid_tgid);
    if (!fdp)
        return 0;
    __s32 fd = *fdp;
    bpf_map_delete_elem(&connecting, &pid_tgid);
    if (ctx->ret != 0 && ctx->ret != -EINPROGRESS)
        return 0;
    __u32 ino = 0;
    __u64 sk = socket_of_fd(bpf_get_current_task_btf(), fd, &ino);
    if (sk)
        sock_info_of(sk, ino, ROLE_CLIENT);
    return 0;
}

static __always_inline int exit_accept(long ret)
{
    if (ret < 0 || !process_wanted(bpf_get_current_pid_tgid() >> 32))
        return 0;
    __u32 ino = 0;
    __u64 sk = socket_of_fd(bpf_get_current_task_btf(), (int)ret, &ino);
    if (sk)
        sock_info_of(sk, ino, ROLE_SERVER);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int exit_accept_tp(struct trace_event_raw_sys_exit *ctx)
{
    return exit_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
    return exit_accept(ctx->ret);
}

/* A traced socket's last close ends its id; downstream flushes the connection's state. */
SEC("tracepoint/syscalls/sys_enter_close")
int enter_close(struct trace_event_raw_sys_enter *ctx)
{
    if (!process_wanted(bpf_get_current_pid_tgid() >> 32))
        return 0;
    int fd = (int)ctx->args[0];
    __u32 ino = 0;
    __u64 key = socket_of_fd(bpf_get_current_task_btf(), fd, &ino);
    if (!key)
        return 0;
    struct sock_info *info = bpf_map_lookup_elem(&socks, &key);
    if (!info)
        return 0;
    /* A forking server (postgres, apache prefork) hands an accepted socket to a child and
     * closes its own copy: that close must not end the socket's id and role while the child
     * still uses it. Only the last reference ends it. */
    if (file_still_shared(bpf_get_current_task_btf(), fd))
        return 0;
    __u64 id = info->id;
    /* An entry of an earlier socket at this address (this one was never traced): its id ends
     * now, and the close event names no fd of this process. */
    bool stale = info->ino != ino;
    bpf_map_delete_elem(&socks, &key);
    /* After the delete: invalidates every thread's cached copy of this socket (see exit_data). */
    __sync_fetch_and_add(&sock_epoch, 1);
    if (stale)
        count_stale();
    emit_small(EVENT_CLOSE, stale ? -1 : fd, id);
    return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int process_exec(void *ctx)
{
    if (!process_wanted(bpf_get_current_pid_tgid() >> 32))
        return 0;
    emit_small(EVENT_EXEC, -1, 0);
    return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int process_exit(void *ctx)
{
    /* Task storage goes with the task; nothing to clean up. */
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u32 tid = (__u32)pid_tgid;
    if (tid == (__u32)(pid_tgid >> 32) && process_wanted(tid))
        emit_small(EVENT_EXIT, -1, 0);
    return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
