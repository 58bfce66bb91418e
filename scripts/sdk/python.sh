#!/usr/bin/env bash
# Builds and tests the Python SDK sampler (sdk/python, package autoscope-otel): a venv
# under ${AUTOSCOPE_CACHE:-~/.cache/autoscope}/venv-sdk-python, the package installed
# with its test extras (pinned), ruff (lint and format), pytest (the conformance
# vectors of conformance/v1 among the tests).
set -euo pipefail
HERE="$(cd "$(dirname "$0")/../../sdk/python" && pwd)"
CACHE="${AUTOSCOPE_CACHE:-$HOME/.cache/autoscope}"
VENV="$CACHE/venv-sdk-python"
PY="${PYTHON:-python3}"
mkdir -p "$CACHE"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$HERE[test]"
cd "$HERE"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/python" -m pytest -q "$@"
