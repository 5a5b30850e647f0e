#!/usr/bin/env bash
# Builds the OpenTelemetry Collector that bench/e2e.sh measures auditrelay
# against: receiver webhookevent (one log record per body line), exporter
# splunk_hec, extension file_storage (the exporter's persistent sending
# queue). Everything comes from the Go module proxy; the binary lands in
# $OTELCOL_DIR (default ${TMPDIR:-/tmp}/auditrelay-bench-otelcol), never in
# the repository.
#
#   bench/peer/build-otelcol.sh            # prints the binary's path
#   OTELCOL_VERSION=0.110.0 bench/peer/build-otelcol.sh
#
# Version: 0.110.0 is the newest release for which the proxy this project
# uses serves all three contrib modules (webhookeventreceiver is refused for
# 0.115.0, 0.118.0, 0.120.0 and 0.165.0: "This module version is not
# available"). In 0.110.0 the webhookevent receiver always splits a body at
# newlines (bufio.Scanner, one log record per line): what later releases
# call split_logs_at_newline = true.
#
# The checksum database is not reachable through that proxy for these
# modules (sumdb lookups answer 404), so the build runs with GOSUMDB=off:
# module contents are taken as the proxy serves them. This binary is a
# benchmark peer only; never ship it.
set -euo pipefail

version="${OTELCOL_VERSION:-0.110.0}"
# The confmap providers are versioned 1.x alongside 0.x (1.16.0 with 0.110.0);
# only env and file are needed (the config is a file), and the proxy lacks
# the http, https and yaml providers of that release.
providers="${OTELCOL_PROVIDERS_VERSION:-1.16.0}"
dir="${OTELCOL_DIR:-${TMPDIR:-/tmp}/auditrelay-bench-otelcol}"
bin="$dir/otelcol-bench"
if [[ -x "$bin" && "${REBUILD:-0}" != 1 ]]; then
	echo "$bin"
	exit 0
fi
mkdir -p "$dir"
export GOSUMDB=off GOFLAGS=-mod=mod GOTOOLCHAIN=local
export GOBIN="$dir/bin"
echo "build-otelcol: installing ocb v$version into $GOBIN" >&2
go install "go.opentelemetry.io/collector/cmd/builder@v$version"

contrib=github.com/open-telemetry/opentelemetry-collector-contrib
cat >"$dir/builder.yaml" <<YAML
dist:
  name: otelcol-bench
  description: OpenTelemetry Collector peer for auditrelay's bench/e2e.sh
  output_path: $dir/build
  otelcol_version: $version
receivers:
  - gomod: $contrib/receiver/webhookeventreceiver v$version
exporters:
  - gomod: $contrib/exporter/splunkhecexporter v$version
extensions:
  - gomod: $contrib/extension/storage/filestorage v$version
processors:
  - gomod: go.opentelemetry.io/collector/processor/batchprocessor v$version
providers:
  - gomod: go.opentelemetry.io/collector/confmap/provider/envprovider v$providers
  - gomod: go.opentelemetry.io/collector/confmap/provider/fileprovider v$providers
YAML
echo "build-otelcol: building (downloads a few hundred modules; minutes)" >&2
"$GOBIN/builder" --config "$dir/builder.yaml" >&2
cp "$dir/build/otelcol-bench" "$bin"
echo "$bin"
