#!/usr/bin/env bash
# The project's side-by-side bench: wincri beside containerd (v2.4.2, its
# CRI plugin), on the same runc, runc shim, CNI plugins and images served
# from a registry on 127.0.0.1. Only the ratios of one run compare: the
# machines are shared and noisy.
#
#   hack/bench.sh density [--pods N] [--rounds R] [--wincri-only]
#       N pods (default 100) created at once through the CRI, each a
#       sandbox and a busybox container, then deleted (internal/density),
#       alternating wincri and containerd for R rounds (default 1).
#       Prints per runtime the times to Ready (p50, p99), the total, the
#       deletion, and the runtime's RSS at N pods.
#
# WINCRI_BENCH_CONFIG adds TOML to wincri's configuration, for example
# '[limits]\nmax_concurrent_network_ops = 0' to compare settings.
#
# Not part of CI's pass/fail; hack/test.sh's bench stage runs one tiny
# round (--pods 2 --wincri-only) to check that the script works.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=hack/lib.sh
source hack/lib.sh

CONTAINERD_VERSION=v2.4.2
say() { echo "bench: $*" >&2; }
die() {
	say "error: $*"
	exit 1
}

[[ ${1:-} == density ]] || die "usage: hack/bench.sh density [--pods N] [--rounds R] [--wincri-only]"
shift
PODS=100 ROUNDS=1 WINCRI_ONLY=false
while (($#)); do
	case $1 in
	--pods) PODS=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--wincri-only) WINCRI_ONLY=true; shift ;;
	*) die "unknown argument $1" ;;
	esac
done
[[ $EUID -eq 0 ]] || die "must run as root (runtimes run containers and pod networks)"
export PATH="/usr/local/go/bin:$PATH"
TOOLS="${WINCRI_TOOLS:-$(go env GOPATH)/bin}"
export PATH="$TOOLS:$PATH"
[[ ${WINCRI_SKIP_SETUP:-} == 1 ]] || hack/setup.sh >&2

# Short: the shims' socket paths under the state directories are limited.
WORK=$(mktemp -d /tmp/wb.XXXXXX)
BIN="$WORK/bin"
mkdir -p "$BIN"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		stop_pid "$p" 30 || true
	done
	remove_runc_containers "$WORK"
	kill_processes_under "$WORK"
	unmount_under "$WORK"
	local b
	for b in wincribench0 ctrdbench0; do
		ip link show "$b" >/dev/null 2>&1 && ip link delete "$b" 2>/dev/null || true
	done
	if [[ -n ${WINCRI_BENCH_KEEP:-} ]]; then
		say "keeping $WORK (WINCRI_BENCH_KEEP)"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

say "building wincri, the test image server and the density driver"
CGO_ENABLED=0 go build -o "$BIN/" ./cmd/... >&2
go build -o "$BIN/testimages" ./hack/testimages >&2
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$BIN/helper" ./hack/testimages/helper >&2
go build -o "$BIN/density" ./hack/density >&2
go build -o "$BIN/report" ./hack/density/report >&2

if ! $WINCRI_ONLY; then
	# containerd itself, once per version beside the Go cache (without
	# cgo: no btrfs snapshotter, which the bench does not use).
	ctrd_dir="$(dirname "$(go env GOCACHE)")/wincri-tools/containerd-$CONTAINERD_VERSION"
	if [[ ! -x $ctrd_dir/containerd ]]; then
		say "building containerd $CONTAINERD_VERSION into $ctrd_dir"
		(cd / && CGO_ENABLED=0 GOBIN="$ctrd_dir" go install "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_VERSION") >&2
	fi
	CONTAINERD=$ctrd_dir/containerd
fi

BUSYBOX=/bin/busybox
[[ -x "$TOOLS/busybox-dynamic.d/bin/busybox" ]] && BUSYBOX="$TOOLS/busybox-dynamic.d/bin/busybox"
"$BIN/testimages" --addr 127.0.0.1:0 --addr-file "$WORK/registry.addr" --busybox "$BUSYBOX" \
	--helper "$BIN/helper" >"$WORK/testimages.log" 2>&1 &
PIDS+=($!)
wait_for 120 "the test image registry" test -s "$WORK/registry.addr" || die "the test image registry did not start"
REGISTRY=$(cat "$WORK/registry.addr")
IMAGE=docker.io/library/busybox:1.36.1-glibc
"$BIN/testimages" --list | grep -q "^$IMAGE" || IMAGE=$("$BIN/testimages" --list | awk '/busybox/ { print $1; exit }')
say "images on $REGISTRY; containers run $IMAGE"

# conflist NAME BRIDGE SUBNET IPAMDIR: the same network for both runtimes,
# on a bridge and subnet of each one's own.
conflist() {
	cat <<JSON
{"cniVersion":"1.0.0","name":"$1","plugins":[
 {"type":"bridge","bridge":"$2","isGateway":true,"ipMasq":true,"hairpinMode":true,
  "ipam":{"type":"host-local","ranges":[[{"subnet":"$3"}]],"routes":[{"dst":"0.0.0.0/0"}],"dataDir":"$4"}},
 {"type":"portmap","capabilities":{"portMappings":true}},
 {"type":"loopback"}]}
JSON
}

start_wincri() {
	local dir=$WORK/w
	mkdir -p "$dir/net.d"
	conflist wincribench wincribench0 10.211.0.0/16 "$dir/ipam" >"$dir/net.d/10-bench.conflist"
	{
		echo '[image.mirrors]'
		"$BIN/testimages" --hosts | while read -r host; do echo "\"$host\" = [\"http://$REGISTRY\"]"; done
		echo '[cni]'
		echo "conf_dir = \"$dir/net.d\""
		echo '[debug]'
		echo 'address = "127.0.0.1:18731"'
		# More of wincri's configuration, to compare settings.
		[[ -z ${WINCRI_BENCH_CONFIG:-} ]] || printf '%b\n' "$WINCRI_BENCH_CONFIG"
	} >"$dir/config.toml"
	"$BIN/wincri" --config "$dir/config.toml" --root "$dir/root" --state "$dir/state" \
		--listen "unix://$dir/wincri.sock" >"$dir/wincri.log" 2>&1 &
	RT_PID=$!
	PIDS+=("$RT_PID")
	ENDPOINT="unix://$dir/wincri.sock"
	GOROUTINES_URL="http://127.0.0.1:18731/debug/pprof/goroutine?debug=1"
	wincri_up() { kill -0 "$RT_PID" && test -S "$dir/wincri.sock"; }
	wait_for 60 "wincri" wincri_up || die "wincri did not start: $(tail -n 5 "$dir/wincri.log")"
}

start_containerd() {
	local dir=$WORK/c host
	mkdir -p "$dir/net.d" "$dir/certs.d"
	conflist ctrdbench ctrdbench0 10.212.0.0/16 "$dir/ipam" >"$dir/net.d/10-bench.conflist"
	"$BIN/testimages" --hosts | while read -r host; do
		mkdir -p "$dir/certs.d/$host"
		printf 'server = "https://%s"\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$host" "$REGISTRY" >"$dir/certs.d/$host/hosts.toml"
	done
	cat >"$dir/config.toml" <<TOML
version = 3
root = "$dir/root"
state = "$dir/state"
[grpc]
  address = "$dir/containerd.sock"
[plugins."io.containerd.cri.v1.images".registry]
  config_path = "$dir/certs.d"
[plugins."io.containerd.cri.v1.images".pinned_images]
  sandbox = "registry.k8s.io/pause:3.9"
[plugins."io.containerd.cri.v1.runtime"]
  # Machines that forbid lowering oom_score_adj (the sandbox's -998 makes
  # runc's nsexec fail with "can't get final child's PID from pipe: EOF").
  restrict_oom_score_adj = true
[plugins."io.containerd.cri.v1.runtime".cni]
  bin_dirs = ["/opt/cni/bin"]
  conf_dir = "$dir/net.d"
TOML
	"$CONTAINERD" --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 &
	RT_PID=$!
	PIDS+=("$RT_PID")
	ENDPOINT="unix://$dir/containerd.sock"
	GOROUTINES_URL=
	containerd_up() { kill -0 "$RT_PID" && test -S "$dir/containerd.sock"; }
	wait_for 60 "containerd" containerd_up || die "containerd did not start: $(tail -n 5 "$dir/containerd.log")"
}

stop_runtime() {
	stop_pid "$RT_PID" 30 || true
	PIDS=("${PIDS[@]/$RT_PID/}")
}

# measure NAME: one round of the density run against the started runtime.
measure() {
	local out
	out=$("$BIN/density" -endpoint "$ENDPOINT" -image "$IMAGE" -pods "$PODS" -pid "$RT_PID" \
		${GOROUTINES_URL:+-goroutines-url "$GOROUTINES_URL"} -log-dir "$WORK/logs" -json) ||
		die "$1: density run failed"
	say "$1: $(head -n 1 <<<"$out")"
	tail -n 1 <<<"$out" >>"$WORK/$1.jsonl"
}

runtimes=(wincri)
$WINCRI_ONLY || runtimes+=(containerd)
for ((r = 1; r <= ROUNDS; r++)); do
	for rt in "${runtimes[@]}"; do
		"start_$rt"
		measure "$rt"
		stop_runtime
	done
done

# The medians of the rounds, per runtime, and their ratio.
"$BIN/report" "${runtimes[@]/#/$WORK/}"
