#!/usr/bin/env bash
# Scenario B (nginx): one nginx worker pinned to CPU 0, h2load --h1 pinned to CPU 1 at fixed
# request rates, agent off / on with full HTTP/1 parsing / on with shallow parsing. The agent
# exports over OTLP/gRPC to a counting sink (a separate JVM pinned to CPU 1 with h2load), as it is
# deployed at scale, so the scenario also checks end to end that every span made was received.
# One agent start serves every "on" phase (full and shallow are switched by a config reload,
# SIGHUP), and the "off" baseline is measured both before and after the agent block, so both
# sides of every ratio see the same machine. Every measured window is preceded by a warm-up at
# the same rate and mode (WARMUP_S, 30 s; the agent's JIT dominates shorter runs), so the
# numbers are steady state; --quick shortens the warm-up to 5 s and is a smoke run, not steady
# state. report.py computes R and draws the chart from the raw numbers.
#
# usage: bench/scenarios/nginx.sh [--quick]
#   RATES="2000 5000 10000 20000 max"  total req/s per phase ("max": no --rps, nginx saturated)
#   PHASE_S=10 (measured window)  WARMUP_S=30 (agent phases)  WARMUP_OFF_S=5  CLIENTS=20
set -euo pipefail
SCENARIO=nginx
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
require_cmds nginx h2load taskset curl jq python3
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (nginx on CPU 0, h2load on CPU 1)"

if [ "$QUICK" = 1 ]; then
    RATES=${RATES:-"5000 max"}; PHASE_S=${PHASE_S:-4}; WARMUP_S=${WARMUP_S:-5}; WARMUP_OFF_S=${WARMUP_OFF_S:-1}
else
    RATES=${RATES:-"2000 5000 10000 20000 max"}; PHASE_S=${PHASE_S:-10}; WARMUP_S=${WARMUP_S:-30}
    WARMUP_OFF_S=${WARMUP_OFF_S:-5}
fi
CLIENTS=${CLIENTS:-20}
PORT=18601

nginx_start "$PORT" <<CONF
  server { listen 127.0.0.1:$PORT; location / { default_type text/plain; return 200 "hello periscope\n"; } }
CONF
curl -sf -o /dev/null "http://127.0.0.1:$PORT/" || die "nginx did not answer on port $PORT"

# The agent's default config (traces every process, so h2load's client side too) except the
# exporter (OTLP/gRPC to the sink on loopback, set by agent_start; file exporter off), our metrics
# port, the socket tracer limited to nginx's port (filtered in the kernel: on a shared machine
# every other job's socket traffic would otherwise become spans and agent CPU here), and
# packet capture on the default-route interface only: the default '*' also grabs other jobs'
# short-lived veths, and one vanishing between listing and bind stops the agent at start.
# The resource guard is off: past its 1-core budget it switches parsing to shallow (and further
# to sampling, no payload), which would turn the "full" phases into something else.
IFACE=$(ip route show default | awk '{for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit }}')
write_config() {
    agent_config "$WORK/agent.yaml" <<YAML
ebpf:
  ports:
    allow: [$PORT]
limits:
  guard: {enabled: false}
packet:
  interfaces: [${IFACE:-eth0}]
protocols:
  http1: {enabled: true, shallow: $1, ports: [80, 8080, $PORT], timeout: 30s}
YAML
}

# SIGHUP, then wait for the agent to say the parse shards took the new config.
agent_reload() {
    local before
    before=$(grep -c 'applied reloaded config' "$AGENT_LOG" || true)
    kill -HUP "$AGENT_PID"
    for _ in $(seq 100); do
        [ "$(grep -c 'applied reloaded config' "$AGENT_LOG" || true)" -gt "$before" ] && { sleep 0.3; return 0; }
        sleep 0.1
    done
    die "the agent did not apply the reloaded config within 10 s"
}

# One load phase at a rate in a mode: a warm-up at the same rate (not measured), then the
# measured window; appends its record. Agent counters are read with the export pipeline drained
# (agent_drain), so spans made, spans received by the sink and the agent's CPU all cover the
# same spans, the window's export work included.
phase() {
    local rate=$1 mode=$2 out rps_opt=() n0 n1 a0=0 a1=0 k0=0 k1=0 s0=0 s1=0 load log="$WORK/h2load.log" warm
    if [ "$rate" != max ]; then rps_opt=(--rps $(( (rate + CLIENTS - 1) / CLIENTS ))); fi
    warm=$WARMUP_OFF_S; [ "$mode" = off ] || warm=$WARMUP_S
    if [ "$warm" -gt 0 ]; then
        taskset -c 1 h2load --h1 -c "$CLIENTS" "${rps_opt[@]}" -D "$warm" "http://127.0.0.1:$PORT/" >/dev/null 2>&1 || true
    fi
    load=$(load1)
    if [ -n "$AGENT_PID" ]; then
        agent_drain "$WORK/m0" || say "warning: export not drained after the warm-up"
        s0=$(sink_spans); a0=$(proc_ticks "$AGENT_PID"); k0=$(proc_ticks "$SINK_PID")
    fi
    n0=$(tree_ticks "$NGINX_PID")
    # `times` in the subshell gives h2load's own CPU (its children's) after it exits.
    out=$( (taskset -c 1 h2load --h1 -c "$CLIENTS" "${rps_opt[@]}" -D "$PHASE_S" --log-file="$log" \
        "http://127.0.0.1:$PORT/" 2>&1; times) ) || true
    n1=$(tree_ticks "$NGINX_PID")
    local spans=0 lost=0 dropped=0 export_dropped=0 guard=0 rss=0 hwm=0 drained=true received=0
    if [ -n "$AGENT_PID" ]; then
        agent_drain "$WORK/m1" || drained=false
        a1=$(proc_ticks "$AGENT_PID"); k1=$(proc_ticks "$SINK_PID"); s1=$(sink_spans)
        received=$((s1 - s0))
        spans=$(( $(metric "$WORK/m1" periscope_spans_offered_total) - $(metric "$WORK/m0" periscope_spans_offered_total) ))
        lost=$(( $(metric "$WORK/m1" periscope_ebpf_lost_events_total) - $(metric "$WORK/m0" periscope_ebpf_lost_events_total) ))
        export_dropped=$(( $(metric "$WORK/m1" periscope_pipeline_dropped_total 'stage="export_queue"') \
            - $(metric "$WORK/m0" periscope_pipeline_dropped_total 'stage="export_queue"') ))
        dropped=$(( $(metric "$WORK/m1" periscope_pipeline_dropped_total) - $(metric "$WORK/m0" periscope_pipeline_dropped_total) \
            - export_dropped ))
        guard=$(metric "$WORK/m1" periscope_guard_level)
        rss=$(proc_rss_kb "$AGENT_PID"); hwm=$(proc_hwm_kb "$AGENT_PID")
    fi
    local succeeded failed elapsed h2cpu p50 p90 p99
    succeeded=$(echo "$out" | awk '/^requests:/ {print $8}')
    failed=$(echo "$out" | awk '/^requests:/ {print $10 + $12 + $14}')
    elapsed=$(echo "$out" | awk '/^finished in/ {sub(/s,$/, "", $3); print $3}')
    h2cpu=$(echo "$out" | tail -1 | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); sub(/s/, "", p[2]); s += p[1] * 60 + p[2] } print s }')
    read -r p50 p90 p99 < <(cut -f3 "$log" 2>/dev/null | sort -n | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "0 0 0"; exit } print v[int(NR * 0.5 + 0.5)], v[int(NR * 0.9 + 0.5)], v[int(NR * 0.99 + 0.5)] }')
    rm -f "$log"
    bench_record --arg rate "$rate" --arg mode "$mode" --argjson duration_s "${elapsed:-0}" \
        --argjson requests "${succeeded:-0}" --argjson failed "${failed:-0}" \
        --argjson nginx_cpu_s "$(ticks_to_s $((n1 - n0)))" --argjson h2load_cpu_s "${h2cpu:-0}" \
        --argjson p50_us "$p50" --argjson p90_us "$p90" --argjson p99_us "$p99" \
        --argjson agent_cpu_s "$(ticks_to_s $((a1 - a0)))" --argjson agent_rss_kb "$rss" --argjson agent_hwm_kb "$hwm" \
        --argjson spans "$spans" --argjson lost_events "$lost" --argjson dropped "$dropped" \
        --argjson export_dropped_before "$( [ -n "$AGENT_PID" ] && metric "$WORK/m0" periscope_pipeline_dropped_total 'stage="export_queue"' || echo 0)" \
        --argjson export_dropped "$export_dropped" --argjson sink_spans "$received" --argjson drained "$drained" \
        --argjson sink_cpu_s "$(ticks_to_s $((k1 - k0)))" --argjson warmup_s "$warm" \
        --argjson guard_level "$guard" --argjson load1 "$load" --argjson clients "$CLIENTS" \
        '{rate: $rate, mode: $mode, clients: $clients, warmup_s: $warmup_s, duration_s: $duration_s, requests: $requests,
          failed: $failed, nginx_cpu_s: $nginx_cpu_s, h2load_cpu_s: $h2load_cpu_s, p50_us: $p50_us, p90_us: $p90_us,
          p99_us: $p99_us, agent_cpu_s: $agent_cpu_s, agent_rss_kb: $agent_rss_kb, agent_hwm_kb: $agent_hwm_kb,
          spans: $spans, lost_events: $lost_events, dropped: $dropped, export_dropped: $export_dropped, export_dropped_before: $export_dropped_before,
          sink_spans: $sink_spans, drained: $drained, sink_cpu_s: $sink_cpu_s, guard_level: $guard_level, load1: $load1}'
    say "$(printf '%-6s %-7s %8s req in %5ss  nginx %6ss  agent %6ss  spans %8s  sink %8s  lost %s  load %s' \
        "$rate" "$mode" "${succeeded:-?}" "${elapsed:-?}" "$(ticks_to_s $((n1 - n0)))" "$(ticks_to_s $((a1 - a0)))" \
        "$spans" "$received" "$lost" "$load")"
}

# Warm nginx and the page cache once so the first measured phase is not special.
taskset -c 1 h2load --h1 -c "$CLIENTS" -D 1 "http://127.0.0.1:$PORT/" >/dev/null 2>&1 || true

for rate in $RATES; do phase "$rate" off; done
write_config false
agent_start "$WORK/agent.yaml"
# A few seconds of traffic first, not measured: the JIT compiles the agent's parse and export
# paths here instead of inside the first phase (which otherwise shows the highest agent CPU).
taskset -c 1 h2load --h1 -c "$CLIENTS" --rps $((2000 / CLIENTS)) -D 3 "http://127.0.0.1:$PORT/" >/dev/null 2>&1 || true
sleep 1
# The agent's CPU with no traffic at all (timers, guard, idle ring waits), so the report can
# also give R above that floor: what the requests themselves cost.
IDLE_S=$(( QUICK == 1 ? 3 : 6 ))
i0=$(proc_ticks "$AGENT_PID"); sleep "$IDLE_S"; i1=$(proc_ticks "$AGENT_PID")
bench_record --argjson duration_s "$IDLE_S" --argjson agent_cpu_s "$(ticks_to_s $((i1 - i0)))" \
    --argjson agent_rss_kb "$(proc_rss_kb "$AGENT_PID")" --argjson load1 "$(load1)" \
    '{rate: "idle", mode: "idle", duration_s: $duration_s, agent_cpu_s: $agent_cpu_s, agent_rss_kb: $agent_rss_kb,
      load1: $load1, warmup_s: 3}'
say "agent idle: $(ticks_to_s $((i1 - i0)))s CPU in ${IDLE_S}s"
for rate in $RATES; do
    phase "$rate" full
    write_config true; agent_reload
    phase "$rate" shallow
    write_config false; agent_reload
done
agent_stop_e2e
for rate in $RATES; do phase "$rate" off; done
bench_finish
