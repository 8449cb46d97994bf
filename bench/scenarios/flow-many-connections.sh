#!/usr/bin/env bash
# Many concurrent TCP connections held open through the capture: the capture pipeline's RSS and
# off-heap table size with N live flows (DeepFlow: 122K flows in 1 GB; target 1M flows within
# 512 MB of agent RSS). Connections run from psf-b to psf-a over the veth/bridge; the agent
# (FlowCaptureMain) captures on psfa1 with a table sized for N flows.
#
# usage: bench/scenarios/flow-many-connections.sh [connections=20000] [server ports=16]
# needs: root; build first: mvn -q -pl bench -am package -DskipTests
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
JAR="$ROOT/bench/target/benchmarks.jar"
N=${1:-20000}
PORTS=${2:-16}
BASE_PORT=18150
OUT=$(mktemp -d /tmp/psf-conns.XXXXXX)
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
ip netns exec psf-b sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
MAXFLOWS=$((N + N / 10 + 1024))
java -Xmx256m -cp "$JAR" io.periscope.bench.flow.FlowCaptureMain psfa1 3600 "tcp" "$MAXFLOWS" > "$OUT/periscope.out" 2>&1 &
JPID=$!; PIDS+=("$JPID")
for _ in $(seq 400); do grep -q '^ready' "$OUT/periscope.out" && break; sleep 0.05; done
grep -q '^ready' "$OUT/periscope.out" || { cat "$OUT/periscope.out"; exit 1; }
RSS0=$(awk '/VmRSS/ {print $2}' /proc/$JPID/status)

# The hard limit on open files (no CAP_SYS_RESOURCE to raise it) caps one process at ~20K
# sockets, so the connections are spread over pairs of holder processes.
PER_PROC=$(( $(ulimit -Hn) - 1000 ))
PROCS=$(( (N + PER_PROC - 1) / PER_PROC ))
for i in $(seq 0 $((PROCS - 1))); do
    base=$((BASE_PORT + i * PORTS))
    ip netns exec psf-a bash -c "ulimit -n \$(ulimit -Hn); exec java -Xmx256m -XX:+UseSerialGC -cp '$JAR' \
        io.periscope.bench.flow.ConnectionHolder server 10.201.0.1 $base $PORTS" > "$OUT/server-$i.out" 2>&1 &
    PIDS+=("$!")
done
for i in $(seq 0 $((PROCS - 1))); do
    for _ in $(seq 400); do grep -q listening "$OUT/server-$i.out" && break; sleep 0.05; done
done
for i in $(seq 0 $((PROCS - 1))); do
    base=$((BASE_PORT + i * PORTS))
    count=$(( i < PROCS - 1 ? PER_PROC : N - PER_PROC * (PROCS - 1) ))
    ip netns exec psf-b bash -c "ulimit -n \$(ulimit -Hn); exec java -Xmx256m -XX:+UseSerialGC -cp '$JAR' \
        io.periscope.bench.flow.ConnectionHolder client 10.201.0.1 $base $PORTS $count" > "$OUT/client-$i.out" 2>&1 &
    PIDS+=("$!")
done
for i in $(seq 0 $((PROCS - 1))); do
    for _ in $(seq 3000); do grep -q '^held' "$OUT/client-$i.out" && break; sleep 0.1; done
done
sleep 2
HELD=$(cat "$OUT"/client-*.out | sed -n 's/^held //p' | awk '{s += $1} END {print s + 0}')
STATS=$(grep '^stats' "$OUT/periscope.out" | tail -1)
RSS1=$(awk '/VmRSS/ {print $2}' /proc/$JPID/status)
TABLE=$(sed -n 's/^ready .* table \([0-9]*\) B.*/\1/p' "$OUT/periscope.out")
echo "connections held: ${HELD:-0} of $N by $PROCS client processes"
echo "capture: $STATS"
awk -v r0="$RSS0" -v r1="$RSS1" -v t="$TABLE" -v n="${HELD:-0}" -v m="$MAXFLOWS" 'BEGIN {
    printf "flow table: %.1f MB off-heap for %d flows of capacity (%.0f B per flow of capacity)\n", t / 1048576, m, t / m;
    printf "agent RSS: %.1f MB before connections, %.1f MB with %d live flows (%.0f B RSS per live flow)\n",
        r0 / 1024, r1 / 1024, n, (n > 0 ? (r1 - r0) * 1024 / n : 0);
}'
echo "details: $OUT"
