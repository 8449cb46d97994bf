#!/usr/bin/env bash
# Scenario F (packets): a UDP flood of small packets (iperf3 -u -l 16: 60-byte frames) from
# netns psba to netns psbb over veth + bridge. The agent captures on the host-side veth psba0
# and `tcpdump -w /dev/null` captures the same interface at the same time, so both pay for the
# same packets on the same machine: CPU per packet each, their ratio, and kernel drop counts.
# The socket tracer is limited to an unused port (filtered in the kernel) so only the packet
# paths are compared, and other jobs' socket traffic on this machine does not count as agent CPU.
#
# usage: bench/scenarios/packets.sh [--quick]     PHASE_S=30 ROUNDS=2 PAYLOAD=16
set -euo pipefail
SCENARIO=packets
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init "$@"
# Another scenario may run on the shared machine at the same time: PORTS_BASE moves the agent's
# metrics port and the sink's ports (base, base+1, base+2) out of the default 18690-18692.
if [ -n "${PORTS_BASE:-}" ]; then
    AGENT_METRICS_PORT=$PORTS_BASE; SINK_GRPC_PORT=$((PORTS_BASE + 1)); SINK_HTTP_PORT=$((PORTS_BASE + 2))
fi
require_cmds ip iperf3 tcpdump curl jq python3
if [ "$QUICK" = 1 ]; then PHASE_S=${PHASE_S:-15}; ROUNDS=${ROUNDS:-1}; else PHASE_S=${PHASE_S:-30}; ROUNDS=${ROUNDS:-2}; fi
PAYLOAD=${PAYLOAD:-16}
PORT=18620

bench_on_exit netns_down
netns_up
ip netns exec psbb iperf3 -s -p "$PORT" > "$WORK/iperf3-server.log" 2>&1 &
IPERF_PID=$!
bench_on_exit "kill $IPERF_PID; wait $IPERF_PID"
sleep 0.5

agent_config "$WORK/agent.yaml" <<YAML
ebpf:
  ports:
    allow: [18699]
packet:
  interfaces: [psba0]
YAML
agent_start "$WORK/agent.yaml"
# A short flood first warms the agent's packet path (JIT) so the idle window below is not start-up.
ip netns exec psba iperf3 -u -c 10.202.0.2 -p "$PORT" -b 0 -l "$PAYLOAD" -t 3 > /dev/null 2>&1 || true
sleep 1
# The agent's CPU with no traffic (its timers, guard, idle ring polling) over a quiet window, so
# the report can give the per-packet cost both raw and above idle.
IDLE_S=$(( QUICK == 1 ? 5 : 10 ))
i0=$(proc_ticks "$AGENT_PID"); sleep "$IDLE_S"; i1=$(proc_ticks "$AGENT_PID")
IDLE_CPU_S=$(ticks_to_s $((i1 - i0)))
say "agent idle: ${IDLE_CPU_S}s CPU in ${IDLE_S}s"

ifstat() { cat "/sys/class/net/psba0/statistics/$1"; }

for round in $(seq "$ROUNDS"); do
    load=$(load1)
    tcpdump -n -i psba0 -w /dev/null > "$WORK/tcpdump.log" 2>&1 &
    TD_PID=$!
    for _ in $(seq 50); do grep -q 'listening on' "$WORK/tcpdump.log" && break; sleep 0.1; done
    agent_scrape "$WORK/m0"; a0=$(proc_ticks "$AGENT_PID"); t0=$(proc_ticks "$TD_PID")
    rx0=$(ifstat rx_packets); tx0=$(ifstat tx_packets)
    ip netns exec psba iperf3 -u -c 10.202.0.2 -p "$PORT" -b 0 -l "$PAYLOAD" -t "$PHASE_S" > "$WORK/iperf3.log" 2>&1 || true
    sleep 1   # let both readers drain their rings
    a1=$(proc_ticks "$AGENT_PID"); t1=$(proc_ticks "$TD_PID"); agent_scrape "$WORK/m1"
    rx1=$(ifstat rx_packets); tx1=$(ifstat tx_packets)
    kill -INT "$TD_PID"; wait "$TD_PID" 2>/dev/null || true
    td_captured=$(awk '/packets captured/ {print $1}' "$WORK/tcpdump.log")
    td_dropped=$(awk '/dropped by kernel/ {print $1}' "$WORK/tcpdump.log")
    ag_packets=$(( $(metric "$WORK/m1" periscope_packets_total) - $(metric "$WORK/m0" periscope_packets_total) ))
    ag_drops=$(( $(metric "$WORK/m1" periscope_packet_kernel_drops_total) - $(metric "$WORK/m0" periscope_packet_kernel_drops_total) ))
    sent=$(awk '/sender$/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\/[0-9]+$/) { split($i, p, "/"); print p[2] }}' "$WORK/iperf3.log" | tail -1)
    bench_record --argjson round "$round" --argjson duration_s "$PHASE_S" --argjson payload_bytes "$PAYLOAD" \
        --argjson iface_packets "$(( (rx1 - rx0) + (tx1 - tx0) ))" --argjson sent "${sent:-0}" \
        --argjson agent_cpu_s "$(ticks_to_s $((a1 - a0)))" --argjson agent_packets "$ag_packets" \
        --argjson agent_kernel_drops "$ag_drops" --argjson agent_rss_kb "$(proc_rss_kb "$AGENT_PID")" \
        --argjson tcpdump_cpu_s "$(ticks_to_s $((t1 - t0)))" --argjson tcpdump_packets "${td_captured:-0}" \
        --argjson tcpdump_kernel_drops "${td_dropped:-0}" --argjson load1 "$load" \
        --argjson idle_cpu_s "$IDLE_CPU_S" --argjson idle_s "$IDLE_S" --argjson window_s "$((PHASE_S + 1))" \
        '{round: $round, duration_s: $duration_s, payload_bytes: $payload_bytes, iface_packets: $iface_packets,
          iperf3_datagrams: $sent, agent_cpu_s: $agent_cpu_s, agent_packets: $agent_packets,
          agent_kernel_drops: $agent_kernel_drops, agent_rss_kb: $agent_rss_kb, tcpdump_cpu_s: $tcpdump_cpu_s,
          tcpdump_packets: $tcpdump_packets, tcpdump_kernel_drops: $tcpdump_kernel_drops, load1: $load1,
          agent_idle_cpu_s: $idle_cpu_s, agent_idle_window_s: $idle_s, measured_window_s: $window_s}'
    say "round $round: iface $(( (rx1 - rx0) + (tx1 - tx0) )) pkts; agent $ag_packets pkts $(ticks_to_s $((a1 - a0)))s CPU drops $ag_drops; tcpdump ${td_captured:-?} pkts $(ticks_to_s $((t1 - t0)))s CPU drops ${td_dropped:-?}; load $load"
done
bench_finish
