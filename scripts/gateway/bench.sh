#!/usr/bin/env bash
# `autoscope serve` against the OpenTelemetry Collector's tail_sampling processor, on
# the same OTLP load (trace files replayed by the gateway's replay_load example), one
# after the other in one run:
#   throughput  spans per CPU-second of the sampler process at saturation (replay_load
#               --rate 0, BENCH_CONNECTIONS sending connections); CPU from /proc/PID/stat
#               (user + system), read once the process is idle again after the load
#   latency     p50/p99 of the time from sending a trace to its kept spans reaching the
#               sink, at a steady rate, decision wait 1 s for both
#   memory      resident memory per 100k buffered spans: RSS growth while 300k spans
#               wait out a 120 s decision wait
# Policies: serve keeps error spans (and their ancestors) plus 1% (default action);
# tail_sampling keeps traces with an error status plus 1% (probabilistic).
#
#   scripts/gateway/bench.sh OUT-DIR TRACE-FILE...
# Needs: cargo build --release -p autoscope && cargo build --release -p autoscope-gateway --example replay_load
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$1"; shift
mkdir -p "$out"; out="$(cd "$out" && pwd)"
files=("$@")
bin="${AUTOSCOPE_BIN:-$root/target/release/autoscope}"
load="${REPLAY_LOAD_BIN:-$root/target/release/examples/replay_load}"
collector="$("$root/scripts/collector/build.sh")"
base="${BENCH_PORT_BASE:-14400}"
recv="127.0.0.1:$base"; admin="127.0.0.1:$((base + 1))"; http_port="127.0.0.1:$((base + 2))"; sink="127.0.0.1:$((base + 3))"
saturate_seconds="${BENCH_SECONDS:-30}"
rate="${BENCH_RATE:-5000}"
# Sending loops (each its own connection) at saturation: one loop alone capped the
# load at about 24k spans/s, below what either system takes.
connections="${BENCH_CONNECTIONS:-4}"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
trap "exit 1" INT TERM

cat > "$out/policy.json" <<'EOF'
{"version": 1, "generator": {"tool": "bench", "version": "0"}, "target_reduction": 0.99,
 "default_action": {"action": "sample", "rate": 0.01},
 "overrides": {"keep_errors": true}, "structure": {"mode": "keep-ancestors"}, "rules": []}
EOF
collector_config() { # WAIT
    cat > "$out/collector.yaml" <<EOF
receivers:
  otlp:
    protocols:
      grpc: {endpoint: $recv, max_recv_msg_size_mib: 64}
processors:
  tail_sampling:
    decision_wait: $1
    num_traces: 2000000
    expected_new_traces_per_sec: 20000
    policies:
      - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}
      - {name: one-percent, type: probabilistic, probabilistic: {sampling_percentage: 1}}
exporters:
  otlp_http:
    endpoint: http://$sink
    compression: none
service:
  telemetry: {metrics: {level: none}, logs: {level: warn}}
  pipelines:
    traces: {receivers: [otlp], processors: [tail_sampling], exporters: [otlp_http]}
EOF
}
start() { # SYSTEM WAIT -> $pid (the process measured)
    if [[ "$1" == serve ]]; then
        # The saturation run forwards to no sink and spills; a later run would replay
        # that spill into the latency sink.
        rm -rf "$out/spill"
        "$bin" serve --policy "$out/policy.json" --otlp-grpc "$recv" --otlp-http "$http_port" \
            --admin "$admin" --decision-wait "$2" --max-trace-age 300s --adaptive off \
            --max-memory 8GiB --max-buffered-spans 5000000 --forward "http://$sink" \
            --spill-dir "$out/spill" 2> "$out/serve.log" &
    else
        collector_config "$2"
        "$collector" --config "$out/collector.yaml" 2> "$out/collector.log" &
    fi
    pid=$!; pids+=("$pid")
    for _ in $(seq 100); do (echo > "/dev/tcp/${recv%:*}/${recv#*:}") 2>/dev/null && break; sleep 0.1; done
    sleep 1
}
ticks="$(getconf CLK_TCK)"
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/VmRSS/ {print $2 * 1024}' "/proc/$1/status"; }
stop() { kill -TERM "$1"; wait "$1" 2>/dev/null || true; }

for system in serve collector; do
    # Throughput at saturation.
    start "$system" 1s
    before="$(cpu "$pid")"
    "$load" --target "grpc://$recv" --rate 0 --duration "$saturate_seconds" --batch 1000 \
        --concurrency 8 --connections "$connections" --report "$out/$system-saturate.json" "${files[@]}" > /dev/null
    # Count the work on what was accepted but not yet decided when sending stopped:
    # read the CPU once the process has gone (nearly) idle, at most 60 s later.
    after="$(cpu "$pid")"
    for _ in $(seq 30); do
        sleep 2
        now="$(cpu "$pid")"
        (( now - after <= ticks / 20 )) && { after="$now"; break; }
        after="$now"
    done
    echo "$(( after - before ))" > "$out/$system-saturate.cpu_ticks"
    stop "$pid"
    # Added latency at a steady rate.
    start "$system" 1s
    "$load" --target "grpc://$recv" --rate "$rate" --duration 30 --sink "$sink" --sink-linger 15 \
        --report "$out/$system-latency.json" "${files[@]}" > /dev/null
    stop "$pid"
    # Memory per buffered span.
    start "$system" 120s
    idle="$(rss "$pid")"
    "$load" --target "grpc://$recv" --rate 20000 --duration 15 --report "$out/$system-memory.json" \
        "${files[@]}" > /dev/null
    sleep 3
    echo "$idle $(rss "$pid")" > "$out/$system-memory.rss"
    stop "$pid"
done

python3 - "$out" "$ticks" <<'PY'
import json, sys
out, ticks = sys.argv[1], int(sys.argv[2])
result = {}
for system in ("serve", "collector"):
    sat = json.load(open(f"{out}/{system}-saturate.json"))
    cpu_seconds = int(open(f"{out}/{system}-saturate.cpu_ticks").read()) / ticks
    lat = json.load(open(f"{out}/{system}-latency.json"))
    mem = json.load(open(f"{out}/{system}-memory.json"))
    idle, full = map(int, open(f"{out}/{system}-memory.rss").read().split())
    result[system] = {
        "saturation_spans_per_second": round(sat["spans_per_second"]),
        "cpu_seconds": round(cpu_seconds, 1),
        "spans_per_cpu_second": round(sat["spans_sent"] / cpu_seconds) if cpu_seconds else None,
        "latency_ms_p50": round(lat["latency_ms_p50"], 1),
        "latency_ms_p99": round(lat["latency_ms_p99"], 1),
        "latency_spans_sent": lat["spans_sent"],
        "latency_spans_at_sink": lat["sink_spans"],
        "buffered_spans": mem["spans_sent"],
        "rss_idle_bytes": idle,
        "rss_bytes_per_100k_buffered_spans": round((full - idle) / mem["spans_sent"] * 1e5),
    }
s, c = result["serve"], result["collector"]
result["ratios"] = {
    "throughput_per_core": round(s["spans_per_cpu_second"] / c["spans_per_cpu_second"], 2),
    "memory_per_buffered_span": round(s["rss_bytes_per_100k_buffered_spans"] / c["rss_bytes_per_100k_buffered_spans"], 2),
}
json.dump(result, open(f"{out}/bench.json", "w"), indent=1)
print(json.dumps(result, indent=1))
PY
