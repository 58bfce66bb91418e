#!/usr/bin/env bash
# Regenerates quotes_pb2.py and quotes_pb2_grpc.py from proto/quotes.proto into this
# service and into storefront (its client). Needs grpcio-tools 1.76.0, the last release
# whose generated code runs on protobuf 6 (the OTLP exporter's): pip install
# grpcio-tools==1.76.0 protobuf==6.33.6, then PYTHON=that-python gen.sh. The generated
# files are committed, so running the services needs none of this.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
for out in . ../storefront; do
  "$PY" -m grpc_tools.protoc -I proto --python_out="$out" --grpc_python_out="$out" proto/quotes.proto
done
