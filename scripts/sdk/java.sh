#!/usr/bin/env bash
# Builds and tests the Java SDK sampler (sdk/java): compiles with lint warnings as errors,
# runs the JUnit tests (all conformance vectors of conformance/v1 among them), checks the
# formatting (google-java-format, AOSP style) and packages target/autoscope-otel.jar, the
# agent extension. Needs a JDK 17+ and Maven; dependencies come from Maven Central into
# ~/.m2 (the first run downloads them). Bounded: JAVA_SDK_TIMEOUT seconds (default 1200).
#
# usage: scripts/sdk/java.sh [extra mvn arguments, e.g. -o for offline]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v mvn >/dev/null || { echo "java.sh: mvn not found (install Maven 3.8+)" >&2; exit 2; }
command -v java >/dev/null || { echo "java.sh: java not found (install a JDK 17+)" >&2; exit 2; }
timeout --kill-after=30 "${JAVA_SDK_TIMEOUT:-1200}" \
  mvn -B -q -f "$ROOT/sdk/java/pom.xml" "$@" verify
jar="$ROOT/sdk/java/target/autoscope-otel.jar"
[ -f "$jar" ] || { echo "java.sh: $jar was not built" >&2; exit 1; }
echo "java.sh: built $jar"
# Maven -q hides Surefire's summary: print the plain closing line from its reports.
python3 - "$ROOT/sdk/java/target/surefire-reports" <<'PY'
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
