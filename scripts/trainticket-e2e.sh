#!/usr/bin/env bash
# The worked example: derive a policy from the TrainTicket code, then measure it on
# TrainTicket's real traces.
#
#   scripts/trainticket-e2e.sh PATH/TO/train-ticket PATH/TO/deeptralog-trainticket [OUT-DIR]
#
# PATH/TO/train-ticket: a checkout of FudanSELab/train-ticket (the 2021 code, the
# ts-*-service folders). PATH/TO/deeptralog-trainticket: the SkyWalking span CSVs from
# FudanSELab/DeepTraLog (TraceLogData/). OUT-DIR (default ./trainticket-e2e) receives
# the policies, the eval and coverage reports and the sampled traces.
#
# Two policies: `policy.json` from the code alone, and `policy-calibrated.json` from the
# code plus a trace sample (`analyze --traces`): half of the traces (trace ids whose
# next-to-last character is an even digit: SkyWalking ids all end in an odd one),
# evaluated on the other half. TARGET (default 0.9) is the target
# reduction of both.
set -euo pipefail
if [ $# -lt 2 ]; then
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
code=$1
traces=$2
out=${3:-trainticket-e2e}
[ -d "$code" ] || { echo "no such folder: $code" >&2; exit 2; }
[ -d "$traces" ] || { echo "no such folder: $traces" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$here/Cargo.toml" -p autoscope
bin="${CARGO_TARGET_DIR:-$here/target}/release/autoscope"
mkdir -p "$out"
shopt -s nullglob
files=("$traces"/*.csv)
[ ${#files[@]} -gt 0 ] || { echo "no .csv trace files in $traces" >&2; exit 2; }

target=${TARGET:-0.9}

echo "== analyze $code (target reduction $target)" >&2
"$bin" analyze "$code" --target-reduction "$target" -o "$out/policy.json"
echo "== coverage" >&2
"$bin" coverage --policy "$out/policy.json" "${files[@]}" | tee "$out/coverage.txt"
echo "== eval: policy from the code" >&2
"$bin" eval --policy "$out/policy.json" "${files[@]}" | tee "$out/eval.txt"
echo "== sample" >&2
"$bin" sample --policy "$out/policy.json" "${files[@]}" -o "$out/sampled" --report

# Calibration on half the traces, evaluation on the other half (split by trace id).
mkdir -p "$out/calibration" "$out/holdout"
for f in "${files[@]}"; do
  name=$(basename "$f")
  awk -F, 'NR == 1 || $7 ~ /[02468].$/' "$f" > "$out/calibration/$name"
  awk -F, 'NR == 1 || $7 !~ /[02468].$/' "$f" > "$out/holdout/$name"
done
echo "== analyze with a trace sample (calibration half)" >&2
"$bin" analyze "$code" --target-reduction "$target" --traces "$out"/calibration/*.csv \
  -o "$out/policy-calibrated.json"
echo "== eval: calibrated policy on the holdout half" >&2
"$bin" eval --policy "$out/policy-calibrated.json" "$out"/holdout/*.csv | tee "$out/eval-calibrated.txt"
