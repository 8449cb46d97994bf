#!/usr/bin/env bash
# Scenario D (connections): hold N concurrent idle TCP connections from netns psba to netns
# psbb (through veth + bridge) while the agent captures on psba0; report the agent's RSS before
# and while holding, its active flows, and RSS growth per flow. Connections open at a bounded
# rate (a slow new-connection rate, as in the reference) over 4 server ports, so one client
# address gets past 64K ephemeral ports.
#
# usage: bench/scenarios/connections.sh [--quick]     CONNECTIONS=122000 RATE=2500 HOLD_S=10
# EBPF_ALLOW=18199 keeps the syscall tracer off the holders' ports (flow path alone);
# AGENT_SETS="key=value ..." passes --set options to the agent (e.g. flow_map.capacity=1048576
# packet.block_count=64 for 1M connections).
set -euo pipefail
SCENARIO=connections
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
# Another scenario may run on the shared machine at the same time: PORTS_BASE moves the agent's
# metrics port and the sink's ports (base, base+1, base+2) out of the default 18690-18692.
if [ -n "${PORTS_BASE:-}" ]; then
    AGENT_METRICS_PORT=$PORTS_BASE; SINK_GRPC_PORT=$((PORTS_BASE + 1)); SINK_HTTP_PORT=$((PORTS_BASE + 2))
fi
require_cmds ip java curl jq python3
[ -f "$BENCH_JAR" ] || die "$BENCH_JAR missing: mvn -q -pl bench -am package -DskipTests"
if [ "$QUICK" = 1 ]; then
    CONNECTIONS=${CONNECTIONS:-15000}; RATE=${RATE:-2000}; HOLD_S=${HOLD_S:-5}
else
    CONNECTIONS=${CONNECTIONS:-122000}; RATE=${RATE:-2500}; HOLD_S=${HOLD_S:-10}
fi
# The fd hard limit here may be low (20000 without CAP_SYS_RESOURCE), so the connections are
# spread over shards: one server process (one port) and one client process per shard.
FDS_PER_SHARD=$(( $(ulimit -Hn) - 1000 ))
ulimit -n "$(ulimit -Hn)"
SHARDS=$(( (CONNECTIONS + FDS_PER_SHARD - 1) / FDS_PER_SHARD ))
# The holder servers listen inside netns psbb (its own port space), on 18630 + shard.
[ "$SHARDS" -le 60 ] || die "needs $SHARDS shards of $FDS_PER_SHARD connections (fd hard limit $(ulimit -Hn)); ports 18630-18689 give 60"
PER_SHARD=$(( (CONNECTIONS + SHARDS - 1) / SHARDS ))

bench_on_exit netns_down
netns_up
ip netns exec psba sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
ip netns exec psbb sysctl -qw net.core.somaxconn=4096

# Every holder reads this fifo and exits at its end of file, i.e. when this script closes it.
mkfifo "$WORK/hold"
exec {HOLD}<>"$WORK/hold"
bench_on_exit "exec {HOLD}>&-; sleep 1; for p in \$HOLDER_PIDS; do kill \$p; done; wait"
HOLDER_PIDS=""
# Niced: at 1M connections ~100 holder JVMs would otherwise starve the agent's packet reader
# (kernel ring drops during the open storm); the agent runs at normal priority.
HOLDER=(nice -n 10 java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$BENCH_JAR" io.periscope.bench.scenario.ConnectionHolder)
for s in $(seq 0 $((SHARDS - 1))); do
    ip netns exec psbb "${HOLDER[@]}" server 10.202.0.2 $((18630 + s)) < "$WORK/hold" > "$WORK/server-$s.log" 2>&1 &
    HOLDER_PIDS="$HOLDER_PIDS $!"
done
await_line() {  # file, pattern, seconds
    local i
    for i in $(seq $(( $3 * 10 ))); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
for s in $(seq 0 $((SHARDS - 1))); do
    await_line "$WORK/server-$s.log" '^listening' 60 || die "holder server $s did not start: $(cat "$WORK/server-$s.log")"
done

agent_config "$WORK/agent.yaml" <<YAML
ebpf:
  ports:
    allow: [${EBPF_ALLOW:-18630-18689}]
packet:
  interfaces: [psba0]
YAML
sets=()
# The connections must all fit and none may expire while the others open: above the default
# 262144-flow table, a capacity with 2% room (any size works); when opening takes longer
# than the 5 min established timeout (1M at 2500/s: ~400 s), a timeout past the whole run (idle
# connections opened first would otherwise be exported as timed out, not held).
if [ "$CONNECTIONS" -gt 249000 ]; then
    sets+=(--set "flow_map.capacity=$(( CONNECTIONS + CONNECTIONS / 50 + 1024 ))")
fi
run_s=$(( CONNECTIONS / RATE * 2 + 60 + HOLD_S ))
[ "$run_s" -gt 240 ] && sets+=(--set "flow_map.timeouts.established=$(( run_s + 300 ))s")
for kv in ${AGENT_SETS:-}; do sets+=(--set "$kv"); done
agent_start "$WORK/agent.yaml" "${sets[@]}"
agent_scrape "$WORK/m0"
rss_before=$(proc_rss_kb "$AGENT_PID")
if [ -n "${DIAG_DIR:-}" ]; then
    mkdir -p "$DIAG_DIR"
    cp "/proc/$AGENT_PID/smaps" "$DIAG_DIR/smaps.before" 2>/dev/null || true
    jcmd "$AGENT_PID" VM.native_memory baseline > /dev/null 2>&1 || true
fi
load=$(load1)

say "opening $CONNECTIONS connections in $SHARDS shard(s) at up to $RATE/s in all"
for s in $(seq 0 $((SHARDS - 1))); do
    ip netns exec psba "${HOLDER[@]}" client 10.202.0.2 $((18630 + s)) "$PER_SHARD" $(( (RATE + SHARDS - 1) / SHARDS )) \
        < "$WORK/hold" > "$WORK/client-$s.log" 2>&1 &
    HOLDER_PIDS="$HOLDER_PIDS $!"
done
# Bounded: the pacing alone takes CONNECTIONS/RATE seconds; give it twice that plus a minute.
limit=$(( CONNECTIONS / RATE * 2 + 60 ))
connected=0; open_ms=0; failure=""
for s in $(seq 0 $((SHARDS - 1))); do
    if await_line "$WORK/client-$s.log" '^(holding|failed)' "$limit"; then
        read -r state n ms rest < <(grep -E '^(holding|failed)' "$WORK/client-$s.log")
        connected=$((connected + n)); [ "$ms" -gt "$open_ms" ] && open_ms=$ms
        [ "$state" = failed ] && failure="$failure shard $s after $n: $rest;"
    else
        failure="$failure shard $s did not finish in ${limit}s;"
    fi
done
[ -n "$failure" ] && say "client failures:$failure"
say "holding $connected connections; waiting ${HOLD_S}s for the agent to settle"
sleep "$HOLD_S"
agent_scrape "$WORK/m1"
if [ -n "${DIAG_DIR:-}" ]; then
    # Where the agent's memory is (start the agent with PERISCOPE_JAVA_OPTS=-XX:NativeMemoryTracking=summary).
    mkdir -p "$DIAG_DIR"
    cat "/proc/$AGENT_PID/smaps_rollup" > "$DIAG_DIR/smaps_rollup" 2>&1 || true
    jcmd "$AGENT_PID" VM.native_memory summary > "$DIAG_DIR/nmt.txt" 2>&1 || true
    jcmd "$AGENT_PID" VM.native_memory summary.diff > "$DIAG_DIR/nmt-diff.txt" 2>&1 || true
    cp "/proc/$AGENT_PID/smaps" "$DIAG_DIR/smaps.after" 2>/dev/null || true
    jcmd "$AGENT_PID" GC.heap_info > "$DIAG_DIR/heap_info.txt" 2>&1 || true
    jcmd "$AGENT_PID" GC.class_histogram > "$DIAG_DIR/histogram.txt" 2>&1 || true
    cp "$WORK/m1" "$DIAG_DIR/metrics.txt" 2>/dev/null || true
fi
bench_record --argjson target_connections "$CONNECTIONS" --argjson connected "${connected:-0}" \
    --argjson open_s "$(awk -v m="${open_ms:-0}" 'BEGIN { print m / 1000 }')" --arg failure "$failure" --argjson shards "$SHARDS" \
    --argjson rate "$RATE" --argjson flows_active "$(metric "$WORK/m1" periscope_flows_active)" \
    --argjson agent_rss_before_kb "$rss_before" --argjson agent_rss_kb "$(proc_rss_kb "$AGENT_PID")" \
    --argjson agent_hwm_kb "$(proc_hwm_kb "$AGENT_PID")" \
    --argjson agent_heap_used_bytes "$(metric "$WORK/m1" periscope_jvm_heap_used_bytes)" \
    --argjson packets "$(( $(metric "$WORK/m1" periscope_packets_total) - $(metric "$WORK/m0" periscope_packets_total) ))" \
    --argjson agent_kernel_drops "$(( $(metric "$WORK/m1" periscope_packet_kernel_drops_total) - $(metric "$WORK/m0" periscope_packet_kernel_drops_total) ))" \
    --argjson flows_evicted "$(metric "$WORK/m1" periscope_flows_evicted_total)" \
    --argjson flows_dropped "$(metric "$WORK/m1" periscope_flows_dropped_total)" --argjson load1 "$load" \
    '{target_connections: $target_connections, connected: $connected, shards: $shards, open_s: $open_s, failure: $failure,
      rate: $rate, flows_active: $flows_active, agent_rss_before_kb: $agent_rss_before_kb,
      agent_rss_kb: $agent_rss_kb, agent_hwm_kb: $agent_hwm_kb, agent_heap_used_bytes: $agent_heap_used_bytes,
      packets: $packets, agent_kernel_drops: $agent_kernel_drops, flows_evicted: $flows_evicted,
      flows_dropped: $flows_dropped, load1: $load1}'
bench_finish
