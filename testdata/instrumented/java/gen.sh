#!/usr/bin/env bash
# Regenerates the gRPC classes of proto/stock.proto (package example.stock.grpc) into
# inventory (the server) and orders (its client), with protoc 4.33.4 and
# protoc-gen-grpc-java 1.83.1 fetched from Maven Central by Maven; the runtime versions
# in the poms match them (protobuf-java 4.33.4, grpc 1.83.1). The generated files are
# committed, so building the services needs none of this.
set -euo pipefail
cd "$(dirname "$0")"
TOOLS=${TMPDIR:-/tmp}/autoscope-protoc
mkdir -p "$TOOLS"
for artifact in com.google.protobuf:protoc:4.33.4:exe:linux-x86_64 io.grpc:protoc-gen-grpc-java:1.83.1:exe:linux-x86_64; do
  mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="$artifact" -DoutputDirectory="$TOOLS"
done
chmod +x "$TOOLS"/*.exe
for out in inventory/src/main/java orders/src/main/java; do
  rm -rf "$out/example/stock/grpc"
  "$TOOLS/protoc-4.33.4-linux-x86_64.exe" \
    --plugin=protoc-gen-grpc-java="$TOOLS/protoc-gen-grpc-java-1.83.1-linux-x86_64.exe" \
    -I proto --java_out="$out" --grpc-java_out="$out" proto/stock.proto
done
