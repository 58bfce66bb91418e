#!/usr/bin/env bash
# The Java SDK sampler (sdk/java). Needs a JDK 17+ and Maven; dependencies come from Maven
# Central into ~/.m2 (the first run downloads them). Every step has a time limit.
#
# usage: scripts/sdk/java.sh [test|agent|bench] [extra mvn arguments, e.g. -o]
#   test   (default) compile with lint warnings as errors, run the JUnit tests (all
#          conformance vectors of conformance/v1 among them), check the formatting
#          (google-java-format, AOSP style; `mvn -f sdk/java/pom.xml spotless:apply` fixes)
#          and package target/autoscope-otel.jar, the agent extension
#   agent  the real OpenTelemetry Java agent on testdata/instrumented/java with the jar and
#          sdk/java/src/test/agent/policy.json (scripts/instrumented/run.sh), then
#          sdk/java/src/test/agent/check_capture.py on what the agent exported
#   bench  JMH: decision cost and allocation per span, Autoscope against the SDK's
#          traceIdRatioBased and parentBased samplers in the same run
# JAVA_SDK_TIMEOUT bounds each Maven run, s (default 1200).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
POM="$ROOT/sdk/java/pom.xml"
TARGET="$ROOT/sdk/java/target"
JAR="$TARGET/autoscope-otel.jar"
MODE=test
case ${1:-} in test | agent | bench) MODE=$1; shift ;; esac
command -v mvn >/dev/null || { echo "java.sh: mvn not found (install Maven 3.8+)" >&2; exit 2; }
command -v java >/dev/null || { echo "java.sh: java not found (install a JDK 17+)" >&2; exit 2; }
mvn_bounded() {
  timeout --kill-after=30 "${JAVA_SDK_TIMEOUT:-1200}" mvn -B -q -f "$POM" "$@"
}

case $MODE in
test)
  mvn_bounded "$@" verify
  [ -f "$JAR" ] || { echo "java.sh: $JAR was not built" >&2; exit 1; }
  echo "java.sh: built $JAR"
  # Maven -q hides Surefire's summary: print the plain closing line from its reports.
  python3 - "$TARGET/surefire-reports" <<'PY'
import pathlib, sys, xml.etree.ElementTree as ET
tests = failed = skipped = 0
for report in pathlib.Path(sys.argv[1]).glob("TEST-*.xml"):
    suite = ET.parse(report).getroot()
    tests += int(suite.get("tests", 0))
    failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    skipped += int(suite.get("skipped", 0))
if tests == 0:
    sys.exit("java.sh: no test ran")
print(f"java: {tests - failed - skipped} passed, {failed} failed, {skipped} skipped")
PY
  ;;
agent)
  mvn_bounded "$@" -DskipTests package
  out=$(mktemp -d "${TMPDIR:-/tmp}/autoscope-java-agent.XXXXXX")
  trap 'rm -rf "$out"' EXIT
  # The two properties a user sets, and the extension jar; the agent version is run.sh's.
  "$ROOT/scripts/instrumented/run.sh" java "$out" --no-check --rounds 2 \
    --jvm-opt "-Dotel.javaagent.extensions=$JAR" \
    --jvm-opt -Dotel.traces.sampler=autoscope \
    --jvm-opt "-Dotel.traces.sampler.arg=$ROOT/sdk/java/src/test/agent/policy.json"
  if python3 "$ROOT/sdk/java/src/test/agent/check_capture.py" "$out"/java-agent*.otlp.jsonl; then
    echo "java-agent: 1 passed, 0 failed"
  else
    echo "java-agent: 0 passed, 1 failed"
    exit 1
  fi
  ;;
bench)
  mvn_bounded "$@" test-compile dependency:build-classpath -Dmdep.includeScope=test \
    "-Dmdep.outputFile=$TARGET/test-classpath.txt"
  timeout 1800 java -cp "$TARGET/test-classes:$TARGET/classes:$(cat "$TARGET/test-classpath.txt")" \
    org.openjdk.jmh.Main 'dev.autoscope.otel.bench.SamplerBenchmark' -prof gc -rf text \
    -rff "$TARGET/jmh-result.txt"
  ;;
esac
