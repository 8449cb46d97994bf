#!/usr/bin/env bash
# Scenario E (throughput): one iperf3 TCP stream as fast as it goes from netns psba to netns
# psbb (veth + bridge); phases alternate agent off / on within one run so the throughput cost is
# a same-run comparison. The agent runs its default config except packet.interfaces [psba0], so
# it captures every packet of the stream, and the socket tracer limited to iperf3's port (it
# sees iperf3's syscalls; other jobs' socket traffic on this machine is filtered in the kernel).
#
# usage: bench/scenarios/throughput.sh [--quick]     PHASE_S=20 ROUNDS=2
set -euo pipefail
SCENARIO=throughput
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
require_cmds ip iperf3 curl jq python3
if [ "$QUICK" = 1 ]; then PHASE_S=${PHASE_S:-8}; ROUNDS=${ROUNDS:-1}; else PHASE_S=${PHASE_S:-20}; ROUNDS=${ROUNDS:-2}; fi
PORT=18640

bench_on_exit netns_down
netns_up
ip netns exec psbb iperf3 -s -p "$PORT" > "$WORK/iperf3-server.log" 2>&1 &
IPERF_PID=$!
bench_on_exit "kill $IPERF_PID; wait $IPERF_PID"
sleep 0.5

agent_config "$WORK/agent.yaml" <<YAML
ebpf:
  ports:
    allow: [$PORT]
packet:
  interfaces: [psba0]
YAML

phase() {
    local mode=$1 load a0=0 a1=0 gbps packets=0 drops=0 spans=0 rss=0
    load=$(load1)
    if [ -n "$AGENT_PID" ]; then agent_scrape "$WORK/m0"; a0=$(proc_ticks "$AGENT_PID"); fi
    ip netns exec psba iperf3 -c 10.202.0.2 -p "$PORT" -t "$PHASE_S" -J > "$WORK/iperf3.json" 2>&1 || true
    gbps=$(jq '.end.sum_received.bits_per_second / 1e9' "$WORK/iperf3.json" 2>/dev/null || echo 0)
    if [ -n "$AGENT_PID" ]; then
        a1=$(proc_ticks "$AGENT_PID"); sleep 0.5; agent_scrape "$WORK/m1"
        packets=$(( $(metric "$WORK/m1" periscope_packets_total) - $(metric "$WORK/m0" periscope_packets_total) ))
        drops=$(( $(metric "$WORK/m1" periscope_packet_kernel_drops_total) - $(metric "$WORK/m0" periscope_packet_kernel_drops_total) ))
        spans=$(( $(metric "$WORK/m1" periscope_spans_offered_total) - $(metric "$WORK/m0" periscope_spans_offered_total) ))
        rss=$(proc_rss_kb "$AGENT_PID")
    fi
    bench_record --arg mode "$mode" --argjson duration_s "$PHASE_S" --argjson gbps "${gbps:-0}" \
        --argjson agent_cpu_s "$(ticks_to_s $((a1 - a0)))" --argjson agent_rss_kb "$rss" \
        --argjson agent_packets "$packets" --argjson agent_kernel_drops "$drops" --argjson spans "$spans" \
        --argjson load1 "$load" \
        '{mode: $mode, duration_s: $duration_s, gbps: $gbps, agent_cpu_s: $agent_cpu_s, agent_rss_kb: $agent_rss_kb,
          agent_packets: $agent_packets, agent_kernel_drops: $agent_kernel_drops, spans: $spans, load1: $load1}'
    say "$mode: $gbps Gbit/s, agent $(ticks_to_s $((a1 - a0)))s CPU, $packets packets, drops $drops, load $load"
}

for _ in $(seq "$ROUNDS"); do
    phase off
    agent_start "$WORK/agent.yaml"
    phase on
    agent_stop
done
phase off
bench_finish
