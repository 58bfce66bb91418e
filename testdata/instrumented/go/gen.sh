#!/usr/bin/env bash
# Regenerates pricingpb/*.pb.go from proto/pricing.proto. Needs protoc (Debian:
# apt-get install protobuf-compiler); installs the two Go plugins at fixed versions into
# ~/.cache/autoscope/bin. The generated files are committed, so building needs none of this.
set -euo pipefail
cd "$(dirname "$0")"
bin="$HOME/.cache/autoscope/bin"
mkdir -p "$bin"
GOBIN="$bin" go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
GOBIN="$bin" go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
PATH="$bin:$PATH" protoc -I proto \
  --go_out=. --go_opt=module=example.com/instrumented \
  --go-grpc_out=. --go-grpc_opt=module=example.com/instrumented \
  proto/pricing.proto
