# Shared helpers for the bench scenarios (sourced, not run). Each scenario script sets SCENARIO,
# calls bench_init, registers its own cleanup with bench_on_exit, appends one JSON object per
# run to $RUNS (bench_record), and ends with bench_finish, which writes
# bench/results/<date>-<scenario>.{json,md} through report.py.
# Ports: loopback 18600-18699. Network namespaces: psb*, addresses 10.202.0.0/24 inside them only.

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_SCENARIOS="$BENCH_ROOT/bench/scenarios"
# BENCH_RESULTS=/tmp/x sends a validation run's report elsewhere (e.g. on a busy machine).
BENCH_RESULTS=${BENCH_RESULTS:-"$BENCH_ROOT/bench/results"}
AGENT_JAR="$BENCH_ROOT/agent-core/target/periscope-agent.jar"
BENCH_JAR="$BENCH_ROOT/bench/target/benchmarks.jar"
CLK_TCK=$(getconf CLK_TCK)
QUICK=0
AGENT_PID=""
AGENT_METRICS_PORT=${AGENT_METRICS_PORT:-18690}
# The OTLP sink (io.periscope.bench.sink.OtlpSink) the agent exports to, as it would to a Collector.
SINK_GRPC_PORT=${SINK_GRPC_PORT:-18691}
SINK_HTTP_PORT=${SINK_HTTP_PORT:-18692}
SINK_PID=""
_BENCH_CLEANUPS=()

say() { echo "bench[$SCENARIO]: $*" >&2; }
die() { say "$*"; exit 1; }

bench_on_exit() { _BENCH_CLEANUPS+=("$1"); }
_bench_cleanup() {
    local i
    set +e
    agent_stop >/dev/null 2>&1
    sink_stop >/dev/null 2>&1
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
    # Build now if a source changed: `periscope run` would otherwise rebuild in the middle of the
    # scenario, replacing benchmarks.jar under the running sink and backend JVMs.
    "$BENCH_ROOT/periscope" build >&2 || die "build failed"
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

# One nginx worker pinned to CPU 0, its files under $WORK/nginx, serving the http-block lines read
# from stdin (servers, upstreams); returns once it answers on 127.0.0.1:$1. Sets NGINX_PID.
nginx_start() {
    local port=$1
    mkdir -p "$WORK/nginx/tmp"
    {
        cat <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/tmp/body; proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi; uwsgi_temp_path $WORK/nginx/tmp/uwsgi; scgi_temp_path $WORK/nginx/tmp/scgi;
  keepalive_requests 10000000;
CONF
        cat
        echo "}"
    } > "$WORK/nginx/nginx.conf"
    taskset -c 0 /usr/sbin/nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
    NGINX_PID=$!
    bench_on_exit "kill $NGINX_PID; wait $NGINX_PID"
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
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

# Writes an agent config: self-metrics on our port, the file exporter off (its path in $WORK in
# case it is ever written: only when no OTLP endpoint is set), plus any YAML given on stdin
# (appended as is; keep its top-level sections distinct from these two). agent_start points the
# OTLP exporter at the sink with --set, so the agent exports protobuf over gRPC as deployed.
agent_config() {
    local file=$1
    {
        printf 'exporters:\n  file:\n    path: %s\n    always: false\n' "$WORK/otlp.jsonl"
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
    [ -n "$SINK_PID" ] || sink_start
    "$BENCH_ROOT/periscope" run --config "$config" --set "exporters.otlp.endpoint=127.0.0.1:$SINK_GRPC_PORT" "$@" \
        > "$AGENT_LOG" 2>&1 &
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

# --- the OTLP sink: a separate JVM pinned like the load generator (SINK_CPU, default CPU 1), so
# the collector's work is not counted as the agent's and does not share the server's CPU.
sink_start() {
    [ -f "$BENCH_JAR" ] || die "$BENCH_JAR missing: ./periscope build (or mvn -q -pl bench -am package -DskipTests)"
    SINK_LOG="$WORK/sink.log"
    taskset -c "${SINK_CPU:-1}" java -Xmx256m -XX:+UseSerialGC -cp "$BENCH_JAR" io.periscope.bench.sink.OtlpSink \
        "$SINK_GRPC_PORT" "$SINK_HTTP_PORT" > "$SINK_LOG" 2>&1 &
    SINK_PID=$!
    local i
    # It warms itself up before listening (a few seconds; more on a busy machine).
    for i in $(seq 900); do
        grep -q '^listening' "$SINK_LOG" && return 0
        kill -0 "$SINK_PID" 2>/dev/null || { cat "$SINK_LOG" >&2; die "OTLP sink exited at start"; }
        sleep 0.1
    done
    die "OTLP sink not listening after 90 s"
}
sink_stop() {
    [ -n "$SINK_PID" ] || return 0
    kill -TERM "$SINK_PID" 2>/dev/null || true
    wait "$SINK_PID" 2>/dev/null || true
    SINK_PID=""
}
# "spans metric_points log_records" the sink received so far.
sink_counts() {
    curl -s --max-time 5 "http://127.0.0.1:$SINK_HTTP_PORT/counts" | jq -r '"\(.spans) \(.metric_points) \(.log_records)"' \
        || echo "0 0 0"
}
sink_spans() { local n; n=$(sink_counts | cut -d' ' -f1); echo "${n:-0}"; }

# Spans the agent handed to its exporter minus those its export queue dropped: what the sink
# must receive when nothing is lost on the way. From a scrape file.
agent_exportable_spans() {
    echo $(( $(metric "$1" periscope_spans_offered_total) - $(metric "$1" periscope_pipeline_dropped_total 'stage="export_queue"') ))
}
# Waits (at most DRAIN_S, default 10 s) until the sink has every span the agent made so far,
# i.e. the export pipeline is empty; leaves the last scrape in $1. Returns 1 on timeout (spans
# still in flight or lost: the caller records the difference).
agent_drain() {
    local scrape=$1 i want got prev=-1
    for i in $(seq $(( ${DRAIN_S:-10} * 5 ))); do
        agent_scrape "$scrape"
        want=$(agent_exportable_spans "$scrape")
        got=$(sink_spans)
        [ "$got" -ge "$want" ] && [ "$want" = "$prev" ] && return 0
        prev=$want
        sleep 0.2
    done
    return 1
}

# Stops the agent after the export pipeline drained and appends the end-to-end loss record
# (mode "e2e"): over the agent's whole life, spans made vs spans the sink received, kernel lost
# events, pipeline drops per stage, and whether the agent said it flushed everything at stop.
agent_stop_e2e() {
    local final="$WORK/m-final" drained=true flushed=false
    agent_drain "$final" || drained=false
    agent_stop
    sleep 0.5
    grep -q 'everything queued was exported' "$AGENT_LOG" && flushed=true
    local sink
    read -r -a sink < <(sink_counts)
    bench_record --argjson offered "$(metric "$final" periscope_spans_offered_total)" \
        --argjson export_dropped "$(metric "$final" periscope_pipeline_dropped_total 'stage="export_queue"')" \
        --argjson parse_ring_dropped "$(metric "$final" periscope_pipeline_dropped_total 'stage="parse_ring"')" \
        --argjson reconfigure_dropped "$(metric "$final" periscope_pipeline_dropped_total 'stage="reconfigure"')" \
        --argjson flow_export_dropped "$(metric "$final" periscope_pipeline_dropped_total 'stage="flow_export_queue"')" \
        --argjson lost_events "$(metric "$final" periscope_ebpf_lost_events_total)" \
        --argjson sink_spans "${sink[0]:-0}" --argjson sink_metric_points "${sink[1]:-0}" \
        --argjson sink_log_records "${sink[2]:-0}" --argjson drained "$drained" --argjson flushed_at_stop "$flushed" \
        '{rate: "all", mode: "e2e", offered: $offered, export_dropped: $export_dropped,
          parse_ring_dropped: $parse_ring_dropped, reconfigure_dropped: $reconfigure_dropped,
          flow_export_dropped: $flow_export_dropped, lost_events: $lost_events, sink_spans: $sink_spans,
          sink_metric_points: $sink_metric_points, sink_log_records: $sink_log_records,
          drained_before_stop: $drained, flushed_at_stop: $flushed_at_stop}'
    say "end to end: agent made $(metric "$final" periscope_spans_offered_total) spans, the sink received ${sink[0]:-0}; lost in kernel $(metric "$final" periscope_ebpf_lost_events_total), flushed at stop: $flushed"
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
