#!/usr/bin/env bash
# End-to-end benchmark of auditrelay on this machine, loopback only.
#
#   bench/e2e.sh [throughput|latency|backlog|peer|konnect|all]
#
# Builds auditrelay and auditrelay-load into a temp dir, starts the load
# tool's Splunk HEC sink and a relay on 127.0.0.1 (openfaas input with an
# HMAC secret, splunkhec output with gzip, spool fsync'd in a temp data_dir),
# runs the load tool (-batch 100 -concurrency 4) and prints:
#   delivered events/s   counted at the sink, first to last event
#   ack p50/p99/max      per POST, from the load tool
#   CPU s per 1M events  the relay's utime+stime (/proc/PID/stat) over the run
#   peak RSS             the relay's VmHWM (/proc/PID/status)
#
# Modes:
#   throughput  as fast as the relay answers (TOTAL events, default 2,000,000)
#   latency     offered at RATE (default 50,000 events/s) for LATENCY_SECONDS (20)
#   backlog     the sink is down while BACKLOG events (1,000,000) are ingested,
#               then up: drain rate and peak RSS while draining (VmHWM reset
#               through /proc/PID/clear_refs when the sink comes up)
#   konnect     throughput with newline-separated JSON (konnect input), the
#               same load as "peer"
#   peer        the OpenTelemetry Collector (bench/peer/build-otelcol.sh):
#               webhookevent → splunk_hec with a file_storage sending queue,
#               same newline-JSON load, same sink
#   all         throughput, latency, backlog, konnect, peer
#
# Profiles: bench/profile_test.go runs the relay in-process under the same
# load (go test -tags bench ./bench -run TestE2E -cpuprofile cpu.out; see
# its doc comment), so that pprof sees the relay alone.
#
# The load tool and its sink are measuring instruments sharing the cores
# with what they measure: they run with GOMAXPROCS=1 (each needs well
# under one core at these rates; a second P only adds idle spinning), and
# their CPU per 1M events is printed under each run.
#
# Environment: TOTAL, RATE, LATENCY_SECONDS, BACKLOG, BATCH (100),
# CONCURRENCY (4), DURATION (hard stop of one load run, default 120s),
# TOOL_GOMAXPROCS (GOMAXPROCS of the load tool and sink, default 1; empty:
# Go's default), RELAY_GOMAXPROCS (GOMAXPROCS of the relay; empty: Go's
# default), KEEP=1 keeps the temp dir, OTELCOL=path of a collector
# binary, PEER_FSYNC=false runs the Collector's file_storage without fsync
# (its default; the relay's spool always syncs before it answers).
# Every child is killed on exit; every wait is bounded.
set -euo pipefail

mode="${1:-throughput}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
TOTAL="${TOTAL:-2000000}"
RATE="${RATE:-50000}"
LATENCY_SECONDS="${LATENCY_SECONDS:-20}"
BACKLOG="${BACKLOG:-1000000}"
BATCH="${BATCH:-100}"
CONCURRENCY="${CONCURRENCY:-4}"
DURATION="${DURATION:-120s}"
TOOL_GOMAXPROCS="${TOOL_GOMAXPROCS-1}"
RELAY_GOMAXPROCS="${RELAY_GOMAXPROCS-}"
PEER_FSYNC="${PEER_FSYNC:-true}"
SECRET="bench-hmac-secret"
TOKEN="bench-hec-token"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/auditrelay-e2e.XXXXXX")"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [[ "${KEEP:-0}" == 1 ]]; then
		echo "kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "e2e: $*" >&2; exit 1; }

build() {
	echo "e2e: building into $tmp" >&2
	(cd "$repo" && go build -o "$tmp/auditrelay" ./cmd/auditrelay && go build -o "$tmp/auditrelay-load" ./cmd/auditrelay-load)
}

# wait_for FILE REGEX SECONDS: until a line of FILE matches; prints the match.
wait_for() {
	local file="$1" re="$2" i
	for ((i = 0; i < $3 * 20; i++)); do
		if grep -Eo "$re" "$file" 2>/dev/null | head -1 | grep .; then
			return 0
		fi
		sleep 0.05
	done
	die "timed out waiting for /$re/ in $file: $(tail -5 "$file" 2>/dev/null)"
}

# start_sink NAME [ADDR] [EXPECT]: starts the HEC sink; sets sink_pid, sink_addr.
start_sink() {
	local name="$1" addr="${2:-127.0.0.1:0}" expect="${3:-0}"
	GOMAXPROCS="$TOOL_GOMAXPROCS" "$tmp/auditrelay-load" sink -listen "$addr" -token "$TOKEN" -report 0 \
		-expect "$expect" -exit-after-idle 1s -json >"$tmp/$name.sink.json" 2>"$tmp/$name.sink.log" &
	sink_pid=$!
	pids+=("$sink_pid")
	sink_addr="$(wait_for "$tmp/$name.sink.log" '127\.0\.0\.1:[0-9]+' 10)"
}

# free_port: a loopback port nothing listens on right now.
free_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	die "no free port found"
}

# start_relay NAME SINK_ADDR INPUT: writes the config, starts the relay;
# sets relay_pid, relay_addr.
start_relay() {
	local name="$1" sink="$2"
	mkdir -p "$tmp/$name.data"
	cat >"$tmp/$name.toml" <<EOF
[relay]
listen = "127.0.0.1:0"
data_dir = "$tmp/$name.data"
spool_max_bytes = "4GiB"

[inputs.openfaas]
adapter = "openfaas"
secret = "$SECRET"

[inputs.konnect]
adapter = "konnect"
authorization = "Bearer $SECRET"

[outputs.splunk]
type = "splunkhec"
format = "json"
url = "http://$sink"
allow_http = true
token = "$TOKEN"
gzip = true
sourcetype = "auditrelay:json"

[outputs.splunk.retry]
wait_min = "100ms"
wait_max = "500ms"
EOF
	GOMAXPROCS="$RELAY_GOMAXPROCS" "$tmp/auditrelay" run -c "$tmp/$name.toml" 2>"$tmp/$name.relay.log" &
	relay_pid=$!
	pids+=("$relay_pid")
	relay_addr="$(wait_for "$tmp/$name.relay.log" 'addr=127\.0\.0\.1:[0-9]+' 15 | cut -d= -f2)"
}

ticks="$(getconf CLK_TCK)"
# cpu_seconds PID: utime+stime of PID in seconds.
cpu_seconds() {
	awk -v t="$ticks" '{ sub(/^.*\) /, ""); print ($12 + $13) / t }' "/proc/$1/stat"
}
# child_cpu: sets cpu_now to the user+sys seconds of every child this shell
# has reaped so far (call it directly, not in $(…): a subshell has its own).
child_cpu() {
	times >"$tmp/times"
	cpu_now="$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$tmp/times")"
}
# per_million CPU_SECONDS EVENTS
per_million() { awk -v c="$1" -v n="$2" 'BEGIN { printf "%.2f", (n > 0 ? c * 1e6 / n : 0) }'; }
hwm_mib() { awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
rss_mib() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# load NAME INPUT ARGS…: runs the load tool against the relay or collector.
load() {
	local name="$1" url="$2"
	shift 2
	GOMAXPROCS="$TOOL_GOMAXPROCS" "$tmp/auditrelay-load" post -url "$url" -batch "$BATCH" -concurrency "$CONCURRENCY" \
		-duration "$DURATION" -json "$@" >"$tmp/$name.load.json" 2>"$tmp/$name.load.log" ||
		echo "e2e: load tool reported errors: $(cat "$tmp/$name.load.json")" >&2
}

# wait_exit PID SECONDS: waits for PID to exit, bounded.
wait_exit() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "e2e: pid $1 still running after $2s" >&2
	return 1
}

jnum() { grep -Eo "\"$2\":[-0-9.e+]+" "$1" | head -1 | cut -d: -f2; }

# report NAME CPU EVENTS HWM [LOAD_CPU SINK_CPU]
report() {
	local name="$1" cpu="$2" events="$3" hwm="$4"
	local sinkj="$tmp/$name.sink.json" loadj="$tmp/$name.load.json" delivered note=""
	delivered="$(jnum "$sinkj" events)"
	if [[ -n "$delivered" && "$delivered" -gt 0 && "$delivered" -lt "$events" ]]; then
		note="  (only $delivered of $events events reached the sink: CPU is per delivered event)"
		events="$delivered"
	fi
	printf '%-11s delivered %8.0f events/s (%s events at the sink)  ack p50 %s ms p99 %s ms max %s ms  CPU %s s/1M events  peak RSS %s MiB\n' \
		"$name" "$(jnum "$sinkj" events_per_s)" "$(jnum "$sinkj" events)" \
		"$(jnum "$loadj" p50_ms)" "$(jnum "$loadj" p99_ms)" "$(jnum "$loadj" max_ms)" \
		"$(per_million "$cpu" "$events")" "$hwm"
	if [[ -n "${5:-}" ]]; then
		printf '            (same 2 cores: load tool %s s/1M events, sink %s s/1M events)\n' \
			"$(per_million "$5" "$events")" "$(per_million "$6" "$events")"
	fi
	[[ -z "$note" ]] || echo "$note"
	grep -q '"error_events":0' "$loadj" || echo "  load errors: $(cat "$loadj")"
}

# finish_sink [SECONDS]: waits (bounded) for the sink to exit and reaps it;
# a sink still short of its -expect then is stopped, so that it prints what
# it counted.
finish_sink() {
	if ! wait_exit "$sink_pid" "${1:-120}"; then
		echo "e2e: the sink did not reach its -expect; stopping it" >&2
		kill "$sink_pid" 2>/dev/null || true
		wait_exit "$sink_pid" 10 || kill -9 "$sink_pid" 2>/dev/null || true
	fi
	wait "$sink_pid" 2>/dev/null || true
}

# run_relay NAME TOTAL INPUT-ARGS…: one relay run with the sink up.
run_relay() {
	local name="$1" total="$2"
	shift 2
	start_sink "$name" 127.0.0.1:0 "$total"
	start_relay "$name" "$sink_addr"
	local cpu0 cpu1 c0 c1 c2
	cpu0="$(cpu_seconds "$relay_pid")"
	child_cpu
	c0="$cpu_now"
	load "$name" "http://$relay_addr" -total "$total" "$@"
	child_cpu
	c1="$cpu_now"
	finish_sink
	child_cpu
	c2="$cpu_now"
	cpu1="$(cpu_seconds "$relay_pid")"
	report "$name" "$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print b - a }')" "$total" "$(hwm_mib "$relay_pid")" \
		"$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" "$(awk -v a="$c1" -v b="$c2" 'BEGIN { print b - a }')"
	kill "$relay_pid" && wait_exit "$relay_pid" 35 || true
}

throughput() { run_relay throughput "$TOTAL" -input openfaas -secret "$SECRET"; }

latency() {
	run_relay latency $((RATE * LATENCY_SECONDS)) -input openfaas -secret "$SECRET" -rate "$RATE"
}

konnect() {
	run_relay konnect "$TOTAL" -input konnect -konnect-format json -authorization "Bearer $SECRET"
}

backlog() {
	local port cpu0 cpu1 hwm_in
	port="$(free_port)"
	start_relay backlog "127.0.0.1:$port"
	cpu0="$(cpu_seconds "$relay_pid")"
	load backlog "http://$relay_addr" -total "$BACKLOG" -input openfaas -secret "$SECRET"
	hwm_in="$(hwm_mib "$relay_pid")"
	echo "backlog     ingested $(jnum "$tmp/backlog.load.json" events_acked) events with the sink down at $(printf "%.0f" "$(jnum "$tmp/backlog.load.json" events_per_s)") events/s; peak RSS $hwm_in MiB; spool $(du -sm "$tmp/backlog.data/spool" | cut -f1) MiB"
	echo 5 >"/proc/$relay_pid/clear_refs" 2>/dev/null || echo "  (cannot reset VmHWM: drain peak includes ingest)"
	start_sink backlog "127.0.0.1:$port" "$BACKLOG"
	finish_sink 300
	cpu1="$(cpu_seconds "$relay_pid")"
	report backlog "$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print b - a }')" "$BACKLOG" "$(hwm_mib "$relay_pid")"
	echo "  (backlog: the rate is the drain, the RSS the peak while draining; ack latency is of the ingest)"
	kill "$relay_pid" && wait_exit "$relay_pid" 35 || true
}

peer() {
	local bin="${OTELCOL:-}"
	[[ -n "$bin" ]] || bin="$("$here/peer/build-otelcol.sh")" || die "could not build the OpenTelemetry Collector"
	start_sink peer 127.0.0.1:0 "$TOTAL"
	local port cpu0 cpu1 c0 c1 c2
	port="$(free_port)"
	mkdir -p "$tmp/peer.queue"
	cat >"$tmp/peer.yaml" <<EOF
extensions:
  file_storage:
    directory: $tmp/peer.queue
    fsync: $PEER_FSYNC
receivers:
  webhookevent:
    endpoint: 127.0.0.1:$port
    path: /ingest/konnect
    read_timeout: "10s"
    write_timeout: "10s"
exporters:
  splunk_hec:
    endpoint: http://$sink_addr/services/collector/event
    token: $TOKEN
    sourcetype: otel:json
    disable_compression: false
    sending_queue:
      enabled: true
      storage: file_storage
      queue_size: 100000
    retry_on_failure:
      enabled: true
      initial_interval: 100ms
      max_interval: 500ms
service:
  extensions: [file_storage]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [webhookevent]
      exporters: [splunk_hec]
EOF
	"$bin" --config "$tmp/peer.yaml" 2>"$tmp/peer.otelcol.log" &
	local otel_pid=$!
	pids+=("$otel_pid")
	wait_for "$tmp/peer.otelcol.log" 'Everything is ready' 30 >/dev/null
	cpu0="$(cpu_seconds "$otel_pid")"
	child_cpu
	c0="$cpu_now"
	load peer "http://127.0.0.1:$port" -total "$TOTAL" -input konnect -konnect-format json
	child_cpu
	c1="$cpu_now"
	finish_sink
	child_cpu
	c2="$cpu_now"
	cpu1="$(cpu_seconds "$otel_pid")"
	report peer "$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print b - a }')" "$TOTAL" "$(hwm_mib "$otel_pid")" \
		"$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" "$(awk -v a="$c1" -v b="$c2" 'BEGIN { print b - a }')"
	echo "  (peer: file_storage fsync $PEER_FSYNC)"
	kill "$otel_pid" && wait_exit "$otel_pid" 35 || true
}

build
case "$mode" in
throughput | latency | backlog | konnect | peer) "$mode" ;;
all) throughput; latency; backlog; konnect; peer ;;
*) die "unknown mode $mode: use throughput, latency, backlog, konnect, peer or all" ;;
esac
