/*
 * Test helper for SocketTracerSyscallFamiliesTest: exchanges one request and one response over
 * loopback with exactly one syscall family, so the tracer's handling of each can be checked.
 * usage: syscall_families <rw|v|to|msg|mmsg|dgram|reuse|exit|shared|loop|fail> <port>
 * dgram: unconnected UDP with sendto/recvfrom addresses (the peer is only in the syscall).
 * reuse: REUSE_CONNECTIONS connections one after another in one thread, each closed before the
 * next opens (the kernel tends to hand a new socket the closed one's memory): client write
 * "REQ-reuse-<i>", server read, server write "RSP", client read; the tracer must give every
 * connection new socket ids.
 * exit: EXIT_CONNECTIONS rounds, all on CPU 0: a forked child connects, writes "REQ-exit-<i>",
 * reads "RSP", waits for the server's close and exits WITHOUT closing its socket (the kernel
 * closes the fd at exit; no close syscall), while this process accepts each connection, answers
 * and closes its side. The child's socket is the last one freed, so the next round's socket
 * tends to take its memory; the tracer must still give every connection new socket ids.
 * shared: EXIT_CONNECTIONS rounds in one thread on CPU 0: connect, accept, write "REQ-shared-<i>",
 * read it, answer "RSP", read that (the thread's last event is on the client socket), fork a child
 * that holds copies of both fds, close them here (not the last reference: the tracer ends
 * nothing), and let the child exit with them open. The next round's client socket tends to take
 * the old client's memory, with no traced close in between: the thread's cached socket must not
 * hand it the old id.
 * loop: one thread serves LOOP_CONNECTIONS connections (both ends: 2 * LOOP_CONNECTIONS fds, more
 * than the tracer's per-thread fd cache has slots, so fds share slots) for LOOP_ROUNDS rounds,
 * each connection in turn: client write "REQ-loop-<i>-<r>", server read, server write
 * "RSP-loop-<i>-<r>", client read. Before round 1 the first LOOP_REOPENED connections are closed
 * and opened again (new sockets on the same fd numbers). Every socket must keep one id, and no
 * two sockets may share one.
 * fail: calls that move no data, then one that does, on one connection: the server's non-blocking
 * socket fails recvfrom and read with EAGAIN FAIL_ROUNDS times each, then the client writes
 * "REQ-fail-0", the server recvfrom's it and writes "RSP-fail-0", the client reads that and
 * closes, and the server's last recvfrom returns 0 (EOF). Only the four calls that moved data may
 * give events, each with its own enter time (never a failed call's).
 * Client sends "REQ-<mode>-<padding>", server answers "RSP-<mode>-<padding>". Exit 0 on success.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sched.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what) { perror(what); exit(1); }

static int listen_tcp(struct sockaddr_in *addr, int backlog) {
    int one = 1;
    int server = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(server, (struct sockaddr *)addr, sizeof(*addr))) die("bind");
    if (listen(server, backlog)) die("listen");
    return server;
}

/* One CPU for everything, so a freed sock is on the per-CPU free list the next one is
 * allocated from. */
static void pin_to_cpu0(void) {
    cpu_set_t cpu0;
    CPU_ZERO(&cpu0);
    CPU_SET(0, &cpu0);
    if (sched_setaffinity(0, sizeof(cpu0), &cpu0)) die("sched_setaffinity");
}

static void open_pair(int server, struct sockaddr_in *addr, int *client, int *conn) {
    *client = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(*client, (struct sockaddr *)addr, sizeof(*addr))) die("connect");
    *conn = accept(server, NULL, NULL);
    if (*conn < 0) die("accept");
}

/* The client writes req, the server reads it and answers "RSP", the client reads that. */
static void request_response(int client, int conn, const char *req) {
    char buf[64] = {0};
    if (write(client, req, strlen(req)) != (ssize_t)strlen(req)) die("write");
    if (read(conn, buf, sizeof(buf) - 1) != (ssize_t)strlen(req)) die("read");
    if (write(conn, "RSP", 3) != 3) die("write back");
    if (read(client, buf, sizeof(buf) - 1) != 3) die("read back");
}

#define REUSE_CONNECTIONS 6

static int reuse(struct sockaddr_in *addr) {
    int server = listen_tcp(addr, 1);
    for (int i = 0; i < REUSE_CONNECTIONS; i++) {
        char req[64];
        snprintf(req, sizeof(req), "REQ-reuse-%d", i);
        int client, conn;
        open_pair(server, addr, &client, &conn);
        request_response(client, conn, req);
        /* The server's side closes first, so the client's sock, which this thread's last event
         * was on, is the last one freed: the next connection's client sock tends to take its
         * memory, and its first event is this thread's next. */
        close(conn);
        close(client);
    }
    close(server);
    return 0;
}

#define EXIT_CONNECTIONS 8

static int exit_without_close(struct sockaddr_in *addr) {
    pin_to_cpu0();
    int server = listen_tcp(addr, 1);
    for (int i = 0; i < EXIT_CONNECTIONS; i++) {
        char req[64], buf[64] = {0};
        snprintf(req, sizeof(req), "REQ-exit-%d", i);
        pid_t child = fork();
        if (child < 0) die("fork");
        if (child == 0) {
            int client = socket(AF_INET, SOCK_STREAM, 0);
            if (connect(client, (struct sockaddr *)addr, sizeof(*addr))) die("connect");
            if (write(client, req, strlen(req)) != (ssize_t)strlen(req)) die("write");
            if (read(client, buf, sizeof(buf) - 1) != 3) die("read back");
            /* The server's FIN: the socket is in CLOSE_WAIT and goes away right after the
             * kernel's close at exit (LAST_ACK, then the ACK over loopback). */
            if (read(client, buf, sizeof(buf) - 1) != 0) die("read eof");
            _exit(0);
        }
        int conn = accept(server, NULL, NULL);
        if (conn < 0) die("accept");
        if (read(conn, buf, sizeof(buf) - 1) != (ssize_t)strlen(req)) die("read");
        if (write(conn, "RSP", 3) != 3) die("write back");
        close(conn);
        int status;
        if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "child %d failed\n", i);
            exit(1);
        }
        /* Let the loopback FIN/ACK exchange after the child's exit finish freeing its sock. */
        usleep(20000);
    }
    close(server);
    return 0;
}

static int shared_then_exit(struct sockaddr_in *addr) {
    pin_to_cpu0();
    int server = listen_tcp(addr, 1);
    for (int i = 0; i < EXIT_CONNECTIONS; i++) {
        char req[64], buf[64] = {0};
        snprintf(req, sizeof(req), "REQ-shared-%d", i);
        int client, conn;
        open_pair(server, addr, &client, &conn);
        request_response(client, conn, req);
        int gate[2];
        if (pipe(gate)) die("pipe");
        pid_t child = fork();
        if (child < 0) die("fork");
        if (child == 0) {
            close(gate[1]);
            /* EOF once the parent closed its copies; then exit with both sockets open. */
            if (read(gate[0], buf, 1) != 0) die("gate");
            _exit(0);
        }
        close(gate[0]);
        close(client);
        close(conn);
        close(gate[1]);
        int status;
        if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "child %d failed\n", i);
            exit(1);
        }
        usleep(20000);
    }
    close(server);
    return 0;
}

#define LOOP_CONNECTIONS 20
#define LOOP_ROUNDS 3
#define LOOP_REOPENED 5

static void read_exactly(int fd, const char *expect) {
    char buf[64] = {0};
    size_t n = strlen(expect);
    if (read(fd, buf, sizeof(buf) - 1) != (ssize_t)n || memcmp(buf, expect, n)) {
        fprintf(stderr, "read %s: got '%s'\n", expect, buf);
        exit(1);
    }
}

static int event_loop(struct sockaddr_in *addr) {
    int server = listen_tcp(addr, LOOP_CONNECTIONS);
    int client[LOOP_CONNECTIONS], conn[LOOP_CONNECTIONS];
    for (int i = 0; i < LOOP_CONNECTIONS; i++)
        open_pair(server, addr, &client[i], &conn[i]);
    for (int r = 0; r < LOOP_ROUNDS; r++) {
        if (r == 1) {
            for (int i = 0; i < LOOP_REOPENED; i++) {
                close(conn[i]);
                close(client[i]);
                open_pair(server, addr, &client[i], &conn[i]);
            }
        }
        for (int i = 0; i < LOOP_CONNECTIONS; i++) {
            char req[64], rsp[64];
            snprintf(req, sizeof(req), "REQ-loop-%d-%d", i, r);
            snprintf(rsp, sizeof(rsp), "RSP-loop-%d-%d", i, r);
            if (write(client[i], req, strlen(req)) != (ssize_t)strlen(req)) die("write");
            read_exactly(conn[i], req);
            if (write(conn[i], rsp, strlen(rsp)) != (ssize_t)strlen(rsp)) die("write back");
            read_exactly(client[i], rsp);
        }
    }
    for (int i = 0; i < LOOP_CONNECTIONS; i++) {
        close(conn[i]);
        close(client[i]);
    }
    close(server);
    return 0;
}

#define FAIL_ROUNDS 3

static void wait_readable(int fd) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 5000) != 1) die("poll");
}

static int failed_calls(struct sockaddr_in *addr) {
    int server = listen_tcp(addr, 1);
    int client, conn;
    char buf[64] = {0};
    open_pair(server, addr, &client, &conn);
    if (fcntl(conn, F_SETFL, O_NONBLOCK)) die("fcntl");
    for (int i = 0; i < FAIL_ROUNDS; i++) {
        if (recvfrom(conn, buf, sizeof(buf) - 1, 0, NULL, NULL) != -1 || errno != EAGAIN) die("recvfrom EAGAIN");
        if (read(conn, buf, sizeof(buf) - 1) != -1 || errno != EAGAIN) die("read EAGAIN");
    }
    if (write(client, "REQ-fail-0", 10) != 10) die("write");
    wait_readable(conn);
    if (recvfrom(conn, buf, sizeof(buf) - 1, 0, NULL, NULL) != 10 || memcmp(buf, "REQ-fail-0", 10)) die("recvfrom");
    if (write(conn, "RSP-fail-0", 10) != 10) die("write back");
    read_exactly(client, "RSP-fail-0");
    close(client);
    wait_readable(conn);
    if (recvfrom(conn, buf, sizeof(buf) - 1, 0, NULL, NULL) != 0) die("recvfrom EOF");
    close(conn);
    close(server);
    return 0;
}

static void send_with(const char *mode, int fd, const char *msg) {
    size_t n = strlen(msg);
    size_t half = n / 2;
    if (!strcmp(mode, "rw")) {
        if (write(fd, msg, n) != (ssize_t)n) die("write");
    } else if (!strcmp(mode, "v")) {
        /* An empty iovec in the middle: the tracer must gather past it. */
        struct iovec iov[4] = {{(void *)msg, 4}, {(void *)(msg + 4), 0}, {(void *)(msg + 4), half - 4},
                               {(void *)(msg + half), n - half}};
        if (writev(fd, iov, 4) != (ssize_t)n) die("writev");
    } else if (!strcmp(mode, "to")) {
        if (sendto(fd, msg, n, 0, NULL, 0) != (ssize_t)n) die("sendto");
    } else if (!strcmp(mode, "msg")) {
        struct iovec iov[2] = {{(void *)msg, half}, {(void *)(msg + half), n - half}};
        struct msghdr mh = {0};
        mh.msg_iov = iov;
        mh.msg_iovlen = 2;
        if (sendmsg(fd, &mh, 0) != (ssize_t)n) die("sendmsg");
    } else {
        /* two datagrams in one sendmmsg: the message, then "+second" */
        struct iovec a = {(void *)msg, n};
        struct iovec b = {(void *)"+second", 7};
        struct mmsghdr mm[2];
        memset(mm, 0, sizeof(mm));
        mm[0].msg_hdr.msg_iov = &a;
        mm[0].msg_hdr.msg_iovlen = 1;
        mm[1].msg_hdr.msg_iov = &b;
        mm[1].msg_hdr.msg_iovlen = 1;
        if (sendmmsg(fd, mm, 2, 0) != 2) die("sendmmsg");
    }
}

static void recv_with(const char *mode, int fd, const char *expect) {
    char buf[256] = {0};
    size_t n = strlen(expect);
    ssize_t got;
    if (!strcmp(mode, "rw")) {
        got = read(fd, buf, sizeof(buf) - 1);
    } else if (!strcmp(mode, "v")) {
        struct iovec iov[2] = {{buf, 5}, {buf + 5, sizeof(buf) - 6}};
        got = readv(fd, iov, 2);
    } else if (!strcmp(mode, "to")) {
        got = recvfrom(fd, buf, sizeof(buf) - 1, 0, NULL, NULL);
    } else if (!strcmp(mode, "msg")) {
        struct iovec iov[2] = {{buf, 3}, {buf + 3, sizeof(buf) - 4}};
        struct msghdr mh = {0};
        mh.msg_iov = iov;
        mh.msg_iovlen = 2;
        got = recvmsg(fd, &mh, 0);
    } else {
        char second[64] = {0};
        struct iovec a = {buf, sizeof(buf) - 1};
        struct iovec b = {second, sizeof(second) - 1};
        struct mmsghdr mm[2];
        memset(mm, 0, sizeof(mm));
        mm[0].msg_hdr.msg_iov = &a;
        mm[0].msg_hdr.msg_iovlen = 1;
        mm[1].msg_hdr.msg_iov = &b;
        mm[1].msg_hdr.msg_iovlen = 1;
        if (recvmmsg(fd, mm, 2, MSG_WAITFORONE, NULL) != 2) die("recvmmsg");
        got = mm[0].msg_len;
        if (strcmp(second, "+second")) { fprintf(stderr, "second datagram: %s\n", second); exit(1); }
    }
    if (got != (ssize_t)n || memcmp(buf, expect, n)) {
        fprintf(stderr, "%s: got %zd bytes '%s', want '%s'\n", mode, got, buf, expect);
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s <rw|v|to|msg|mmsg|dgram|reuse|exit|shared|loop|fail> <port>\n", argv[0]); return 2; }
    const char *mode = argv[1];
    int port = atoi(argv[2]);
    int udp = !strcmp(mode, "mmsg");
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    int server, client, conn;
    if (!strcmp(mode, "reuse"))
        return reuse(&addr);
    if (!strcmp(mode, "exit"))
        return exit_without_close(&addr);
    if (!strcmp(mode, "shared"))
        return shared_then_exit(&addr);
    if (!strcmp(mode, "loop"))
        return event_loop(&addr);
    if (!strcmp(mode, "fail"))
        return failed_calls(&addr);
    if (!strcmp(mode, "dgram")) {
        char req[] = "REQ-dgram-0123456789abcdefghij", rsp[] = "RSP-dgram-klmnopqrstuvwxyz9876543210";
        char buf[256] = {0};
        struct sockaddr_in src;
        socklen_t srclen = sizeof(src);
        server = socket(AF_INET, SOCK_DGRAM, 0);
        setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(server, (struct sockaddr *)&addr, sizeof(addr))) die("bind");
        client = socket(AF_INET, SOCK_DGRAM, 0);
        if (sendto(client, req, strlen(req), 0, (struct sockaddr *)&addr, sizeof(addr)) < 0) die("sendto");
        if (recvfrom(server, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&src, &srclen) != (ssize_t)strlen(req))
            die("recvfrom");
        if (sendto(server, rsp, strlen(rsp), 0, (struct sockaddr *)&src, srclen) < 0) die("sendto back");
        memset(buf, 0, sizeof(buf));
        srclen = sizeof(src);
        if (recvfrom(client, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&src, &srclen) != (ssize_t)strlen(rsp))
            die("recvfrom back");
        close(client);
        close(server);
        return 0;
    }
    if (udp) {
        server = socket(AF_INET, SOCK_DGRAM, 0);
        setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(server, (struct sockaddr *)&addr, sizeof(addr))) die("bind");
        client = socket(AF_INET, SOCK_DGRAM, 0);
        if (connect(client, (struct sockaddr *)&addr, sizeof(addr))) die("connect");
        struct sockaddr_in caddr;
        socklen_t clen = sizeof(caddr);
        getsockname(client, (struct sockaddr *)&caddr, &clen);
        if (connect(server, (struct sockaddr *)&caddr, clen)) die("connect back");
        conn = server;
    } else {
        server = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(server, (struct sockaddr *)&addr, sizeof(addr))) die("bind");
        if (listen(server, 1)) die("listen");
        client = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(client, (struct sockaddr *)&addr, sizeof(addr))) die("connect");
        conn = accept(server, NULL, NULL);
        if (conn < 0) die("accept");
    }
    char req[128], rsp[128];
    snprintf(req, sizeof(req), "REQ-%s-0123456789abcdefghij", mode);
    snprintf(rsp, sizeof(rsp), "RSP-%s-klmnopqrstuvwxyz9876543210", mode);
    send_with(mode, client, req);
    recv_with(mode, conn, req);
    send_with(mode, conn, rsp);
    recv_with(mode, client, rsp);
    close(client);
    if (conn != server) close(conn);
    close(server);
    return 0;
}
