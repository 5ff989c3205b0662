#!/usr/bin/env bash
# Runs the CRI validation suite, critest (cri-tools v1.37.0), against a
# wincri built from this tree, with nothing from outside the machine:
#
#   1. hack/setup.sh installs critest, crictl, the runc shim and CNI plugins;
#   2. hack/testimages builds every image critest pulls from the local
#      busybox and serves them from a registry on a free 127.0.0.1 port;
#   3. wincri runs on its own temporary root, state and socket, with the
#      upstream registry hosts mirrored to that registry and an empty CNI
#      conf_dir (so its built-in default network is used);
#   4. critest runs against it, writing JUnit and JSON reports;
#   5. everything started is stopped and cleaned up;
#   6. the summary ends with one line: critest: N passed, N failed, N skipped
#
# It exits non-zero when a required spec fails: one of the suites that are
# not Linux-only, apart from the known exceptions below. The Linux-only
# suites (critest's *_linux.go) run and are counted, but are not required.
#
# Usage: hack/critest.sh [--benchmark] [critest flags...]
#   --benchmark   run `critest -benchmark` instead and print its figures
# Environment:
#   ARTIFACTS                 where logs and reports go (default: a new
#                             /tmp/wincri-critest-artifacts.* directory)
#   WINCRI_CRITEST_VERBOSE=1  stream critest's output, not only log it
#   WINCRI_SKIP_SETUP=1       do not run hack/setup.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=hack/lib.sh
source hack/lib.sh

# Specs that cannot pass for reasons that are not the runtime's, as
# "regular expression<TAB>reason". Their specs are skipped.
EXCEPTIONS=(
	$'public image with digest should be pulled and removed\tpulls gcr.io/k8s-staging-cri-tools/test-image-digest@sha256:9700f9a2..., pinned by the digest of an upstream manifest that cannot be rebuilt locally'
)

# The whole run must stay well within CI's budget.
CRITEST_TIMEOUT=45m

MODE=validate
if [[ ${1:-} == --benchmark ]]; then
	MODE=benchmark
	shift
fi
EXTRA_ARGS=("$@")

say() { echo "critest.sh: $*"; }

[[ $EUID -eq 0 ]] || {
	echo "critest.sh: must run as root (wincri runs containers and pod networks)" >&2
	exit 1
}
# critest binds fixed host ports (12000-12003) and wincri's built-in network
# is one bridge per machine: runs on one machine take turns. Children are
# started with fd 9 closed, so that no shim they leave holds the lock.
exec 9>"${TMPDIR:-/tmp}/wincri-critest.lock"
if ! flock -n 9; then
	say "waiting for another hack/critest.sh run on this machine to finish"
	flock 9
fi
if [[ ${WINCRI_SKIP_SETUP:-} != 1 ]]; then
	hack/setup.sh 9>&-
fi
export PATH="/usr/local/go/bin:$PATH"
TOOLS="${WINCRI_TOOLS:-$(go env GOPATH)/bin}"
export PATH="$TOOLS:$PATH"

START=$SECONDS
WORK=$(mktemp -d /tmp/wincri-critest.XXXXXX)
# Binaries live apart from WORK: the summary runs after WORK is gone.
BIN=$(mktemp -d /tmp/wincri-critest-bin.XXXXXX)
ARTIFACTS="${ARTIFACTS:-$(mktemp -d /tmp/wincri-critest-artifacts.XXXXXX)}"
mkdir -p "$ARTIFACTS" "$WORK/cni"
SOCK="$WORK/wincri.sock"
ENDPOINT="unix://$SOCK"
WINCRI_PID=
IMAGES_PID=
say "artifacts in $ARTIFACTS"

# What the built-in network changes on the host, to undo only our share.
BRIDGE=wincri0
bridge_existed=false
ip link show "$BRIDGE" >/dev/null 2>&1 && bridge_existed=true
ip_forward_before=$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null || echo 1)
# critest's host IPC specs make 1 MiB shared memory segments on the host
# (ipcmk -M 1048576) and leave them.
shm_before=" $(awk 'NR > 1 { printf "%s ", $2 }' /proc/sysvipc/shm 2>/dev/null) "

# crictl with its own configuration: it must not read the machine's.
cat >"$WORK/crictl.yaml" <<CRICTL
runtime-endpoint: $ENDPOINT
image-endpoint: $ENDPOINT
timeout: 30
CRICTL
crictl_() { crictl --config "$WORK/crictl.yaml" "$@"; }

cleaned=false
cleanup() {
	$cleaned && return 0
	cleaned=true
	local ids=()
	if [[ -n $WINCRI_PID ]] && kill -0 "$WINCRI_PID" 2>/dev/null; then
		# Through wincri first, so that CNI tears pod networks down.
		mapfile -t ids < <(crictl_ pods -q 2>/dev/null || true)
		if ((${#ids[@]})); then
			say "removing ${#ids[@]} pod(s) left by the run"
			timeout 180 crictl --config "$WORK/crictl.yaml" --timeout 60s rmp -fa >>"$ARTIFACTS/cleanup.log" 2>&1 || true
		fi
		stop_pid "$WINCRI_PID" 30
	fi
	[[ -n $IMAGES_PID ]] && stop_pid "$IMAGES_PID" 10
	# Whatever wincri could not tear down: containers, shims, mounts.
	remove_runc_containers "$WORK"
	kill_processes_under "$WORK"
	unmount_under "$WORK"
	# Pods whose addresses host-local still holds were never torn down.
	mapfile -t -O "${#ids[@]}" ids < <(grep -rhoE '^[0-9a-f]{64}' "$WORK/state" 2>/dev/null | sort -u || true)
	remove_netfilter_rules_for "${ids[@]}"
	if ! $bridge_existed && ip link show "$BRIDGE" >/dev/null 2>&1 &&
		[[ -z $(ip -o link show master "$BRIDGE" 2>/dev/null) ]]; then
		ip link delete "$BRIDGE" 2>/dev/null && say "removed bridge $BRIDGE"
		if [[ $ip_forward_before == 0 ]]; then
			echo 0 >/proc/sys/net/ipv4/ip_forward
		fi
	fi
	remove_new_shm_segments "$shm_before" 1048576
	rm -rf "$WORK" 2>/dev/null || say "could not remove all of $WORK"
	return 0
}
trap 'cleanup; rm -rf "$BIN"' EXIT
trap 'cleanup; exit 130' INT TERM

# give_up REASON: nothing ran; clean up and still end with the summary line.
give_up() {
	say "$1"
	cleanup
	echo "critest: 0 passed, 0 failed, 0 skipped"
	exit 1
}

# --- build -----------------------------------------------------------------

say "building wincri and the test image server"
{
	# Every command: wincri finds its helpers (wincri-logger) beside it.
	CGO_ENABLED=0 go build -o "$BIN/" ./cmd/... &&
		go build -o "$BIN/testimages" ./hack/testimages &&
		CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$BIN/helper" ./hack/testimages/helper &&
		go build -o "$BIN/report" ./hack/testimages/report
} >"$ARTIFACTS/build.log" 2>&1 || {
	cat "$ARTIFACTS/build.log"
	give_up "build failed"
}

# --- test images -----------------------------------------------------------

BUSYBOX=/bin/busybox
[[ -x "$TOOLS/busybox-dynamic.d/bin/busybox" ]] && BUSYBOX="$TOOLS/busybox-dynamic.d/bin/busybox"
"$BIN/testimages" --addr 127.0.0.1:0 --addr-file "$WORK/registry.addr" \
	--busybox "$BUSYBOX" --helper "$BIN/helper" >"$ARTIFACTS/testimages.log" 2>&1 9>&- &
IMAGES_PID=$!
images_ready() { kill -0 "$IMAGES_PID" && test -s "$WORK/registry.addr"; }
wait_for 120 "the test image registry" images_ready || {
	tail -n 20 "$ARTIFACTS/testimages.log"
	give_up "the test image registry did not start"
}
REGISTRY=$(cat "$WORK/registry.addr")
say "test images served on $REGISTRY (from $BUSYBOX)"

# --- wincri ----------------------------------------------------------------

{
	echo '# Written by hack/critest.sh for one run.'
	echo '[image.mirrors]'
	"$BIN/testimages" --hosts | while read -r host; do
		echo "\"$host\" = [\"http://$REGISTRY\"]"
	done
	echo '[cni]'
	echo "conf_dir = \"$WORK/cni\""
} >"$WORK/config.toml"
cp "$WORK/config.toml" "$ARTIFACTS/config.toml"

"$BIN/wincri" --config "$WORK/config.toml" --root "$WORK/root" --state "$WORK/state" \
	--listen "$ENDPOINT" -v=4 >"$ARTIFACTS/wincri.log" 2>&1 9>&- &
WINCRI_PID=$!
wincri_ready() { kill -0 "$WINCRI_PID" && crictl_ version; }
wait_for 60 "wincri on $ENDPOINT" wincri_ready || {
	tail -n 20 "$ARTIFACTS/wincri.log"
	give_up "wincri did not start"
}
say "$(crictl_ version | tr '\n' ' ')"

# --- critest ---------------------------------------------------------------

args=(
	--runtime-endpoint "$ENDPOINT" --image-endpoint "$ENDPOINT"
	--ginkgo.junit-report "$ARTIFACTS/junit.xml"
	--ginkgo.json-report "$ARTIFACTS/report.json"
	--ginkgo.timeout "$CRITEST_TIMEOUT"
	--ginkgo.no-color
)
if [[ $MODE == benchmark ]]; then
	mkdir -p "$ARTIFACTS/benchmark"
	# Without sample counts critest skips most benchmarks.
	cat >"$ARTIFACTS/benchmark-params.yaml" <<'PARAMS'
containersNumber: 20
containersNumberParallel: 2
podsNumber: 20
podsNumberParallel: 2
imagesNumber: 10
imagesNumberParallel: 2
PARAMS
	args+=(-benchmark --benchmarking-output-dir "$ARTIFACTS/benchmark"
		--benchmarking-params-file "$ARTIFACTS/benchmark-params.yaml")
else
	for e in "${EXCEPTIONS[@]}"; do
		say "known exception, skipped: ${e%%$'\t'*} (${e#*$'\t'})"
		args+=(--ginkgo.skip "${e%%$'\t'*}")
	done
fi

say "running critest ($MODE); its output: $ARTIFACTS/critest.log"
set +e
if [[ ${WINCRI_CRITEST_VERBOSE:-} == 1 ]]; then
	critest "${args[@]}" "${EXTRA_ARGS[@]}" 2>&1 9>&- | tee "$ARTIFACTS/critest.log"
	critest_rc=${PIPESTATUS[0]}
else
	critest "${args[@]}" "${EXTRA_ARGS[@]}" >"$ARTIFACTS/critest.log" 2>&1 9>&-
	critest_rc=$?
fi
set -e
say "critest exited with $critest_rc; wall time $((SECONDS - START))s"

cleanup

if [[ $MODE == benchmark ]]; then
	"$BIN/report" -benchmark "$ARTIFACTS/benchmark" || say "no benchmark figures: see $ARTIFACTS/critest.log"
fi
set +e
"$BIN/report" "$ARTIFACTS/report.json"
status=$?
set -e
exit "$status"
