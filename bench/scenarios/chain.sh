#!/usr/bin/env bash
# Scenario A (chain): a multi-hop request path on loopback. h2load --h1 (CPU 1) -> nginx reverse
# proxy -> a Java backend (io.periscope.bench.chain.ChainBackend) that for every request does a
# redis GET and a postgresql SELECT; nginx, the backend, redis-server and postgres share CPU 0.
# At fixed rates, agent off / on (default config, full parsing, OTLP/gRPC to the counting sink on
# CPU 1) / off again: spans per transaction (by process, kind and protocol, from the sink), P50/P90
# latency and the CPU of the whole chain with and without the agent. Every measured window is
# preceded by a warm-up at the same rate (WARMUP_S, 30 s: the backend and the agent are JVMs);
# --quick shortens it to 5 s and is a smoke run, not steady state.
#
# usage: bench/scenarios/chain.sh [--quick]
#   RATES="500 1000 2000"  PHASE_S=10 (measured window)  WARMUP_S=30  CLIENTS=20  THREADS=16 (backend)
set -euo pipefail
SCENARIO=chain
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
PG_BIN=/usr/lib/postgresql/15/bin
require_cmds nginx h2load taskset curl jq python3 redis-server runuser java
[ -x "$PG_BIN/postgres" ] || die "$PG_BIN/postgres missing: apt-get install postgresql (in BENCH_PKGS)"
[ -f "$BENCH_JAR" ] || die "$BENCH_JAR missing: ./periscope build"
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (servers on CPU 0, h2load and the sink on CPU 1)"

if [ "$QUICK" = 1 ]; then
    RATES=${RATES:-"500"}; PHASE_S=${PHASE_S:-5}; WARMUP_S=${WARMUP_S:-5}
else
    RATES=${RATES:-"500 1000 2000"}; PHASE_S=${PHASE_S:-10}; WARMUP_S=${WARMUP_S:-30}
fi
CLIENTS=${CLIENTS:-20}
THREADS=${THREADS:-16}
NGINX_PORT=18610
BACKEND_PORT=18611
REDIS_PORT=18612
PG_PORT=18613

# --- redis-server: no persistence, its own dir.
mkdir -p "$WORK/redis"
taskset -c 0 redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/redis" \
    --daemonize no > "$WORK/redis/redis.log" 2>&1 &
REDIS_PID=$!
bench_on_exit "kill $REDIS_PID; wait $REDIS_PID"

# --- postgresql: a throwaway cluster run as the postgres user (initdb refuses root), under /tmp
# because that user must reach it; trust auth on loopback, fsync off.
PG_DIR=$(mktemp -d /tmp/psb-pg.XXXXXX)
bench_on_exit "rm -rf $PG_DIR"
chown postgres:postgres "$PG_DIR"
runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --no-sync -E UTF8 \
    > "$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
taskset -c 0 runuser -u postgres -- "$PG_BIN/postgres" -D "$PG_DIR/data" -p "$PG_PORT" -k "$PG_DIR" \
    -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100 > "$WORK/postgres.log" 2>&1 &
PG_RUNUSER_PID=$!
bench_on_exit "kill $PG_RUNUSER_PID; kill \$(head -1 $PG_DIR/data/postmaster.pid); wait $PG_RUNUSER_PID"

wait_port() {
    local port=$1 what=$2 i
    for i in $(seq 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    die "$what did not listen on port $port within 30 s"
}
wait_port "$REDIS_PORT" redis-server
wait_port "$PG_PORT" postgres
PG_PID=$(head -1 "$PG_DIR/data/postmaster.pid")

# --- the backend: a JVM on CPU 0 with its servers.
taskset -c 0 java -Xmx256m -cp "$BENCH_JAR" io.periscope.bench.chain.ChainBackend \
    "$BACKEND_PORT" "$REDIS_PORT" "$PG_PORT" "$THREADS" > "$WORK/backend.log" 2>&1 &
BACKEND_PID=$!
bench_on_exit "kill $BACKEND_PID; wait $BACKEND_PID"
for _ in $(seq 300); do
    grep -q '^listening' "$WORK/backend.log" && break
    kill -0 "$BACKEND_PID" 2>/dev/null || { cat "$WORK/backend.log" >&2; die "backend exited at start"; }
    sleep 0.1
done
grep -q '^listening' "$WORK/backend.log" || die "backend not listening after 30 s"

# --- nginx: one worker, reverse proxy with keep-alive connections to the backend.
nginx_start "$NGINX_PORT" <<CONF
  upstream backend { server 127.0.0.1:$BACKEND_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
CONF
body=$(curl -sf "http://127.0.0.1:$NGINX_PORT/") || die "the chain did not answer through nginx on port $NGINX_PORT"
[ "$body" = "value-from-redis value-from-postgresql" ] || die "the chain answered '$body'"

# CPU ticks of the whole chain, split by part: nginx (master + worker), backend JVM, redis,
# postgres (postmaster + its backends).
chain_ticks() { echo "$(tree_ticks "$NGINX_PID") $(proc_ticks "$BACKEND_PID") $(proc_ticks "$REDIS_PID") $(tree_ticks "$PG_PID")"; }

# The agent: default config, exporter to the sink (agent_start), the socket tracer limited to the
# chain's ports (other jobs on this machine make spans too), the chain's ports as protocol hints,
# packet capture on the default-route interface only (see nginx.sh), guard off (its 1-core budget
# would turn full parsing into shallow/sampled).
IFACE=$(ip route show default | awk '{for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit }}')
agent_config "$WORK/agent.yaml" <<YAML
ebpf:
  ports:
    allow: [$NGINX_PORT, $BACKEND_PORT, $REDIS_PORT, $PG_PORT]
limits:
  guard: {enabled: false}
packet:
  interfaces: [${IFACE:-eth0}]
protocols:
  http1: {enabled: true, shallow: false, ports: [80, 8080, $NGINX_PORT, $BACKEND_PORT], timeout: 30s}
  redis: {enabled: true, shallow: false, ports: [6379, $REDIS_PORT], timeout: 30s}
  postgresql: {enabled: true, shallow: false, ports: [5432, $PG_PORT], timeout: 30s}
YAML

# New connections on every hop, so the agent (when on) sees each from its first byte: the
# backend reconnects to redis and postgresql, nginx (reload: new worker) to the backend.
fresh_connections() {
    curl -sf -o /dev/null "http://127.0.0.1:$BACKEND_PORT/reset" || die "backend /reset failed"
    kill -HUP "$NGINX_PID"
    sleep 1
}

phase() {
    local rate=$1 mode=$2 out log="$WORK/h2load.log" c0 c1 a0=0 a1=0 k0=0 k1=0 load b0 b1
    local rps_opt=(--rps $(( (rate + CLIENTS - 1) / CLIENTS )))
    taskset -c 1 h2load --h1 -c "$CLIENTS" "${rps_opt[@]}" -D "$WARMUP_S" "http://127.0.0.1:$NGINX_PORT/" \
        >/dev/null 2>&1 || true
    load=$(load1)
    local sink0='{}' sink1='{}'
    if [ -n "$AGENT_PID" ]; then
        agent_drain "$WORK/m0" || say "warning: export not drained after the warm-up"
        sink0=$(curl -s --max-time 5 "http://127.0.0.1:$SINK_HTTP_PORT/counts")
        a0=$(proc_ticks "$AGENT_PID"); k0=$(proc_ticks "$SINK_PID")
    fi
    b0=$(curl -s "http://127.0.0.1:$BACKEND_PORT/stats" | jq .failed)
    read -r -a c0 < <(chain_ticks)
    out=$( (taskset -c 1 h2load --h1 -c "$CLIENTS" "${rps_opt[@]}" -D "$PHASE_S" --log-file="$log" \
        "http://127.0.0.1:$NGINX_PORT/" 2>&1; times) ) || true
    read -r -a c1 < <(chain_ticks)
    b1=$(curl -s "http://127.0.0.1:$BACKEND_PORT/stats" | jq .failed)
    local spans=0 lost=0 dropped=0 export_dropped=0 rss=0 hwm=0 drained=true by_protocol='{}'
    if [ -n "$AGENT_PID" ]; then
        agent_drain "$WORK/m1" || drained=false
        a1=$(proc_ticks "$AGENT_PID"); k1=$(proc_ticks "$SINK_PID")
        sink1=$(curl -s --max-time 5 "http://127.0.0.1:$SINK_HTTP_PORT/counts")
        spans=$(( $(metric "$WORK/m1" periscope_spans_offered_total) - $(metric "$WORK/m0" periscope_spans_offered_total) ))
        lost=$(( $(metric "$WORK/m1" periscope_ebpf_lost_events_total) - $(metric "$WORK/m0" periscope_ebpf_lost_events_total) ))
        export_dropped=$(( $(metric "$WORK/m1" periscope_pipeline_dropped_total 'stage="export_queue"') \
            - $(metric "$WORK/m0" periscope_pipeline_dropped_total 'stage="export_queue"') ))
        dropped=$(( $(metric "$WORK/m1" periscope_pipeline_dropped_total) - $(metric "$WORK/m0" periscope_pipeline_dropped_total) \
            - export_dropped ))
        local p
        by_protocol=$(for p in http1 redis postgresql; do
            echo "$p $(( $(metric "$WORK/m1" periscope_request_logs_total "protocol=\"$p\"") \
                - $(metric "$WORK/m0" periscope_request_logs_total "protocol=\"$p\"") ))"
        done | jq -Rn '[inputs | split(" ") | {(.[0]): (.[1] | tonumber)}] | add')
        rss=$(proc_rss_kb "$AGENT_PID"); hwm=$(proc_hwm_kb "$AGENT_PID")
    fi
    local succeeded failed elapsed h2cpu p50 p90 p99
    succeeded=$(echo "$out" | awk '/^requests:/ {print $8}')
    failed=$(echo "$out" | awk '/^requests:/ {print $10 + $12 + $14}')
    # A 5xx from the chain still counts as a "succeeded" request to h2load: count them apart.
    local status5xx
    status5xx=$(echo "$out" | awk '/^status codes:/ {print $9}')
    elapsed=$(echo "$out" | awk '/^finished in/ {sub(/s,$/, "", $3); print $3}')
    h2cpu=$(echo "$out" | tail -1 | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); sub(/s/, "", p[2]); s += p[1] * 60 + p[2] } print s }')
    read -r p50 p90 p99 < <(cut -f3 "$log" 2>/dev/null | sort -n | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "0 0 0"; exit } print v[int(NR * 0.5 + 0.5)], v[int(NR * 0.9 + 0.5)], v[int(NR * 0.99 + 0.5)] }')
    rm -f "$log"
    bench_record --arg rate "$rate" --arg mode "$mode" --argjson duration_s "${elapsed:-0}" \
        --argjson requests "${succeeded:-0}" --argjson failed "${failed:-0}" --argjson status_5xx "${status5xx:-0}" \
        --argjson backend_failed "$(( ${b1:-0} - ${b0:-0} ))" \
        --argjson nginx_cpu_s "$(ticks_to_s $((c1[0] - c0[0])))" --argjson backend_cpu_s "$(ticks_to_s $((c1[1] - c0[1])))" \
        --argjson redis_cpu_s "$(ticks_to_s $((c1[2] - c0[2])))" --argjson postgres_cpu_s "$(ticks_to_s $((c1[3] - c0[3])))" \
        --argjson h2load_cpu_s "${h2cpu:-0}" --argjson p50_us "$p50" --argjson p90_us "$p90" --argjson p99_us "$p99" \
        --argjson agent_cpu_s "$(ticks_to_s $((a1 - a0)))" --argjson agent_rss_kb "$rss" --argjson agent_hwm_kb "$hwm" \
        --argjson sink_cpu_s "$(ticks_to_s $((k1 - k0)))" \
        --argjson spans "$spans" --argjson lost_events "$lost" --argjson dropped "$dropped" \
        --argjson export_dropped_before "$( [ -n "$AGENT_PID" ] && metric "$WORK/m0" periscope_pipeline_dropped_total 'stage="export_queue"' || echo 0)" \
        --argjson export_dropped "$export_dropped" --argjson drained "$drained" \
        --argjson request_logs_by_protocol "$by_protocol" --argjson sink0 "${sink0:-"{}"}" --argjson sink1 "${sink1:-"{}"}" \
        --argjson warmup_s "$WARMUP_S" --argjson load1 "$load" --argjson clients "$CLIENTS" \
        '{rate: $rate, mode: $mode, clients: $clients, warmup_s: $warmup_s, duration_s: $duration_s,
          requests: $requests, failed: $failed, status_5xx: $status_5xx, backend_failed: $backend_failed,
          nginx_cpu_s: $nginx_cpu_s, backend_cpu_s: $backend_cpu_s, redis_cpu_s: $redis_cpu_s,
          postgres_cpu_s: $postgres_cpu_s, h2load_cpu_s: $h2load_cpu_s, p50_us: $p50_us, p90_us: $p90_us,
          p99_us: $p99_us, agent_cpu_s: $agent_cpu_s, agent_rss_kb: $agent_rss_kb, agent_hwm_kb: $agent_hwm_kb,
          sink_cpu_s: $sink_cpu_s, spans: $spans, lost_events: $lost_events, dropped: $dropped,
          export_dropped: $export_dropped, export_dropped_before: $export_dropped_before, drained: $drained,
          request_logs_by_protocol: $request_logs_by_protocol,
          sink_spans: (($sink1.spans // 0) - ($sink0.spans // 0)),
          sink_by_kind: (($sink1.by_kind // {}) as $b | ($sink0.by_kind // {}) as $a
                         | reduce ($b | keys[]) as $k ({}; .[$k] = $b[$k] - ($a[$k] // 0))),
          load1: $load1}'
    say "$(printf '%-5s %-4s %7s req in %5ss  P50 %6sus  chain CPU %6ss  agent %6ss  spans %7s  lost %s  load %s' \
        "$rate" "$mode" "${succeeded:-?}" "${elapsed:-?}" "$p50" \
        "$(ticks_to_s $(( c1[0] + c1[1] + c1[2] + c1[3] - c0[0] - c0[1] - c0[2] - c0[3] )))" \
        "$(ticks_to_s $((a1 - a0)))" "$spans" "$lost" "$load")"
}

for rate in $RATES; do phase "$rate" off; done
agent_start "$WORK/agent.yaml"
fresh_connections
for rate in $RATES; do phase "$rate" on; done
agent_stop_e2e
fresh_connections
for rate in $RATES; do phase "$rate" off; done
bench_finish
