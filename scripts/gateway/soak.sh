#!/usr/bin/env bash
# Soak of `autoscope serve`: a steady OTLP load with a 10x spike, forwarded to the load
# generator's sink. Samples resident memory and the controller every 5 s; at the end
# checks that memory stayed under --max-memory, that every span received was kept or
# dropped by decision (nothing lost), and that the kept share of bytes after the spike
# is within 2 points of the target.
#
#   scripts/gateway/soak.sh OUT-DIR TRACE-FILE... 
#   SOAK_SECONDS=1800 SOAK_RATE=5000 SOAK_SPIKE_AT=600 SOAK_SPIKE_FOR=60 (defaults)
#
# Needs the release binaries: cargo build --release -p autoscope -p autoscope-gateway --example replay_load
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$1"; shift
mkdir -p "$out"
seconds="${SOAK_SECONDS:-1800}"
rate="${SOAK_RATE:-5000}"
spike_at="${SOAK_SPIKE_AT:-600}"
spike_for="${SOAK_SPIKE_FOR:-60}"
memory="${SOAK_MEMORY:-512MiB}"
memory_bytes="$(python3 -c "import re,sys; m=re.fullmatch(r'(\d+)(MiB|GiB)', sys.argv[1]); print(int(m[1]) << (20 if m[2]=='MiB' else 30))" "$memory")"
bin="${AUTOSCOPE_BIN:-$root/target/release/autoscope}"
load="${REPLAY_LOAD_BIN:-$root/target/release/examples/replay_load}"
port_base="${SOAK_PORT_BASE:-14100}"
grpc="127.0.0.1:$port_base"; http="127.0.0.1:$((port_base + 1))"; admin="127.0.0.1:$((port_base + 2))"; sink="127.0.0.1:$((port_base + 3))"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
trap "exit 1" INT TERM
timeout $((seconds + 300)) "$bin" serve --policy "$root/scripts/gateway/soak-policy.json" \
    --otlp-grpc "$grpc" --otlp-http "$http" --admin "$admin" \
    --max-memory "$memory" --forward "http://$sink" --spill-dir "$out/spill" \
    --log-format json 2> "$out/serve.log" &
serve_pid=$!; pids+=("$serve_pid")
for _ in $(seq 100); do grep -q "listening" "$out/serve.log" 2>/dev/null && break; sleep 0.1; done
# The autoscope process under `timeout`, whose memory is measured.
rss_pid="$(pgrep -P "$serve_pid" | head -1)"
timeout $((seconds + 240)) "$load" --target "grpc://$grpc" --rate "$rate" --duration "$seconds" \
    --spike-at "$spike_at" --spike-for "$spike_for" --spike-factor 10 \
    --sink "$sink" --sink-linger 40 --report "$out/load.json" "$@" > "$out/load.out" 2>&1 &
load_pid=$!; pids+=("$load_pid")
: > "$out/samples.tsv"
echo -e "t\trss_bytes\tscale\tbytes_decided\tbytes_kept\tspans_buffered" >> "$out/samples.tsv"
start=$(date +%s)
while kill -0 "$load_pid" 2>/dev/null; do
    now=$(( $(date +%s) - start ))
    rss=$(awk '/VmRSS/ {print $2 * 1024}' "/proc/$rss_pid/status" 2>/dev/null || echo 0)
    metrics="$(curl -s "http://$admin/metrics" || true)"
    value() { echo "$metrics" | awk -v m="$1" '$1 == m {print $2}' | head -1; }
    echo -e "$now\t$rss\t$(value autoscope_controller_scale)\t$(value autoscope_bytes_decided_total)\t$(value autoscope_bytes_kept_total)\t$(value autoscope_spans_buffered)" >> "$out/samples.tsv"
    sleep 5
done
wait "$load_pid" || true
curl -s "http://$admin/metrics" > "$out/metrics-end.txt"
awk '/VmHWM/ {print $2 * 1024}' "/proc/$rss_pid/status" > "$out/peak_rss_bytes" 2>/dev/null || true
kill -TERM "$serve_pid"; wait "$serve_pid" || true
python3 - "$out" "$memory_bytes" "$spike_at" "$spike_for" <<'PY'
import json, sys
out, limit, spike_at, spike_for = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
rows = [l.rstrip("\n").split("\t") for l in open(f"{out}/samples.tsv")][1:]
rows = [r for r in rows if len(r) == 6 and all(r)]
rss = [int(float(r[1])) for r in rows]
metrics = {}
for line in open(f"{out}/metrics-end.txt"):
    if line.startswith("#") or " " not in line:
        continue
    name, value = line.rsplit(" ", 1)
    metrics[name] = float(value)
def total(prefix):
    return sum(v for k, v in metrics.items() if k.startswith(prefix))
received = total("autoscope_spans_received_total")
kept = total("autoscope_spans_kept_total")
dropped = total('autoscope_spans_dropped_total{reason="decision"}')
other_drops = total("autoscope_spans_dropped_total") - dropped
# Kept share of bytes per minute (counter deltas), from two minutes after the spike.
minutes = []
for a, b in zip(rows, rows[12:]):
    if float(a[0]) % 60 < 5 and float(a[0]) > spike_at + spike_for + 120:
        decided = float(b[3]) - float(a[3])
        if decided > 0:
            minutes.append(round((float(b[4]) - float(a[4])) / decided, 4))
after = minutes
target = 0.1
load = json.load(open(f"{out}/load.json"))
result = {
    "max_rss_bytes_sampled": max(rss) if rss else None,
    "peak_rss_bytes": int(open(f"{out}/peak_rss_bytes").read().strip() or 0),
    "limit_bytes": limit,
    "memory_under_limit": bool(rss) and max(rss) < limit and int(open(f"{out}/peak_rss_bytes").read().strip() or 0) < limit,
    "spans_sent": load["spans_sent"],
    "received": received, "kept": kept, "dropped_by_decision": dropped,
    "dropped_otherwise": other_drops,
    "nothing_lost": received == kept + dropped and other_drops == 0 and received == load["spans_sent"],
    "sink_spans": load["sink_spans"],
    "forwarded_all_kept": load["sink_spans"] == kept,
    "kept_share_per_minute_after_spike": after,
    "controller_within_2_points": bool(after) and all(abs(a - target) <= 0.02 for a in after),
}
json.dump(result, open(f"{out}/soak.json", "w"), indent=1)
print(json.dumps(result, indent=1))
sys.exit(0 if result["memory_under_limit"] and result["nothing_lost"] and result["controller_within_2_points"] else 1)
PY
