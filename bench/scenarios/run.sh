#!/usr/bin/env bash
# Runs one whole-system scenario (or all of them) and writes bench/results/<date>-<scenario>.{md,json}.
# usage: bench/scenarios/run.sh <nginx|B|packets|F|connections|D|throughput|E|chain|A|all> [--quick]
set -euo pipefail
DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
name=${1:-}
[ $# -gt 0 ] && shift
case "$name" in
    B|b|nginx) exec "$DIR/nginx.sh" "$@" ;;
    F|f|packets) exec "$DIR/packets.sh" "$@" ;;
    D|d|connections) exec "$DIR/connections.sh" "$@" ;;
    E|e|throughput) exec "$DIR/throughput.sh" "$@" ;;
    A|a|chain) exec "$DIR/chain.sh" "$@" ;;
    C|c|uprobes) echo "bench: scenario C (Go uprobes) waits for the uprobe issue" >&2; exit 2 ;;
    all)
        rc=0
        for s in nginx chain packets connections throughput; do "$DIR/run.sh" "$s" "$@" || rc=1; done
        exit $rc ;;
    *) cat >&2 <<USAGE
usage: ./periscope bench <scenario> [--quick]
  nginx (B)        nginx + h2load at fixed rates, agent off / full / shallow: R, latency, CPU, RSS, zero loss
  chain (A)        h2load -> nginx -> Java backend -> redis + postgresql: spans per transaction, P50/P90, CPU
  packets (F)      UDP flood of small packets on veth: agent vs tcpdump CPU per packet, drops
  connections (D)  many concurrent TCP connections on veth: agent RSS, bytes per flow
  throughput (E)   iperf3 TCP on veth: agent CPU and RSS at the highest rate
  all              every scenario above, one after the other
--quick is a smoke run (short warm-ups, not steady state), about 1-3 minutes per scenario. Results: bench/results/<date>-<scenario>.{md,json,png}
USAGE
       exit 2 ;;
esac
