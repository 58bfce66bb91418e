#!/usr/bin/env bash
# Injects delay and contention faults into the TrainTicket traces and evaluates a policy
# on them with `eval --faults` (docs/faults.md has the figures this printed).
#
#   scripts/faults/measure.sh OUT POLICY-SKYWALKING.json POLICY-OTEL.json [DATA]
#
# DATA defaults to ../shared/data (deeptralog-trainticket/, nezha-trainticket-otel/).
# Writes the faulted CSVs, the faults files and each eval's JSON and table into OUT.
set -euo pipefail
out=${1:?OUT folder}
sw_policy=${2:?policy for the SkyWalking traces}
otel_policy=${3:?policy for the OpenTelemetry traces}
data=${4:-"$(dirname "$0")/../../../shared/data"}
bin=${AUTOSCOPE:-target/release/autoscope}
mkdir -p "$out"
sw="$data/deeptralog-trainticket"
otel="$data/nezha-trainticket-otel"

# name kind args... input: inject into $out/name.csv with faults in $out/name.tsv
inject() {
  local name=$1; shift
  "$bin" inject "$@" -o "$out/$name.csv" --faults "$out/$name.tsv"
}

# SkyWalking: 2% of the traces after a warm-up of 50, factor 5; contention in the
# service each workload calls downstream.
inject f02-delay delay --share 0.02 --factor 5 --seed 1 --warm-up 50 "$sw/F02normal01_spans.csv"
inject consign-delay delay --share 0.02 --factor 5 --seed 1 --warm-up 50 "$sw/normal_put_consign_spans.csv"
inject f02-contention contention --service ts-delivery-service --share 0.02 --factor 5 --seed 1 --warm-up 50 "$sw/F02normal01_spans.csv"
inject consign-contention contention --service ts-consign-price-service --share 0.02 --factor 5 --seed 1 --warm-up 50 "$sw/normal_put_consign_spans.csv"
# OpenTelemetry: 71 and 62 traces, so 20% of the traces after a warm-up of 10.
for f in 2023-01-29_08_50 2023-01-30_11_39; do
  inject "otel-$f-delay" delay --share 0.2 --factor 5 --seed 1 --warm-up 10 "$otel/${f}_trace.csv"
  inject "otel-$f-contention" contention --service ts-order-service --share 0.2 --factor 5 --seed 1 --warm-up 10 "$otel/${f}_trace.csv"
done

# eval name policy kind files...: one eval over the files of one trace set and kind.
evaluate() {
  local name=$1 policy=$2; shift 2
  local args=()
  for f in "$@"; do args+=("$out/$f.csv" --faults "$out/$f.tsv"); done
  "$bin" eval -q -p "$policy" "${args[@]}" > "$out/$name.txt"
  "$bin" eval -q -p "$policy" "${args[@]}" --json > "$out/$name.json"
}
evaluate skywalking-delay "$sw_policy" f02-delay consign-delay
evaluate skywalking-contention "$sw_policy" f02-contention consign-contention
evaluate otel-delay "$otel_policy" otel-2023-01-29_08_50-delay otel-2023-01-30_11_39-delay
evaluate otel-contention "$otel_policy" otel-2023-01-29_08_50-contention otel-2023-01-30_11_39-contention

# The totals: per method kept spans, byte reduction, slowed spans kept, root cause.
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
for name in ["skywalking-delay", "skywalking-contention", "otel-delay", "otel-contention"]:
    report = json.load(open(f"{out}/{name}.json"))
    allspans = report["faults"]["root_cause_all_spans"]
    print(f"{name}: {allspans['faulted_spans']} slowed spans in {allspans['faulted_traces']} traces; "
          f"root cause from all spans top-1 {100*allspans['root_cause_top1_accuracy']:.1f}% "
          f"top-3 {100*allspans['root_cause_top3_accuracy']:.1f}%")
    for row in report["total"]:
        f = row["faults"]
        print(f"  {row['method']:<20} kept {row['kept_spans']:>7} bytes removed {100*row['byte_reduction']:5.1f}% "
              f"slowed kept {100*f['slowed_span_coverage']:5.1f}% "
              f"top-1 {100*f['root_cause_top1_accuracy']:5.1f}% top-3 {100*f['root_cause_top3_accuracy']:5.1f}%")
    thresholds = [m.get("latency_threshold_ms") for file in report["files"] for m in file["methods"] if m["method"] == "tail latency"]
    print(f"  tail latency thresholds (ms, per file): {thresholds}")
PY
