#!/usr/bin/env bash
# The naming check of issue 10: analyze testdata/instrumented/LANG, then measure with
# `autoscope coverage` which distinct (service, span name) pairs of a real capture a
# specific rule of that policy matches. Fails below the threshold (95% by default) and
# lists the misses.
#
# usage: scripts/instrumented/check-naming.sh LANG CAPTURE [--java-agent 1|2]
#            [--threshold PERCENT] [--report-only]
#   CAPTURE        OUT_DIR/LANG[-agentN].otlp.jsonl written by run.sh
#   --java-agent   the agent the capture was made with: 1, 2 (default) or X.Y.Z
#   --report-only  print the figure and the misses, exit 0 whatever the share
# The autoscope binary is $AUTOSCOPE, else target/release or target/debug, else built.
# When `analyze` has --instrumentation, the profile of the capture's instrumentation is
# passed (INSTRUMENTATION_PROFILE overrides it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
die() {
  echo "check-naming.sh: $*" >&2
  exit 2
}
[ $# -ge 2 ] || die "usage: check-naming.sh LANG CAPTURE [--java-agent 1|2] [--threshold PERCENT] [--report-only]"
LANG_NAME=$1
CAPTURE=$2
shift 2
AGENT=2
THRESHOLD=95
REPORT_ONLY=0
while [ $# -gt 0 ]; do
  case $1 in
  --java-agent) AGENT=${2:?}; shift 2 ;;
  --threshold) THRESHOLD=${2:?}; shift 2 ;;
  --report-only) REPORT_ONLY=1; shift ;;
  *) die "unknown option $1" ;;
  esac
done
SUITE="$ROOT/testdata/instrumented/$LANG_NAME"
[ -d "$SUITE" ] || die "no services for '$LANG_NAME' in testdata/instrumented"
[ -s "$CAPTURE" ] || die "$CAPTURE: no such capture (run scripts/instrumented/run.sh first)"
case $LANG_NAME in
java)
  # --java-agent 1|2 or a full version X.Y.Z (as run.sh takes it); the profile is by major.
  PROFILE="otel-java@${AGENT%%.*}"
  if [[ $AGENT == *.* ]]; then LABEL="java-agent-$AGENT"; else LABEL="java-agent$AGENT"; fi
  ;;
python) PROFILE=otel-python; LABEL=python ;;
go) PROFILE=otel-go; LABEL=go ;;
*) die "LANG must be java, python or go" ;;
esac
PROFILE=${INSTRUMENTATION_PROFILE:-$PROFILE}

if [ -z "${AUTOSCOPE:-}" ]; then
  for candidate in "$ROOT/target/release/autoscope" "$ROOT/target/debug/autoscope"; do
    [ -x "$candidate" ] && AUTOSCOPE=$candidate && break
  done
fi
if [ -z "${AUTOSCOPE:-}" ]; then
  (cd "$ROOT" && cargo build -q -p autoscope) || die "cargo build failed"
  AUTOSCOPE="$ROOT/target/debug/autoscope"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/check-naming.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ANALYZE=("$AUTOSCOPE" analyze "$SUITE" -o "$WORK/policy.json" --quiet)
if "$AUTOSCOPE" analyze --help | grep -q -- '--instrumentation'; then
  ANALYZE+=(--instrumentation "$PROFILE")
else
  LABEL="$LABEL (default profile: analyze has no --instrumentation yet)"
fi
timeout 300 "${ANALYZE[@]}" || die "analyze failed"
timeout 300 "$AUTOSCOPE" coverage --policy "$WORK/policy.json" "$CAPTURE" --json --limit 0 >"$WORK/coverage.json" ||
  die "coverage failed"
rc=0
python3 "$ROOT/scripts/instrumented/naming_coverage.py" --policy "$WORK/policy.json" \
  --coverage "$WORK/coverage.json" --label "$LABEL" --threshold "$THRESHOLD" || rc=$?
[ $rc -le 1 ] || exit $rc
[ $REPORT_ONLY -eq 1 ] && exit 0
exit $rc
