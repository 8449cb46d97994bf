#!/usr/bin/env bash
# Kernel-side cost of the socket tracer: nginx CPU per request with and without the tracer
# attached, at a fixed request rate (h2load --rps), alternating phases in one run so both
# numbers see the same machine noise. The tracer's BPF programs run inside nginx's syscalls,
# so their cost shows up as nginx CPU; the agent's own CPU (the Java reader) is reported apart.
#
# usage: bench/scenarios/tracer-overhead.sh [rps_per_client=250] [clients=4] [seconds=15] [rounds=2]
#        TRACER_OPTS="-Dpayload=0 | -Dtarget=1 | -Dwakeup=0" attributes the cost (see TracerRunner)
#        BPF_STATS=1: enable kernel.bpf_stats_enabled for the run and print, per traced phase, each
#        of the tracer's programs' run_cnt and run_time_ns/run_cnt (bpftool), the steadier measure
#        on a shared machine; TRACER_CP=dir puts dir (e.g. agent-ebpf-loader/target/classes)
#        before the jar, to measure a rebuilt BPF object without repackaging the bench jar;
#        PAIR_CP=dir (with BPF_STATS=1): in every traced phase attach a second tracer built from
#        dir next to the first (attach order alternating per round) and print both tracers'
#        per-program stats: the two versions run on exactly the same syscalls, the comparison
#        that survives a loaded machine (nginx CPU then includes both tracers)
# needs: root, nginx-light, nghttp2-client (h2load), a built bench jar
#        (mvn -q -pl bench -am package -DskipTests)
set -euo pipefail

RPS=${1:-250}
CLIENTS=${2:-4}
SECONDS_PER_PHASE=${3:-15}
ROUNDS=${4:-2}
PORT=18050
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
JAR="$ROOT/bench/target/benchmarks.jar"

[ "$(id -u)" = 0 ] || { echo "tracer-overhead: run as root (BPF)" >&2; exit 1; }
[ -f "$JAR" ] || { echo "tracer-overhead: $JAR missing; mvn -q -pl bench -am package -DskipTests" >&2; exit 1; }
command -v h2load >/dev/null || { echo "tracer-overhead: h2load missing; apt-get install nghttp2-client" >&2; exit 1; }
grep -qs ' /sys/kernel/tracing tracefs ' /proc/mounts || mount -t tracefs tracefs /sys/kernel/tracing

WORK=$(mktemp -d)
NGINX_PID=""
TRACER_PID=""
PAIR_PID=""
PAIR_FD=""
STATS_BEFORE=""
if [ "${BPF_STATS:-0}" = 1 ]; then
    command -v bpftool >/dev/null || { echo "tracer-overhead: BPF_STATS=1 needs bpftool" >&2; exit 1; }
    STATS_BEFORE=$(sysctl -n kernel.bpf_stats_enabled)
    sysctl -q -w kernel.bpf_stats_enabled=1
fi
cleanup() {
    [ -n "$STATS_BEFORE" ] && sysctl -q -w kernel.bpf_stats_enabled="$STATS_BEFORE"
    [ -n "$TRACER_PID" ] && kill "$TRACER_PID" 2>/dev/null || true
    [ -n "$PAIR_PID" ] && kill "$PAIR_PID" 2>/dev/null || true
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/tmp"
cat > "$WORK/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/tmp/body; proxy_temp_path $WORK/tmp/proxy;
  fastcgi_temp_path $WORK/tmp/fastcgi; uwsgi_temp_path $WORK/tmp/uwsgi; scgi_temp_path $WORK/tmp/scgi;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$PORT; location / { default_type text/plain; return 200 "hello periscope\n"; } }
}
CONF
/usr/sbin/nginx -p "$WORK" -c "$WORK/nginx.conf" &
NGINX_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done

# CPU time in ns (schedstat's sum_exec_runtime over all threads), not utime+stime: those are
# 10 ms ticks, and a 10 s phase of nginx at 2000 req/s is ~30 of them, so one tick either way
# moved the per-request result by 0.5 us.
proc_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
nginx_ns() {
    local total=0 p
    for p in $NGINX_PID $(cat /proc/$NGINX_PID/task/*/children 2>/dev/null); do
        total=$((total + $(proc_ns "$p")))
    done
    echo $total
}

# Runs one load phase; prints "requests nginx_us_per_req agent_us_per_req".
phase() {
    local before after agent_before=0 agent_after=0 out done_reqs
    before=$(nginx_ns)
    [ -n "$TRACER_PID" ] && agent_before=$(proc_ns "$TRACER_PID")
    out=$(h2load --h1 -c "$CLIENTS" --rps "$RPS" -D "$SECONDS_PER_PHASE" "http://127.0.0.1:$PORT/" 2>&1)
    after=$(nginx_ns)
    [ -n "$TRACER_PID" ] && agent_after=$(proc_ns "$TRACER_PID")
    done_reqs=$(echo "$out" | awk '/^requests:/ {print $8}')
    [ -n "$done_reqs" ] && [ "$done_reqs" -gt 0 ] || { echo "h2load failed: $out" >&2; exit 1; }
    awk -v r="$done_reqs" -v n=$((after - before)) -v a=$((agent_after - agent_before)) \
        'BEGIN { printf "%d %.2f %.2f\n", r, n / 1e3 / r, a / 1e3 / r }'
}

# Children inherit every fd of this shell, including the other tracer's stdin (coproc pipe or
# fifo): a tracer holding the other's stdin open would never see its EOF. Close all but 0-2.
close_inherited_fds() {
    local fd
    for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done 2>/dev/null || true
}

start_tracer() {
    # shellcheck disable=SC2086
    coproc TRACER { close_inherited_fds; exec java ${TRACER_OPTS:-} -cp "${TRACER_CP:+$TRACER_CP:}$JAR" io.periscope.bench.ebpf.TracerRunner; }
    TRACER_PID=$TRACER_PID
    read -r line <&"${TRACER[0]}"
    [ "$line" = ready ] || { echo "tracer did not start: $line" >&2; exit 1; }
    sleep 2  # let the reader JVM's start-up work (JIT, class loading) pass before measuring
}
# Per-program averages of the tracer's programs since attach: the programs whose fds the tracer
# JVM holds (prog_id in /proc/<pid>/fdinfo; this bpftool cannot list pids), as other helpers'
# tests may load tracers of their own.
bpf_stats() {
    local ids
    ids=$(grep -hs '^prog_id:' /proc/"$1"/fdinfo/* | awk '{print $2}' | sort -u | tr '\n' ' ')
    bpftool -j prog show | python3 -c '
import json, sys
reqs, ids = int(sys.argv[1]), set(int(i) for i in sys.argv[2].split())
progs = [p for p in json.load(sys.stdin) if p["id"] in ids]
total = 0
for p in sorted(progs, key=lambda p: p["name"]):
    n, t = p.get("run_cnt", 0), p.get("run_time_ns", 0)
    total += t
    if n:
        print("    bpf %-16s run_cnt %9d  %6.0f ns/run" % (p["name"], n, t / n))
print("    bpf total %.2f us per request (all traced processes, h2load included, since attach)" % (total / 1e3 / reqs))
' "$2" "$ids"
}
# The second tracer of a PAIR_CP run, fed through a fifo (bash runs one coproc at a time).
start_pair() {
    rm -f "$WORK/pair.in" "$WORK/pair.out"
    mkfifo "$WORK/pair.in"
    # shellcheck disable=SC2086
    (close_inherited_fds; exec java ${TRACER_OPTS:-} -cp "$PAIR_CP:$JAR" io.periscope.bench.ebpf.TracerRunner) \
        <"$WORK/pair.in" >"$WORK/pair.out" 2>&1 &
    PAIR_PID=$!
    exec {PAIR_FD}>"$WORK/pair.in"
    for _ in $(seq 600); do grep -qs '^ready' "$WORK/pair.out" && return; sleep 0.1; done
    echo "paired tracer did not start: $(cat "$WORK/pair.out")" >&2; exit 1
}
stop_pair() {
    exec {PAIR_FD}>&-
    wait "$PAIR_PID" 2>/dev/null || true
    PAIR_PID=""
    echo "    paired tracer: $(tail -1 "$WORK/pair.out")"
}
stop_tracer() {
    exec {TRACER[1]}>&-
    read -r summary <&"${TRACER[0]}" || summary="(no summary)"
    wait "$TRACER_PID" 2>/dev/null || true
    TRACER_PID=""
    echo "    tracer: $summary"
}

echo "tracer-overhead: load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "tracer-overhead: nginx 1 worker, h2load --h1 -c $CLIENTS --rps $RPS, ${SECONDS_PER_PHASE}s per phase, $ROUNDS rounds"
base_sum=0; traced_sum=0
for round in $(seq "$ROUNDS"); do
    read -r reqs base _ <<<"$(phase)"
    echo "  round $round without tracer: $reqs requests, nginx $base us CPU/request"
    first=TRACER_CP
    if [ -n "${PAIR_CP:-}" ] && [ $((round % 2)) = 0 ]; then start_pair; first=PAIR_CP; fi
    start_tracer
    if [ -n "${PAIR_CP:-}" ] && [ -z "$PAIR_PID" ]; then start_pair; fi
    read -r reqs traced agent <<<"$(phase)"
    echo "  round $round with tracer:    $reqs requests, nginx $traced us CPU/request (agent reader $agent us/request)"
    [ -n "${PAIR_CP:-}" ] && echo "    attached first: $first; tracer (TRACER_CP):"
    [ -n "$STATS_BEFORE" ] && bpf_stats "$TRACER_PID" "$reqs"
    if [ -n "${PAIR_CP:-}" ]; then
        echo "    paired tracer (PAIR_CP):"
        [ -n "$STATS_BEFORE" ] && bpf_stats "$PAIR_PID" "$reqs"
        stop_pair
    fi
    stop_tracer
    base_sum=$(awk -v a="$base_sum" -v b="$base" 'BEGIN { print a + b }')
    traced_sum=$(awk -v a="$traced_sum" -v b="$traced" 'BEGIN { print a + b }')
done
echo "tracer-overhead: load average $(cut -d' ' -f1-3 /proc/loadavg) at end"
awk -v b="$base_sum" -v t="$traced_sum" -v n="$ROUNDS" 'BEGIN {
    printf "result: nginx CPU/request without tracer %.2f us, with tracer %.2f us, delta %+.2f us\n", b / n, t / n, (t - b) / n }'
