#!/usr/bin/env bash
# The project's side-by-side bench: wincri beside containerd (v2.4.2, its
# CRI plugin), on the same runc, runc shim, CNI plugins and images served
# from a registry on 127.0.0.1. Only the ratios of one run compare: the
# machines are shared and noisy.
#
#   hack/bench.sh [--rounds R] [--quick] [--wincri-only]
#       R rounds (default 5), each runtime in turn (wincri, containerd,
#       wincri, containerd...), each case on a freshly started runtime
#       with an empty root:
#       - critest -benchmark (cri-tools v1.37.0): pod, container and
#         image lifecycles, timed per CRI operation;
#       - big pulls through the CRI PullImage, cold: one 200 MiB image of
#         8 layers of random content; 4 pulls of another such image at
#         once; 4 images of 50 MiB at once, and 4 others one after
#         another; the test registry counts the bytes each fetched;
#       - 50 pods at once (internal/density): daemon RSS idle and with
#         the pods, ListPodSandboxStats timed 20 times with them;
#       - the big image's archive (wincri image export) imported, cold,
#         with wincri image import and ctr images import;
#       - once per round, the physical floor of the big pull: its blobs
#         fetched, decompressed and written with an fsync per layer.
#       Then prints the table (hack/benchreport): per critest operation
#       the p50 and p95 over every sample of every round, the ratio
#       wincri / containerd, the spread of the rounds' ratios and the
#       target; per case the median of the rounds. --quick runs one
#       sample of everything with small images, to check the script.
#
#   hack/bench.sh density [--pods N] [--rounds R] [--wincri-only]
#       N pods (default 100) created at once through the CRI, each a
#       sandbox and a busybox container, then deleted (internal/density),
#       alternating wincri and containerd for R rounds (default 1).
#       Prints per runtime the times to Ready (p50, p99), the total, the
#       deletion, and the runtime's RSS at N pods.
#
# WINCRI_BENCH_CONFIG adds TOML to wincri's configuration, for example
# '[limits]\nmax_concurrent_network_ops = 0' to compare settings;
# WINCRI_BENCH_KEEP keeps the work directory and its results.
#
# Not part of CI's pass/fail; hack/test.sh's bench stage runs it with
# --quick to check that the script works.
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

MODE=cri PODS= ROUNDS= WINCRI_ONLY=false QUICK=false
if [[ ${1:-} == density ]]; then
	MODE=density
	shift
fi
while (($#)); do
	case $1 in
	--pods) PODS=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--wincri-only) WINCRI_ONLY=true; shift ;;
	--quick) QUICK=true; shift ;;
	*) die "unknown argument $1; usage: hack/bench.sh [--rounds R] [--quick] [--wincri-only] | density [--pods N] [--rounds R] [--wincri-only]" ;;
	esac
done
[[ $ROUNDS =~ ^[0-9]*$ && $PODS =~ ^[0-9]*$ ]] || die "--rounds and --pods take a number"
if [[ $MODE == density ]]; then
	PODS=${PODS:-100} ROUNDS=${ROUNDS:-1}
elif $QUICK; then
	PODS=${PODS:-2} ROUNDS=${ROUNDS:-1}
else
	PODS=${PODS:-50} ROUNDS=${ROUNDS:-5}
fi
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
	remove_pod_cgroups
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

say "building wincri, the test image server and the bench drivers"
CGO_ENABLED=0 go build -o "$BIN/" ./cmd/... >&2
go build -o "$BIN/testimages" ./hack/testimages >&2
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$BIN/helper" ./hack/testimages/helper >&2
go build -o "$BIN/density" ./hack/density >&2
go build -o "$BIN/report" ./hack/density/report >&2
go build -o "$BIN/pullbench" ./hack/pullbench >&2
go build -o "$BIN/benchreport" ./hack/benchreport >&2
[[ $MODE == density ]] || command -v critest >/dev/null || die "critest is missing: hack/setup.sh installs it"

if ! $WINCRI_ONLY; then
	# containerd itself, once per version beside the Go cache (without
	# cgo: no btrfs snapshotter, which the bench does not use).
	ctrd_dir="$(dirname "$(go env GOCACHE)")/wincri-tools/containerd-$CONTAINERD_VERSION"
	if [[ ! -x $ctrd_dir/containerd ]]; then
		say "building containerd $CONTAINERD_VERSION into $ctrd_dir"
		(cd / && CGO_ENABLED=0 GOBIN="$ctrd_dir" go install "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_VERSION") >&2
	fi
	if [[ ! -x $ctrd_dir/ctr ]]; then
		say "building ctr $CONTAINERD_VERSION into $ctrd_dir"
		(cd / && CGO_ENABLED=0 GOBIN="$ctrd_dir" go install "github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD_VERSION") >&2
	fi
	CONTAINERD=$ctrd_dir/containerd CTR=$ctrd_dir/ctr
fi

# The pull cases' images: random content, so that compression saves
# nothing and no two images share a layer.
B=wincri.invalid/bench
if $QUICK; then
	BIG=8MiB/8 MID=2MiB/2
else
	BIG=200MiB/8 MID=50MiB/2
fi
RANDOM_IMAGES=()
if [[ $MODE == cri ]]; then
	RANDOM_IMAGES+=(--random "$B/single:1=$BIG" --random "$B/same:1=$BIG")
	for i in 1 2 3 4 5 6 7 8; do RANDOM_IMAGES+=(--random "$B/mid$i:1=$MID"); done
	say "building the pull cases' images: $BIG, $BIG, 8 x $MID"
fi
BUSYBOX=/bin/busybox
[[ -x "$TOOLS/busybox-dynamic.d/bin/busybox" ]] && BUSYBOX="$TOOLS/busybox-dynamic.d/bin/busybox"
"$BIN/testimages" --addr 127.0.0.1:0 --addr-file "$WORK/registry.addr" --busybox "$BUSYBOX" \
	--helper "$BIN/helper" "${RANDOM_IMAGES[@]}" >"$WORK/testimages.log" 2>&1 &
PIDS+=($!)
wait_for 600 "the test image registry" test -s "$WORK/registry.addr" || die "the test image registry did not start: $(tail -n 5 "$WORK/testimages.log")"
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

# start_wincri DIR and start_containerd DIR start the runtime with an
# empty root and state under DIR; RT_DIR, RT_PID, ENDPOINT and
# GOROUTINES_URL describe it until finish_runtime.
start_wincri() {
	local dir=$1
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
	RT_PID=$! RT_DIR=$dir
	PIDS+=("$RT_PID")
	ENDPOINT="unix://$dir/wincri.sock"
	GOROUTINES_URL="http://127.0.0.1:18731/debug/pprof/goroutine?debug=1"
	wincri_up() { kill -0 "$RT_PID" && test -S "$dir/wincri.sock"; }
	wait_for 60 "wincri" wincri_up || die "wincri did not start: $(tail -n 5 "$dir/wincri.log")"
}

start_containerd() {
	local dir=$1 host
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
	RT_PID=$! RT_DIR=$dir
	PIDS+=("$RT_PID")
	ENDPOINT="unix://$dir/containerd.sock"
	GOROUTINES_URL=
	containerd_up() { kill -0 "$RT_PID" && test -S "$dir/containerd.sock"; }
	wait_for 60 "containerd" containerd_up || die "containerd did not start: $(tail -n 5 "$dir/containerd.log")"
}

# finish_runtime stops the runtime and, unless WINCRI_BENCH_KEEP is set,
# removes what it left: the big pulls leave hundreds of MiB per case.
finish_runtime() {
	stop_pid "$RT_PID" 30 || true
	PIDS=("${PIDS[@]/$RT_PID/}")
	remove_runc_containers "$RT_DIR"
	kill_processes_under "$RT_DIR"
	unmount_under "$RT_DIR"
	remove_pod_cgroups
	[[ -n ${WINCRI_BENCH_KEEP:-} ]] || rm -rf "$RT_DIR"
}

# The pods' cgroups (hack/density -cgroup-parent), which the runtimes
# leave as kubelet would remove them.
CGROUP_PARENT=/wincri-bench
remove_pod_cgroups() {
	local d
	for d in /sys/fs/cgroup/*"$CGROUP_PARENT" /sys/fs/cgroup"$CGROUP_PARENT"; do
		[[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

# density_run RT OUT [FLAGS]: one density run against the started runtime.
density_run() {
	local rt=$1 out=$2 figures
	shift 2
	figures=$("$BIN/density" -endpoint "$ENDPOINT" -image "$IMAGE" -pods "$PODS" -pid "$RT_PID" \
		${GOROUTINES_URL:+-goroutines-url "$GOROUTINES_URL"} -log-dir "$WORK/logs" -cgroup-parent "$CGROUP_PARENT" -json "$@") ||
		die "$rt: density run failed (its log: $RT_DIR)"
	say "$rt: $(head -n 1 <<<"$figures")"
	tail -n 1 <<<"$figures" >>"$out"
}

# import_run RT OUT: imports the big image's archive into the started
# runtime, cold (an export re-creates the layers, so they are new), with
# wincri image import or ctr images import, which unpacks too. The
# archive is wincri's export of the big image, made once.
import_run() {
	local rt=$1 out=$2 archive=$WORK/import.tar start end
	if [[ ! -s $archive ]]; then
		"$BIN/wincri" image export --endpoint "$ENDPOINT" -o "$archive" "$B/single:1" >&2 ||
			die "exporting the big image from $rt failed"
	fi
	start=$(date +%s%N)
	case $rt in
	wincri) "$BIN/wincri" image import --endpoint "$ENDPOINT" "$archive" ;;
	containerd) "$CTR" --address "${ENDPOINT#unix://}" --namespace k8s.io images import "$archive" ;;
	esac >"$RT_DIR/import.out" 2>&1 || die "$rt: importing $archive failed: $(tail -n 3 "$RT_DIR/import.out")"
	end=$(date +%s%N)
	printf '{"import": {"ms": %d.%03d, "bytes": %d}}\n' $(((end - start) / 1000000)) $(((end - start) / 1000 % 1000)) "$(stat -c %s "$archive")" >"$out"
	say "$rt: image import: $(((end - start) / 1000000)) ms"
}

# critest_run OUT: critest -benchmark against the started runtime.
critest_run() {
	local out=$1 n=20 np=2 images=10
	$QUICK && n=1 np=1 images=1
	mkdir -p "$out"
	cat >"$out/params.yaml" <<PARAMS
containersNumber: $n
containersNumberParallel: $np
podsNumber: $n
podsNumberParallel: $np
imagesNumber: $images
imagesNumberParallel: $np
PARAMS
	critest --runtime-endpoint "$ENDPOINT" --image-endpoint "$ENDPOINT" -benchmark \
		--benchmarking-output-dir "$out" --benchmarking-params-file "$out/params.yaml" \
		--ginkgo.no-color --ginkgo.timeout 30m >"$out/critest.log" 2>&1 9>&- ||
		die "critest -benchmark failed: see $out/critest.log"
}

runtimes=(wincri)
$WINCRI_ONLY || runtimes+=(containerd)
RESULTS=$WORK/results
if [[ $MODE == density ]]; then
	mkdir -p "$RESULTS"
	for ((r = 1; r <= ROUNDS; r++)); do
		for rt in "${runtimes[@]}"; do
			"start_$rt" "$WORK/${rt:0:1}$r"
			density_run "$rt" "$RESULTS/$rt.jsonl"
			finish_runtime
		done
	done
	# The medians of the rounds, per runtime, and their ratio.
	"$BIN/report" "${runtimes[@]/#/$RESULTS/}"
	exit 0
fi

for ((r = 1; r <= ROUNDS; r++)); do
	mkdir -p "$RESULTS/floor"
	"$BIN/pullbench" floor -registry "$REGISTRY" -image "$B/single:1" -dir "$WORK/floor$r" >"$RESULTS/floor/round-$r.json" ||
		die "the physical floor's run failed"
	rm -rf "$WORK/floor$r"
	for rt in "${runtimes[@]}"; do
		out=$RESULTS/$rt/round-$r
		mkdir -p "$out"
		say "round $r/$ROUNDS: $rt: critest -benchmark"
		"start_$rt" "$WORK/${rt:0:1}$r"c
		critest_run "$out/critest"
		finish_runtime
		say "round $r/$ROUNDS: $rt: big pulls"
		"start_$rt" "$WORK/${rt:0:1}$r"p
		"$BIN/pullbench" cri -endpoint "$ENDPOINT" -registry "$REGISTRY" -single "$B/single:1" -same "$B/same:1" \
			-concurrent "$B/mid1:1,$B/mid2:1,$B/mid3:1,$B/mid4:1" -sequential "$B/mid5:1,$B/mid6:1,$B/mid7:1,$B/mid8:1" \
			>"$out/pull.json" || die "$rt: the pull cases failed (its log: $RT_DIR)"
		say "round $r/$ROUNDS: $rt: image import"
		import_run "$rt" "$out/import.json"
		finish_runtime
		say "round $r/$ROUNDS: $rt: $PODS pods"
		"start_$rt" "$WORK/${rt:0:1}$r"d
		density_run "$rt" "$out/density.json" -stats-calls "$($QUICK && echo 2 || echo 20)"
		finish_runtime
	done
done
"$BIN/benchreport" "$RESULTS"
