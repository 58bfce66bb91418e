#!/usr/bin/env bash
# Runs the small services of testdata/instrumented/LANG under the real OpenTelemetry
# instrumentation, drives a scripted load through every endpoint, and leaves what their
# exporters sent in OUT_DIR/LANG[-agentN].otlp.jsonl (one OTLP/JSON request per line).
#
# usage: scripts/instrumented/run.sh LANG OUT_DIR [options]
#   LANG                 java | python | go
#   --java-agent 1|2|X.Y.Z  OpenTelemetry Java agent: 2 = 2.21.0 (default), 1 = 1.33.6,
#                        or any released version (output java-agent-X.Y.Z.otlp.jsonl)
#   --jvm-opt OPT        extra JVM option for every Java service (repeatable), e.g.
#                        --jvm-opt -Dotel.javaagent.extensions=autoscope-otel.jar
#   --env NAME=VALUE     extra environment for every service (repeatable), e.g.
#                        --env OTEL_TRACES_SAMPLER=autoscope
#   --pip-install SPEC   also install SPEC (a path or requirement) into the Python
#                        services' virtualenv, e.g. the Autoscope sampler package; a local
#                        path is reinstalled on every run (repeatable)
#   --rounds N           times the load file is replayed (default 3)
#   --no-check           skip check_capture.py on the result
#   --emitted-names      rewrite testdata/instrumented/LANG/emitted-names[-agentN].txt
#
# Installs what it needs: the Java agent jar from Maven Central and the Maven build into
# the services' target/ folders; Python packages into a virtualenv under
# ~/.cache/autoscope/ (AUTOSCOPE_CACHE overrides); Go modules through the Go toolchain.
# Everything listens on 127.0.0.1 on ports the OS picks; every process has a time limit
# and is stopped on exit, failed or not.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/scripts/instrumented"
CACHE=${AUTOSCOPE_CACHE:-$HOME/.cache/autoscope}
JAVA_AGENT_VERSIONS=([1]=1.33.6 [2]=2.21.0)
SERVICE_TIMEOUT=${INSTRUMENTED_SERVICE_TIMEOUT:-600} # upper bound on a service's life, s
STARTUP_TIMEOUT=${INSTRUMENTED_STARTUP_TIMEOUT:-180} # wait for health endpoints, s

die() {
  echo "run.sh: $*" >&2
  exit 2
}

# run.sh --print-venv: make the virtualenv (capture tools, Python services), print its path.
PRINT_VENV=0
if [ "${1:-}" = --print-venv ]; then
  PRINT_VENV=1
  set -- python "${TMPDIR:-/tmp}"
fi
[ $# -ge 2 ] || die "usage: run.sh LANG OUT_DIR [--java-agent 1|2] [--jvm-opt OPT]... [--env NAME=VALUE]... [--rounds N] [--no-check] [--emitted-names]"
LANG_NAME=$1
OUT_DIR=$2
shift 2
AGENT=2
JVM_OPTS=()
EXTRA_ENV=()
PIP_EXTRA=()
ROUNDS=3
CHECK=1
EMITTED=0
while [ $# -gt 0 ]; do
  case $1 in
  --java-agent) AGENT=${2:?--java-agent needs 1 or 2}; shift 2 ;;
  --jvm-opt) JVM_OPTS+=("${2:?--jvm-opt needs a value}"); shift 2 ;;
  --env)
    [[ ${2:-} == *=* ]] || die "--env needs NAME=VALUE"
    EXTRA_ENV+=("$2"); shift 2 ;;
  --pip-install) PIP_EXTRA+=("${2:?--pip-install needs a path or requirement}"); shift 2 ;;
  --rounds) ROUNDS=${2:?--rounds needs a number}; shift 2 ;;
  --no-check) CHECK=0; shift ;;
  --emitted-names) EMITTED=1; shift ;;
  *) die "unknown option $1" ;;
  esac
done
case $LANG_NAME in java | python | go) ;; *) die "LANG must be java, python or go, not '$LANG_NAME'" ;; esac
if [[ $AGENT =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  AGENT_VERSION=$AGENT
  AGENT_TAG="-$AGENT"
elif [[ $AGENT =~ ^[12]$ ]]; then
  AGENT_VERSION=${JAVA_AGENT_VERSIONS[$AGENT]}
  AGENT_TAG=$AGENT
else
  die "--java-agent must be 1, 2 or a version X.Y.Z, not '$AGENT'"
fi
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive number"
mkdir -p "$OUT_DIR" || die "cannot create $OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)

SUITE="$ROOT/testdata/instrumented/$LANG_NAME"
TAG=$LANG_NAME
[ "$LANG_NAME" = java ] && TAG="java-agent$AGENT_TAG"
CAPTURE="$OUT_DIR/$TAG.otlp.jsonl"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/instrumented-$TAG.XXXXXX")
# The receiver writes here; the capture reaches OUT_DIR only when the run got that far,
# so a failed run neither leaves a partial capture nor replaces an earlier one.
RECEIVED="$WORK/$TAG.otlp.jsonl"
LOGS="$WORK/logs"
mkdir -p "$LOGS"
PIDS=()
NAMES=()
RECEIVER_PID=

cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$RECEIVER_PID" ]; then
    kill -TERM "$RECEIVER_PID" 2>/dev/null || true
    wait "$RECEIVER_PID" 2>/dev/null || true
  fi
  if [ $status -ne 0 ] && [ -d "$LOGS" ]; then
    for log in "$LOGS"/*.log; do
      [ -s "$log" ] || continue
      echo "---- last lines of $(basename "$log")" >&2
      tail -n 25 "$log" >&2
    done
  fi
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "run.sh [$TAG] $*" >&2; }

# --- tools -----------------------------------------------------------------------------

# The virtualenv holds the receiver's packages and the Python services' requirements;
# its name carries a hash of the requirement files, so a change makes a new one.
python_env() {
  local reqs=("$HERE/requirements.txt" "$ROOT"/testdata/instrumented/python/*/requirements.txt)
  local key
  key=$( (cat "${reqs[@]}"; printf '%s\n' "${PIP_EXTRA[@]}") | sha256sum | cut -c1-12)
  VENV="$CACHE/venv-instrumented-$key"
  if [ ! -x "$VENV/bin/python" ] || [ ! -f "$VENV/.complete" ]; then
    log "installing Python packages into $VENV"
    rm -rf "$VENV"
    mkdir -p "$CACHE"
    python3 -m venv "$VENV"
    local args=()
    for r in "${reqs[@]}"; do args+=(-r "$r"); done
    timeout 900 "$VENV/bin/pip" install --quiet --disable-pip-version-check "${args[@]}"
    for spec in "${PIP_EXTRA[@]}"; do timeout 900 "$VENV/bin/pip" install --quiet "$spec"; done
    touch "$VENV/.complete"
  fi
  for spec in "${PIP_EXTRA[@]}"; do
    if [ -e "$spec" ]; then # a local package may have changed since the last run
      timeout 900 "$VENV/bin/pip" install --quiet --no-deps --force-reinstall "$spec"
    fi
  done
  PY="$VENV/bin/python"
}

if [ $PRINT_VENV -eq 1 ]; then
  python_env
  echo "$VENV"
  exit 0
fi

java_agent() {
  local version=$AGENT_VERSION
  AGENT_JAR="$CACHE/javaagent/opentelemetry-javaagent-$version.jar"
  if [ ! -s "$AGENT_JAR" ]; then
    log "fetching opentelemetry-javaagent $version from Maven Central"
    mkdir -p "$CACHE/javaagent"
    timeout 600 mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="io.opentelemetry.javaagent:opentelemetry-javaagent:$version" \
      -DoutputDirectory="$CACHE/javaagent" >"$LOGS/agent-fetch.log" 2>&1 ||
      die "could not fetch the Java agent (see above)"
  fi
}

build() {
  case $LANG_NAME in
  java)
    java_agent
    log "building the Maven project"
    timeout 1200 mvn -B -q -Dstyle.color=never -f "$SUITE/pom.xml" package >"$LOGS/mvn.log" 2>&1 || die "mvn package failed"
    ;;
  go)
    log "building the Go services"
    (cd "$SUITE" && timeout 1200 go build -mod=readonly -o "$WORK/bin/" ./cmd/...) >"$LOGS/go-build.log" 2>&1 ||
      die "go build failed"
    ;;
  python) ;; # the virtualenv is all it needs
  esac
}

# Free loopback ports, picked by the OS (bound, then released for the service to take).
free_ports() {
  "$PY" - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# start NAME COMMAND...: runs a service in the background with the common environment,
# a time limit and its own log.
start() {
  local name=$1
  shift
  env "${SERVICE_ENV[@]}" "${EXTRA_ENV[@]}" timeout "$SERVICE_TIMEOUT" "$@" >"$LOGS/$name.log" 2>&1 &
  PIDS+=($!)
  NAMES+=("$name")
}

wait_http() {
  local url=$1 deadline=$((SECONDS + STARTUP_TIMEOUT))
  until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
    for i in "${!PIDS[@]}"; do
      kill -0 "${PIDS[$i]}" 2>/dev/null || die "${NAMES[$i]} exited before $url answered"
    done
    [ $SECONDS -lt $deadline ] || die "$url did not answer within ${STARTUP_TIMEOUT}s"
    sleep 0.5
  done
}

# Waits until something listens on a loopback port (bounded, like wait_http).
wait_tcp() {
  local port=$1 deadline=$((SECONDS + STARTUP_TIMEOUT))
  until "$PY" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$port" 2>/dev/null; do
    for i in "${!PIDS[@]}"; do
      kill -0 "${PIDS[$i]}" 2>/dev/null || die "${NAMES[$i]} exited before port $port answered"
    done
    [ $SECONDS -lt $deadline ] || die "port $port did not answer within ${STARTUP_TIMEOUT}s"
    sleep 0.5
  done
}

spans_received() { curl -fsS --max-time 2 "$RECEIVER/stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["spans"])'; }

# Waits until the receiver's span count has not moved for `quiet` seconds (bounded).
wait_quiet() {
  local quiet=$1 limit=$2 last=-1 still=0 deadline=$((SECONDS + $2)) now
  while [ $SECONDS -lt $deadline ]; do
    now=$(spans_received)
    if [ "$now" = "$last" ]; then
      still=$((still + 1))
      [ $still -ge $((quiet * 2)) ] && return 0
    else
      still=0
      last=$now
    fi
    sleep 0.5
  done
  log "span count still moving after ${limit}s; going on"
}

# --- run -------------------------------------------------------------------------------

python_env
build

log "starting the capture receiver"
timeout "$SERVICE_TIMEOUT" "$PY" "$HERE/otlp_capture.py" --output "$RECEIVED" --port-file "$WORK/receiver.port" \
  >"$LOGS/receiver.log" 2>&1 &
RECEIVER_PID=$!
for _ in $(seq 100); do [ -s "$WORK/receiver.port" ] && break; sleep 0.1; done
[ -s "$WORK/receiver.port" ] || die "the capture receiver did not start"
RECEIVER="http://127.0.0.1:$(cat "$WORK/receiver.port")"
TRACES_ENDPOINT="$RECEIVER/v1/traces"

# Exporter settings common to every language: OTLP over HTTP with protobuf, traces only,
# a short batch delay so spans arrive while the load runs.
SERVICE_ENV=(
  OTEL_TRACES_EXPORTER=otlp
  OTEL_METRICS_EXPORTER=none
  OTEL_LOGS_EXPORTER=none
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="$TRACES_ENDPOINT"
  OTEL_BSP_SCHEDULE_DELAY=200
)
TARGETS=()
HEALTH=()
TCP_HEALTH=() # loopback ports of services with no HTTP endpoint (a gRPC server)

case $LANG_NAME in
java)
  read -r P_INVENTORY P_ORDERS P_STOCK_GRPC < <(free_ports 3)
  # Fast JVM start on a small machine; the agent and its exporter as the brief asks.
  JAVA_BASE=(java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx384m "-javaagent:$AGENT_JAR"
    -Dotel.exporter.otlp.protocol=http/protobuf "-Dotel.exporter.otlp.traces.endpoint=$TRACES_ENDPOINT"
    -Dotel.bsp.schedule.delay=200 "${JVM_OPTS[@]}")
  start inventory "${JAVA_BASE[@]}" -Dotel.service.name=inventory -jar "$SUITE/inventory/target/inventory.jar" \
    --server.port="$P_INVENTORY" --grpc.port="$P_STOCK_GRPC"
  start orders "${JAVA_BASE[@]}" -Dotel.service.name=orders -jar "$SUITE/orders/target/orders.jar" \
    --server.port="$P_ORDERS" --inventory.base-url="http://127.0.0.1:$P_INVENTORY" \
    --inventory.grpc-target="127.0.0.1:$P_STOCK_GRPC"
  TARGETS=(--target "inventory=http://127.0.0.1:$P_INVENTORY" --target "orders=http://127.0.0.1:$P_ORDERS")
  HEALTH=("http://127.0.0.1:$P_INVENTORY/items" "http://127.0.0.1:$P_ORDERS/shop/orders")
  TCP_HEALTH=("$P_STOCK_GRPC")
  ;;
python)
  read -r P_CATALOG P_STOCK P_QUOTES P_STOREFRONT < <(free_ports 4)
  start catalog env OTEL_SERVICE_NAME=catalog "$VENV/bin/opentelemetry-instrument" \
    "$VENV/bin/uvicorn" app:app --app-dir "$SUITE/catalog" --host 127.0.0.1 --port "$P_CATALOG" --no-access-log
  start stock env OTEL_SERVICE_NAME=stock PORT="$P_STOCK" \
    "$VENV/bin/opentelemetry-instrument" "$PY" "$SUITE/stock/app.py"
  start quotes env OTEL_SERVICE_NAME=quotes PORT="$P_QUOTES" \
    "$VENV/bin/opentelemetry-instrument" "$PY" "$SUITE/quotes/app.py"
  # In the work folder, so its default database file (named in span names) lands there.
  start storefront env -C "$WORK" OTEL_SERVICE_NAME=storefront PORT="$P_STOREFRONT" \
    CATALOG_URL="http://127.0.0.1:$P_CATALOG" STOCK_URL="http://127.0.0.1:$P_STOCK" \
    QUOTES_ADDRESS="127.0.0.1:$P_QUOTES" \
    "$VENV/bin/opentelemetry-instrument" "$PY" "$SUITE/storefront/app.py"
  TARGETS=(--target "catalog=http://127.0.0.1:$P_CATALOG" --target "stock=http://127.0.0.1:$P_STOCK"
    --target "storefront=http://127.0.0.1:$P_STOREFRONT")
  HEALTH=("http://127.0.0.1:$P_CATALOG/health" "http://127.0.0.1:$P_STOCK/health" "http://127.0.0.1:$P_STOREFRONT/health")
  TCP_HEALTH=("$P_QUOTES")
  ;;
go)
  read -r P_GRPC P_PRICING P_FRONTEND P_CATALOG P_INVENTORY P_REVIEWS P_SEARCH < <(free_ports 7)
  start pricing env OTEL_SERVICE_NAME=pricing "$WORK/bin/pricing" -grpc "127.0.0.1:$P_GRPC" -http "127.0.0.1:$P_PRICING"
  start frontend env OTEL_SERVICE_NAME=frontend "$WORK/bin/frontend" -http "127.0.0.1:$P_FRONTEND" \
    -pricing-grpc "127.0.0.1:$P_GRPC" -pricing-http "http://127.0.0.1:$P_PRICING"
  start catalog env OTEL_SERVICE_NAME=catalog "$WORK/bin/catalog" -http "127.0.0.1:$P_CATALOG"
  start inventory env OTEL_SERVICE_NAME=inventory "$WORK/bin/inventory" -http "127.0.0.1:$P_INVENTORY"
  start reviews env OTEL_SERVICE_NAME=reviews "$WORK/bin/reviews" -http "127.0.0.1:$P_REVIEWS"
  start search env OTEL_SERVICE_NAME=search "$WORK/bin/search" -http "127.0.0.1:$P_SEARCH"
  TARGETS=(--target "frontend=http://127.0.0.1:$P_FRONTEND" --target "pricing-http=http://127.0.0.1:$P_PRICING"
    --target "catalog=http://127.0.0.1:$P_CATALOG" --target "inventory=http://127.0.0.1:$P_INVENTORY"
    --target "reviews=http://127.0.0.1:$P_REVIEWS" --target "search=http://127.0.0.1:$P_SEARCH")
  HEALTH=("http://127.0.0.1:$P_PRICING/health" "http://127.0.0.1:$P_FRONTEND/health"
    "http://127.0.0.1:$P_CATALOG/health" "http://127.0.0.1:$P_INVENTORY/health" "http://127.0.0.1:$P_REVIEWS/health"
    "http://127.0.0.1:$P_SEARCH/health")
  ;;
esac

log "waiting for ${NAMES[*]}"
for port in "${TCP_HEALTH[@]}"; do wait_tcp "$port"; done
for url in "${HEALTH[@]}"; do wait_http "$url"; done
log "load: $SUITE/load.txt x $ROUNDS"
# A client library's first request loads and instruments its classes (WebClient on
# Reactor Netty takes seconds on a busy two-core machine): 30 s per request at most.
timeout 300 "$PY" "$HERE/load.py" "$SUITE/load.txt" "${TARGETS[@]}" --rounds "$ROUNDS" --timeout 30

log "waiting for the exporters to flush"
wait_quiet 2 30
# A clean stop flushes what the batch processors still hold. Python's default SIGTERM
# skips atexit handlers, so the Flask service gets SIGINT; the others stop on SIGTERM.
for i in "${!PIDS[@]}"; do
  if [ "$LANG_NAME" = python ]; then kill -INT "${PIDS[$i]}"; else kill -TERM "${PIDS[$i]}"; fi
done
for i in "${!PIDS[@]}"; do
  rc=0
  wait "${PIDS[$i]}" || rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 130 ] || [ $rc -eq 143 ] || log "${NAMES[$i]} exited with status $rc"
done
PIDS=()
wait_quiet 1 10
kill -TERM "$RECEIVER_PID"
wait "$RECEIVER_PID" || die "the capture receiver failed (see its log)"
RECEIVER_PID=
cat "$LOGS/receiver.log" >&2
[ -s "$RECEIVED" ] || die "the receiver wrote no spans"
cp "$RECEIVED" "$CAPTURE.tmp.$$"
mv -f "$CAPTURE.tmp.$$" "$CAPTURE"

if [ $CHECK -eq 1 ] || [ $EMITTED -eq 1 ]; then
  args=("$CAPTURE" --expect "$SUITE/expect.json")
  [ $EMITTED -eq 1 ] && args+=(--emitted-names "$SUITE/emitted-names${TAG#"$LANG_NAME"}.txt")
  [ -n "${AUTOSCOPE:-}" ] && args+=(--autoscope "$AUTOSCOPE")
  "$PY" "$HERE/check_capture.py" "${args[@]}"
fi
log "capture: $CAPTURE"
