#!/usr/bin/env bash
# UDP flood on a veth: CPU per packet of periscope's capture pipeline (TPACKET_V3 ring + decode +
# flow table with flow records and endpoint metrics) against `tcpdump -w /dev/null` capturing the
# same packets in the same run (tcpdump's cost is the floor of a raw copy). Both capture on
# psfa1 with a 128-byte snap length. The flood runs 3 s first to warm both up (JIT), then CPU
# (utime+stime of each process) and packet counts are taken over the measured window only.
#
# usage: bench/scenarios/flow-udp-flood.sh [seconds=10] [datagram bytes=64]
# needs: root, iperf3, tcpdump; build first: mvn -q -pl bench -am package -DskipTests
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
JAR="$ROOT/bench/target/benchmarks.jar"
DURATION=${1:-10}
LEN=${2:-64}
PORT=18140
FILTER="udp port $PORT"
OUT=$(mktemp -d /tmp/psf-flood.XXXXXX)
. "$ROOT/bench/scenarios/flow-netns.sh"
[ -f "$JAR" ] || { echo "build first: mvn -q -pl bench -am package -DskipTests" >&2; exit 1; }

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    flow_netns_down
}
trap cleanup EXIT

flow_netns_up
java -cp "$JAR" io.periscope.bench.flow.FlowCaptureMain psfa1 $((DURATION + 30)) "$FILTER" > "$OUT/periscope.out" 2>&1 &
JPID=$!; PIDS+=("$JPID")
tcpdump -i psfa1 -n -s 128 -B 65536 -w /dev/null "$FILTER" 2> "$OUT/tcpdump.err" &
TPID=$!; PIDS+=("$TPID")
for _ in $(seq 200); do grep -q '^ready' "$OUT/periscope.out" && grep -q 'listening' "$OUT/tcpdump.err" && break; sleep 0.05; done
grep -q '^ready' "$OUT/periscope.out" || { cat "$OUT/periscope.out"; exit 1; }
sleep 1   # let the JVM finish starting up before the CPU baseline

ip netns exec psf-a iperf3 -s -1 -p $PORT -B 10.201.0.1 > "$OUT/iperf-server.out" 2>&1 &
PIDS+=("$!")
sleep 0.5
WARMUP=3
ip netns exec psf-b iperf3 -u -c 10.201.0.1 -p $PORT -b 0 -l "$LEN" -t $((DURATION + WARMUP + 1)) -J \
    > "$OUT/iperf-client.json" &
IPID=$!; PIDS+=("$IPID")
sleep $WARMUP
# counts: tcpdump prints its statistics on SIGUSR1; FlowCaptureMain prints a stats line every 200 ms
tcap() { kill -USR1 $TPID; sleep 0.3; sed -n 's/^tcpdump: \([0-9]*\) packets captured.*/\1/p' "$OUT/tcpdump.err" | tail -1; }
tdrop() { sed -n 's/^tcpdump: .* \([0-9]*\) packets dropped by kernel.*/\1/p' "$OUT/tcpdump.err" | tail -1; }
jcap() { grep '^stats' "$OUT/periscope.out" | tail -1 | sed -n 's/^stats packets=\([0-9]*\).*/\1/p'; }
jdrop() { grep '^stats' "$OUT/periscope.out" | tail -1 | sed -n 's/.*drops=\([0-9]*\).*/\1/p'; }
J0=$(cpu_ticks $JPID); T0=$(cpu_ticks $TPID); TP0=$(tcap); JP0=$(jcap); TD0=$(tdrop); JD0=$(jdrop)
sleep "$DURATION"
J1=$(cpu_ticks $JPID); T1=$(cpu_ticks $TPID); TP1=$(tcap); JP1=$(jcap); TD1=$(tdrop); JD1=$(jdrop)
wait $IPID || true

kill -INT $TPID; wait $TPID 2>/dev/null || true
kill -TERM $JPID; wait $JPID 2>/dev/null || true

HZ=$(getconf CLK_TCK)
TPKTS=$((TP1 - TP0)); TDROP=$((TD1 - TD0)); JPKTS=$((JP1 - JP0)); JDROP=$((JD1 - JD0))
SENT=$(python3 -c "import json;print(json.load(open('$OUT/iperf-client.json'))['end']['sum_sent']['packets'])" 2>/dev/null || echo '?')

awk -v hz="$HZ" -v j=$((J1 - J0)) -v t=$((T1 - T0)) -v jp="$JPKTS" -v tp="$TPKTS" -v jd="$JDROP" -v td="$TDROP" \
    -v sent="$SENT" -v len="$LEN" -v dur="$DURATION" 'BEGIN {
    jns = j * 1e9 / hz / (jp > 0 ? jp : 1); tns = t * 1e9 / hz / (tp > 0 ? tp : 1);
    printf "UDP flood, %d-byte datagrams, %s sent in all (iperf3); measured window %d s after warm-up\n", len, sent, dur;
    printf "periscope: %d packets, %d kernel drops, %.2f s CPU, %.0f ns/packet\n", jp, jd, j / hz, jns;
    printf "tcpdump:   %d packets, %d kernel drops, %.2f s CPU, %.0f ns/packet\n", tp, td, t / hz, tns;
    printf "ratio periscope/tcpdump CPU per packet: %.2f\n", jns / (tns > 0 ? tns : 1);
}'
echo "details: $OUT ($(grep '^packets=' "$OUT/periscope.out"))"
