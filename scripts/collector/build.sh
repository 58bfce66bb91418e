#!/usr/bin/env bash
# Builds the OpenTelemetry Collector of manifest.yaml with the official collector
# builder (go.opentelemetry.io/collector/cmd/builder, same release as the components)
# and prints the binary's path. The build is cached under
# ${AUTOSCOPE_CACHE:-~/.cache/autoscope}/collector/<manifest hash>/ and reused while the
# manifest is unchanged; without a cache it is built from scratch (needs Go and the Go
# module proxy; several minutes on 2 cores).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${AUTOSCOPE_CACHE:-$HOME/.cache/autoscope}/collector"
hash="$(sha256sum "$here/manifest.yaml" | cut -c1-16)"
out="$cache/$hash"
binary="$out/otelcol-autoscope/otelcol-autoscope"
if [[ -x "$binary" ]]; then
    echo "$binary"
    exit 0
fi
command -v go >/dev/null || { echo "build.sh: go not found (the Collector is built from Go modules)" >&2; exit 1; }
builder_version="$(sed -n 's/^  version: *//p' "$here/manifest.yaml")"
work="$(mktemp -d "$cache.build.XXXXXX" 2>/dev/null || { mkdir -p "$cache"; mktemp -d "$cache.build.XXXXXX"; })"
trap 'rm -rf "$work"' EXIT
export GOBIN="$work/bin" GOFLAGS="${GOFLAGS:-} -mod=mod"
echo "build.sh: building the collector builder v$builder_version" >&2
go install "go.opentelemetry.io/collector/cmd/builder@v$builder_version" >&2
cp "$here/manifest.yaml" "$work/manifest.yaml"
echo "build.sh: building the Collector (cached in $out)" >&2
(cd "$work" && "$GOBIN/builder" --config manifest.yaml >&2)
mkdir -p "$cache"
rm -rf "$out"
mkdir -p "$out/otelcol-autoscope"
cp "$work/otelcol-autoscope/otelcol-autoscope" "$binary"
echo "$binary"
