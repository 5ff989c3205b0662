#!/usr/bin/env bash
# Builds the pinned Kubernetes components (kubelet, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl) and etcd that the
# cluster tests run, from the wrapper module in hack/kube, in one
# `go build` so they share one compile. The binaries are cached outside the
# clone, keyed by the wrapper's go.sum and the Go version, so a second run
# builds nothing. Prints the directory that holds them on its last line.
#
#   WINCRI_KUBE_CACHE  where the builds are kept
#                      (default: $(go env GOCACHE)/../wincri-kube)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/kube"

KUBE_VERSION=v1.37.2
COMPONENTS=(
	go.etcd.io/etcd/server/v3
	k8s.io/kubernetes/cmd/kube-apiserver
	k8s.io/kubernetes/cmd/kube-controller-manager
	k8s.io/kubernetes/cmd/kube-scheduler
	k8s.io/kubernetes/cmd/kubectl
	k8s.io/kubernetes/cmd/kubelet
)
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet)

log() { echo "kube: $*" >&2; }

if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="/usr/local/go/bin:$PATH"
fi

cache_root="${WINCRI_KUBE_CACHE:-$(dirname "$(go env GOCACHE)")/wincri-kube}"
key=$( (cat go.mod go.sum; go env GOVERSION GOARCH) | sha256sum | cut -c1-16)
out="$cache_root/$KUBE_VERSION-$key"

complete() {
	local b
	for b in "${BINARIES[@]}"; do
		[[ -x "$out/$b" ]] || return 1
	done
}

if complete; then
	log "$KUBE_VERSION present in $out"
	echo "$out"
	exit 0
fi

log "building $KUBE_VERSION (${BINARIES[*]}) into $out; a cold build takes 20-40 minutes on 2 cores"
start=$SECONDS
tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

minor=${KUBE_VERSION#v1.}
minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
	ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags "$ldflags" -o "$tmp/" "${COMPONENTS[@]}"
# The etcd main package is the server module's root, so go names its
# binary after the module's last element before the major version.
mv "$tmp/server" "$tmp/etcd"

rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
log "built in $((SECONDS - start))s"
complete || {
	log "error: the build left no complete set in $out"
	exit 1
}
echo "$out"
