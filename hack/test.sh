#!/usr/bin/env bash
# The test command: installs what the tests need (hack/setup.sh), runs
# the static checks, the unit, integration and end-to-end tests, a short
# fuzz run, and last the CRI validation suite (hack/critest.sh), whose
# closing line is the run's. Integration tests need root, runc, the runc
# shim and the CNI plugins; here they must run, so a missing
# prerequisite fails instead of skipping.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

hack/setup.sh
export PATH="$(go env GOPATH)/bin:/usr/local/go/bin:$PATH"
export CI="${CI:-true}"

hack/verify.sh

echo '== go test'
log=$(mktemp -t wincri-go-test.XXXXXX)
set +e
go test -v -count=1 -timeout 40m ./... >"$log" 2>&1
status=$?
set -e
# Package results and everything about failures; the full log stays in $log.
grep -E '^(ok|FAIL|panic:|--- FAIL|\s+--- FAIL|\s+\S+_test\.go:[0-9]+:)|\[no test files\]|build failed|cannot|undefined' "$log" || true
passed=$(grep -cE -- '^\s*--- PASS' "$log" || true)
failed=$(grep -cE -- '^\s*--- FAIL' "$log" || true)
skipped=$(grep -cE -- '^\s*--- SKIP' "$log" || true)
echo "full go test log: $log"
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$status" -eq 0 ] || exit "$status"

# A short fuzz run of request validation and spec building; the seed
# corpora already ran above as ordinary tests.
echo '== fuzz'
fuzz() {
	local pkg=$1
	shift
	for target in "$@"; do
		go test -run='^$' -fuzz="^${target}\$" -fuzztime="${WINCRI_FUZZTIME:-15s}" "$pkg" >"$log.fuzz" 2>&1 || {
			cat "$log.fuzz"
			echo "fuzz: $target failed"
			exit 1
		}
		echo "fuzz: $target ok"
	done
}
fuzz ./pkg/cri FuzzValidatePodSandboxConfig FuzzValidateContainerConfig FuzzRunPodSandboxRequest FuzzCreateContainerRequest
fuzz ./pkg/isolation FuzzLinuxContainerSpec FuzzLinuxSandboxSpec FuzzBuildWindowsContainer FuzzBuildWindowsSandbox

echo '== critest'
WINCRI_SKIP_SETUP=1 hack/critest.sh
