#!/usr/bin/env bash
# Builds and tests the Go SDK sampler (sdk/go): gofmt, go vet, go test (the
# conformance vectors of conformance/v1 among the tests).
set -euo pipefail
cd "$(dirname "$0")/../../sdk/go"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt: not formatted: $unformatted" >&2
  exit 1
fi
go vet ./...
go test ./...
