# Shared helpers for the bench scenarios (sourced, not run). Each scenario script sets SCENARIO,
# calls bench_init, registers its own cleanup with bench_on_exit, appends one JSON object per
# run to $RUNS (bench_record), and ends with bench_finish, which writes
# bench/results/<date>-<scenario>.{json,md} through report.py.
# Ports: loopback 18600-18699. Network namespaces: psb*, addresses 10.202.0.0/24 inside them only.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_SCENARIOS="$BENCH_ROOT/bench/scenarios"
BENCH_RESULTS="$BENCH_ROOT/bench/results"
AGENT_JAR="$BENCH_ROOT/agent-core/target/periscope-agent.jar"
BENCH_JAR="$BENCH_ROOT/bench/target/benchmarks.jar"
CLK_TCK=$(getconf CLK_TCK)
QUICK=0
AGENT_PID=""
AGENT_METRICS_PORT=18690
_BENCH_CLEANUPS=()

say() { echo "bench[$SCENARIO]: $*" >&2; }
die() { say "$*"; exit 1; }

bench_on_exit() { _BENCH_CLEANUPS+=("$1"); }
_bench_cleanup() {
    local i
    set +e
    agent_stop >/dev/null 2>&1
    for ((i = ${#_BENCH_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${_BENCH_CLEANUPS[$i]}" >/dev/null 2>&1; done
    [ -n "${WORK:-}" ] && [ -z "${BENCH_KEEP:-}" ] && rm -rf "$WORK"
}

# Parses --quick; makes $WORK and $RUNS; checks root, the agent jar and the listed commands.
bench_init() {
    local arg
    for arg in "$@"; do
        case "$arg" in
            --quick) QUICK=1 ;;
            *) die "unknown argument '$arg' (only --quick)" ;;
        esac
    done
    [ "$(id -u)" = 0 ] || die "run as root (BPF, AF_PACKET, netns)"
    [ -f "$AGENT_JAR" ] || die "$AGENT_JAR missing: ./periscope build"
    WORK=$(mktemp -d /tmp/psb-"$SCENARIO".XXXXXX)
    RUNS="$WORK/runs.jsonl"
    : > "$RUNS"
    trap _bench_cleanup EXIT
    trap 'exit 130' INT TERM
    grep -qs ' /sys/kernel/tracing tracefs ' /proc/mounts || mount -t tracefs tracefs /sys/kernel/tracing
    grep -qs ' /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpffs /sys/fs/bpf
    BENCH_STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    BENCH_LOAD_BEFORE=$(loadavg)
    say "started $BENCH_STARTED, load average $BENCH_LOAD_BEFORE, quick=$QUICK"
}

require_cmds() {
    local c missing=()
    for c in "$@"; do command -v "$c" >/dev/null || missing+=("$c"); done
    [ ${#missing[@]} = 0 ] || die "missing commands: ${missing[*]} (./periscope bench installs BENCH_PKGS)"
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# utime+stime ticks of one process (all its threads), 0 when gone.
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Ticks of a process and its children (nginx master + workers).
tree_ticks() {
    local total=0 p
    for p in "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        total=$((total + $(proc_ticks "$p")))
    done
    echo "$total"
}
proc_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
proc_hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
ticks_to_s() { awk -v t="$1" -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", t / hz }'; }

# Writes an agent config: the file exporter to $WORK, self-metrics on our port, plus any YAML
# given on stdin (appended as is; keep its top-level sections distinct from these two).
agent_config() {
    local file=$1
    {
        printf 'exporters:\n  file:\n    path: %s\n' "$WORK/otlp.jsonl"
        printf 'self_metrics:\n  listen: 127.0.0.1:%s\n' "$AGENT_METRICS_PORT"
        cat
        # AGENT_YAML: extra top-level sections for an experiment (e.g. 'pipeline: {wait_strategy:
        # blocking}'); name the results apart with BENCH_SUFFIX=-blocking.
        [ -z "${AGENT_YAML:-}" ] || printf '%s\n' "$AGENT_YAML"
    } > "$file"
}

# Starts the agent through the launcher, as a user would (JVM sized from the default budget);
# waits until it logs that it runs. Extra args go to `periscope run` (e.g. --set k=v).
agent_start() {
    local config=$1; shift
    AGENT_LOG="$WORK/agent.log"
    "$BENCH_ROOT/periscope" run --config "$config" "$@" > "$AGENT_LOG" 2>&1 &
    AGENT_PID=$!
    local i
    for i in $(seq 600); do
        grep -q 'running; stop with' "$AGENT_LOG" && break
        kill -0 "$AGENT_PID" 2>/dev/null || { cat "$AGENT_LOG" >&2; die "agent exited before running"; }
        sleep 0.1
    done
    grep -q 'running; stop with' "$AGENT_LOG" || { tail -20 "$AGENT_LOG" >&2; die "agent not running after 60 s"; }
    # Let JIT and start-up threads settle so the first phase does not pay for them.
    sleep "${AGENT_SETTLE_S:-2}"
}

agent_stop() {
    [ -n "$AGENT_PID" ] || return 0
    kill -TERM "$AGENT_PID" 2>/dev/null || true
    local i
    for i in $(seq 150); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || true
    AGENT_PID=""
}

# The agent's self-metrics, Prometheus text, into a file.
agent_scrape() { curl -s --max-time 5 "http://127.0.0.1:$AGENT_METRICS_PORT/metrics" > "$1" || : > "$1"; }
# Sum of every series of one metric name in a scrape file (labels included); filter by a label
# substring with a third arg, e.g. 'stage="ring"'.
metric() {
    awk -v n="$2" -v f="${3:-}" '
        $1 !~ /^#/ { name = $1; sub(/\{.*/, "", name); if (name == n && (f == "" || index($1, f) > 0)) s += $NF }
        END { printf "%.0f\n", s + 0 }' "$1"
}

# Appends one JSON object (given as jq --arg/--argjson pairs through a jq program) to $RUNS.
bench_record() { jq -nc "$@" >> "$RUNS"; }

bench_finish() {
    local day base
    day=$(date -u +%Y-%m-%d)
    base="$BENCH_RESULTS/$day-$SCENARIO${BENCH_SUFFIX:-}"
    [ "$QUICK" = 1 ] && base="$base-quick"
    mkdir -p "$BENCH_RESULTS"
    jq -s --arg scenario "$SCENARIO" --arg started "$BENCH_STARTED" --arg finished "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        --arg load_before "$BENCH_LOAD_BEFORE" --arg load_after "$(loadavg)" --argjson quick "$QUICK" \
        --arg kernel "$(uname -r)" --argjson cpus "$(nproc)" --arg cpu_model "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" \
        --arg commit "$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
        --arg agent_yaml "${AGENT_YAML:-}" \
        '{scenario: $scenario, started: $started, finished: $finished, quick: ($quick == 1), commit: $commit,
          machine: {cpus: $cpus, cpu_model: $cpu_model, kernel: $kernel}, agent_yaml_extra: $agent_yaml,
          load_average_before: $load_before, load_average_after: $load_after, runs: .}' "$RUNS" > "$base.json"
    python3 "$BENCH_SCENARIOS/report.py" "$base.json" > "$base.md"
    say "wrote $base.json and $base.md"
    cat "$base.md"
}

# --- network namespaces: psba (10.202.0.1) and psbb (10.202.0.2) joined by a bridge in the root
# namespace, so the agent and tcpdump (in the root namespace) see the traffic on the host-side
# veth ends psba0/psbb0 while no 10.202 address exists outside the namespaces.
netns_up() {
    netns_down
    ip netns add psba
    ip netns add psbb
    ip link add psbbr0 type bridge
    ip link add psba0 type veth peer name psba1
    ip link add psbb0 type veth peer name psbb1
    ip link set psba1 netns psba
    ip link set psbb1 netns psbb
    ip link set psba0 master psbbr0
    ip link set psbb0 master psbbr0
    ip link set psbbr0 up; ip link set psba0 up; ip link set psbb0 up
    ip -n psba addr add 10.202.0.1/24 dev psba1
    ip -n psbb addr add 10.202.0.2/24 dev psbb1
    ip -n psba link set psba1 up; ip -n psba link set lo up
    ip -n psbb link set psbb1 up; ip -n psbb link set lo up
    local i
    # Reachable when a connect to a closed port is refused (no ping on a minimal Debian).
    for i in $(seq 30); do
        grep -q refused < <(ip netns exec psba timeout 1 bash -c 'exec 3<>/dev/tcp/10.202.0.2/18699' 2>&1) && return 0
        sleep 0.2
    done
    die "netns psba cannot reach psbb"
}
netns_down() {
    ip link del psbbr0 2>/dev/null || true
    ip link del psba0 2>/dev/null || true
    ip link del psbb0 2>/dev/null || true
    ip netns del psba 2>/dev/null || true
    ip netns del psbb 2>/dev/null || true
}
