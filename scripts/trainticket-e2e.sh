#!/usr/bin/env bash
# The worked example: derive a policy from the TrainTicket code, then measure it on
# TrainTicket's real traces.
#
#   scripts/trainticket-e2e.sh PATH/TO/train-ticket PATH/TO/deeptralog-trainticket [OUT-DIR]
#
# PATH/TO/train-ticket: a checkout of FudanSELab/train-ticket (the 2021 code, the
# ts-*-service folders). PATH/TO/deeptralog-trainticket: the SkyWalking span CSVs from
# FudanSELab/DeepTraLog (TraceLogData/). OUT-DIR (default ./trainticket-e2e) receives
# the policy, the eval and coverage reports and the sampled traces.
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

echo "== analyze $code" >&2
"$bin" analyze "$code" --target-reduction 0.9 -o "$out/policy.json"
echo "== coverage" >&2
"$bin" coverage --policy "$out/policy.json" "${files[@]}" | tee "$out/coverage.txt"
echo "== eval" >&2
"$bin" eval --policy "$out/policy.json" "${files[@]}" | tee "$out/eval.txt"
echo "== sample" >&2
"$bin" sample --policy "$out/policy.json" "${files[@]}" -o "$out/sampled" --report
