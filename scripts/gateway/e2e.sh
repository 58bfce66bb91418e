#!/usr/bin/env bash
# End-to-end tests of `autoscope serve` with real OpenTelemetry components, all on
# loopback, each process bounded by `timeout` and stopped on exit:
#   1. the OpenTelemetry Python SDK (OTLP gRPC and HTTP exporters) and the Go SDK (both
#      exporters) send traces to serve; serve keeps exactly the error spans and their
#      ancestors the policy asks for;
#   2. a real OpenTelemetry Collector (built by scripts/collector/build.sh) as the backend
#      that receives what serve forwards over OTLP/gRPC: it gets exactly serve's kept set;
#   3. the Collector as the front, its load_balancing exporter routing by trace id to two
#      serve instances: together they keep exactly what one instance keeps.
# Installs what it needs (a Python venv and Go modules, cached under
# ~/.cache/autoscope). Usage: scripts/gateway/e2e.sh [WORK-DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
cache="${AUTOSCOPE_CACHE:-$HOME/.cache/autoscope}"
bin="${AUTOSCOPE_BIN:-$root/target/debug/autoscope}"
load="${REPLAY_LOAD_BIN:-$root/target/debug/examples/replay_load}"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
trap "exit 1" INT TERM
step() { echo "e2e: $*" >&2; }
started=$(date +%s)

[[ -x "$bin" && -x "$load" ]] || (cd "$root" && cargo build -p autoscope -p autoscope-gateway --example replay_load)

# Python SDK.
req="$root/gateway/tests/clients/python/requirements.txt"
venv="$cache/venv-$(sha256sum "$req" | cut -c1-12)"
if [[ ! -x "$venv/bin/python" ]]; then
    step "installing the OpenTelemetry Python SDK into $venv"
    python3 -m venv "$venv.tmp" && "$venv.tmp/bin/pip" install -q -r "$req" && mv "$venv.tmp" "$venv"
fi
# Go SDK client.
step "building the Go client"
(cd "$root/gateway/tests/clients/go" && go build -o "$work/sendspans" .)
# The Collector.
step "building (or reusing) the Collector"
collector="$("$root/scripts/collector/build.sh")"

# Starts serve with a policy and extra flags; sets $grpc $http $admin and $serve_pid.
start_serve() {
    local name="$1" policy="$2"; shift 2
    timeout 300 "$bin" serve --policy "$policy" --otlp-grpc 127.0.0.1:0 --otlp-http 127.0.0.1:0 \
        --admin 127.0.0.1:0 --decision-wait 300ms --adaptive off "$@" 2> "$work/$name.log" &
    serve_pid=$!; pids+=("$serve_pid")
    for _ in $(seq 300); do grep -q "^autoscope serve: listening" "$work/$name.log" && break; sleep 0.1; done
    local line; line="$(grep "^autoscope serve: listening" "$work/$name.log")"
    grpc="$(echo "$line" | sed 's/.*otlp-grpc=\([^ ]*\).*/\1/')"
    http="$(echo "$line" | sed 's/.*otlp-http=\([^ ]*\).*/\1/')"
    admin="$(echo "$line" | sed 's/.*admin=\([^ ]*\).*/\1/')"
}
stop() { kill -TERM "$1"; wait "$1" || { echo "e2e: process $1 failed" >&2; exit 1; }; }
unzip_all() { # DIR OUT: every archive segment as one OTLP/JSON-lines file
    : > "$2"
    for f in "$1"/*.tz; do "$bin" unzip "$f" -o "$work/seg.json"; cat "$work/seg.json" >> "$2"; echo >> "$2"; done
}

# 1. SDKs -> serve.
cat > "$work/errors.json" <<'EOF'
{"version": 1, "generator": {"tool": "e2e", "version": "0"}, "target_reduction": 0.9,
 "default_action": {"action": "sample", "rate": 0.0},
 "overrides": {"keep_errors": true}, "structure": {"mode": "keep-ancestors"}, "rules": []}
EOF
for client in python-grpc python-http go-grpc go-http; do
    step "$client -> serve"
    start_serve "$client" "$work/errors.json" --archive "$work/$client-archive"
    case "$client" in
        python-grpc) timeout 120 "$venv/bin/python" "$root/gateway/tests/clients/python/send_spans.py" grpc "http://$grpc" 30 "$work/$client-sent.json" ;;
        python-http) timeout 120 "$venv/bin/python" "$root/gateway/tests/clients/python/send_spans.py" http "http://$http" 30 "$work/$client-sent.json" ;;
        go-grpc) timeout 120 "$work/sendspans" grpc "$grpc" 30 "$work/$client-sent.json" ;;
        go-http) timeout 120 "$work/sendspans" http "$http" 30 "$work/$client-sent.json" ;;
    esac
    sleep 1.5
    curl -s "http://$admin/metrics" > "$work/$client-metrics.txt"
    stop "$serve_pid"
    unzip_all "$work/$client-archive" "$work/$client-kept.json"
    python3 - "$work/$client-sent.json" "$work/$client-kept.json" "$work/$client-metrics.txt" <<'PY'
import json, sys
sent = json.load(open(sys.argv[1]))["traces"]
expected, total = set(), 0
for trace in sent:
    by_id = {s["span_id"]: s for s in trace["spans"]}
    total += len(trace["spans"])
    for span in trace["spans"]:
        if span["error"]:
            at = span
            while at:
                expected.add((trace["trace_id"], at["span_id"], at["parent_span_id"]))
                at = by_id.get(at["parent_span_id"])
kept = set()
for line in open(sys.argv[2]):
    if line.strip():
        for rs in json.loads(line)["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for s in ss["spans"]:
                    kept.add((s["traceId"], s["spanId"], s.get("parentSpanId", "")))
received = sum(float(l.rsplit(" ", 1)[1]) for l in open(sys.argv[3]) if l.startswith("autoscope_spans_received_total"))
assert received == total, f"received {received} of {total} spans"
assert expected and kept == expected, f"kept {len(kept)}, expected {len(expected)}: {sorted(kept ^ expected)[:4]}"
print(f"e2e: {sys.argv[1].split('/')[-1]}: {total} spans sent and received, {len(kept)} kept as the policy says")
PY
done

# The fixture for the Collector tests, and a policy without order-dependent parts.
"$bin" convert "$root/testdata/traces/shop.csv" -o "$work/shop.json"
python3 - "$root/testdata/policies/example.json" "$work/order-free.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); p["overrides"].pop("latency", None); p.pop("budget", None)
json.dump(p, open(sys.argv[2], "w"))
PY
compare() { # A.json B.json: same (trace, span, parent) sets, non-empty
    python3 - "$1" "$2" <<'PY'
import json, sys
def load(path):
    out = set()
    for line in open(path):
        if line.strip():
            for rs in json.loads(line).get("resourceSpans", []):
                for ss in rs.get("scopeSpans", []):
                    for s in ss.get("spans", []):
                        out.add((s["traceId"], s["spanId"], s.get("parentSpanId", "")))
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a and a == b, f"{len(a)} vs {len(b)} spans differ: {sorted(a ^ b)[:4]}"
print(f"e2e: {sys.argv[1].split('/')[-1]} == {sys.argv[2].split('/')[-1]} ({len(a)} spans)")
PY
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# 2. serve -> Collector (backend, file exporter).
step "serve -> Collector backend"
backend_port="$(free_port)"
cat > "$work/backend.yaml" <<EOF
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:$backend_port}
exporters:
  file:
    path: $work/backend.json
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], exporters: [file]}
EOF
timeout 300 "$collector" --config "$work/backend.yaml" 2> "$work/backend.log" &
backend_pid=$!; pids+=("$backend_pid")
sleep 2
start_serve forward "$work/order-free.json" --forward "grpc://127.0.0.1:$backend_port" --archive "$work/forward-archive"
timeout 120 "$load" --target "grpc://$grpc" --rate 0 --once --duration 60 "$work/shop.json" > /dev/null
sleep 2
stop "$serve_pid"
sleep 1
stop "$backend_pid"
unzip_all "$work/forward-archive" "$work/forward-kept.json"
compare "$work/forward-kept.json" "$work/backend.json"

# 3. Collector (front, load_balancing by trace id) -> two serve instances.
step "Collector front -> two serve instances"
start_serve one "$work/order-free.json" --archive "$work/one-archive"
timeout 120 "$load" --target "grpc://$grpc" --rate 0 --once --duration 60 "$work/shop.json" > /dev/null
sleep 2; stop "$serve_pid"
start_serve a "$work/order-free.json" --archive "$work/ab-archive/a"; a_grpc="$grpc"; a_pid="$serve_pid"
start_serve b "$work/order-free.json" --archive "$work/ab-archive/b"; b_grpc="$grpc"; b_pid="$serve_pid"
front_port="$(free_port)"
cat > "$work/front.yaml" <<EOF
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:$front_port}
exporters:
  load_balancing:
    routing_key: traceID
    protocol:
      otlp:
        tls: {insecure: true}
    resolver:
      static:
        hostnames: [$a_grpc, $b_grpc]
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], exporters: [load_balancing]}
EOF
timeout 300 "$collector" --config "$work/front.yaml" 2> "$work/front.log" &
front_pid=$!; pids+=("$front_pid")
sleep 2
timeout 120 "$load" --target "grpc://127.0.0.1:$front_port" --rate 0 --once --duration 60 "$work/shop.json" > /dev/null
sleep 3
stop "$front_pid"
sleep 1
stop "$a_pid"; stop "$b_pid"
unzip_all "$work/one-archive" "$work/one-kept.json"
unzip_all "$work/ab-archive/a" "$work/a-kept.json"
unzip_all "$work/ab-archive/b" "$work/b-kept.json"
[[ -s "$work/a-kept.json" && -s "$work/b-kept.json" ]] || { echo "e2e: the front did not use both instances" >&2; exit 1; }
cat "$work/a-kept.json" "$work/b-kept.json" > "$work/ab-kept.json"
compare "$work/one-kept.json" "$work/ab-kept.json"
echo "e2e: took $(( $(date +%s) - started )) s"
echo "e2e: 7 passed, 0 failed"
