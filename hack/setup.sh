#!/usr/bin/env bash
# Installs what wincri's Linux development and test path needs, as root on
# Debian, without asking anything. Idempotent: a second run finds everything
# in place and takes seconds.
#
#   Debian packages  runc, containernetworking-plugins, iptables, iproute2,
#                    busybox-static, wine, wine64, gcc-mingw-w64-x86-64
#                    (apt-get update only when one is missing)
#   Go tools         containerd-shim-runc-v2 (containerd v2.4.2), crictl and
#                    critest (cri-tools v1.37.0), into $WINCRI_TOOLS
#                    (default: $(go env GOPATH)/bin)
#   CNI plugins      bridge, loopback, ptp, host-local, portmap, bandwidth,
#                    firewall, tuning at go.mod's version (CNI GC), into
#                    /opt/cni/bin ($WINCRI_CNI_BIN_DIR)
#   busybox-dynamic  Debian's dynamically linked busybox, unpacked into
#                    $WINCRI_TOOLS: the conformance images are built from it
#                    because, unlike busybox-static, its shell looks commands
#                    up in PATH as upstream busybox images do
set -euo pipefail

# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONTAINERD_VERSION=v2.4.2
# wine, wine64 and the mingw compiler run the Wine suite (test/wine).
APT_PACKAGES=(runc containernetworking-plugins iptables iproute2 busybox-static wine wine64 gcc-mingw-w64-x86-64)

log() { echo "setup: $*"; }
die() {
	echo "setup: error: $*" >&2
	exit 1
}

if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null || die "go is not installed (expected in PATH or /usr/local/go/bin)"
TOOLS="${WINCRI_TOOLS:-$(go env GOPATH)/bin}"
mkdir -p "$TOOLS"

# --- Debian packages -------------------------------------------------------

installed() { [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
	installed "$p" || missing+=("$p")
done
if ((${#missing[@]})); then
	[[ $EUID -eq 0 ]] || die "missing packages ${missing[*]}: run as root to install them"
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
	log "packages present: ${APT_PACKAGES[*]}"
fi

# --- Go tools --------------------------------------------------------------

# module_version BIN MODULE prints the version of MODULE that BIN was built
# from, or nothing.
module_version() {
	[[ -x "$1" ]] || return 0
	go version -m "$1" 2>/dev/null | awk -v m="$2" '($1 == "mod" || $1 == "dep") && $2 == m { print $3; exit }'
}

# go_install PACKAGE MODULE VERSION
go_install() {
	local pkg=$1 mod=$2 version=$3 bin
	bin="$TOOLS/$(basename "$pkg")"
	if [[ "$(module_version "$bin" "$mod")" == "$version" ]]; then
		log "$(basename "$pkg") $version present in $TOOLS"
		return
	fi
	log "installing $(basename "$pkg") $version into $TOOLS"
	GOBIN="$TOOLS" go install "$pkg@$version"
}

go_install github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 github.com/containerd/containerd/v2 "$CONTAINERD_VERSION"
go_install sigs.k8s.io/cri-tools/cmd/crictl sigs.k8s.io/cri-tools "$CRI_TOOLS_VERSION"

# critest is cri-tools' test binary: `go test -c ./cmd/critest` inside the
# module, which the module cache keeps read-only, so build from a copy. The
# stamp records what it was built from; a binary built from a copy has no
# module version of its own.
critest_stamp="$TOOLS/.critest.version"
critest_want="sigs.k8s.io/cri-tools@$CRI_TOOLS_VERSION $(go env GOVERSION)"
if [[ -x "$TOOLS/critest" && -f "$critest_stamp" && "$(cat "$critest_stamp")" == "$critest_want" ]]; then
	log "critest $CRI_TOOLS_VERSION present in $TOOLS"
else
	log "building critest $CRI_TOOLS_VERSION into $TOOLS"
	build_dir=$(mktemp -d -t wincri-critest-src.XXXXXX)
	trap 'rm -rf "$build_dir"' EXIT
	# Outside any module, so that no go.mod or go.sum is touched.
	src_dir=$(cd "$build_dir" && go mod download -json "sigs.k8s.io/cri-tools@$CRI_TOOLS_VERSION" |
		sed -n 's/^[[:space:]]*"Dir":[[:space:]]*"\(.*\)",\{0,1\}$/\1/p')
	[[ -d "$src_dir" ]] || die "could not download sigs.k8s.io/cri-tools@$CRI_TOOLS_VERSION"
	cp -r "$src_dir/." "$build_dir"
	chmod -R u+w "$build_dir"
	(cd "$build_dir" && go test -c -o "$TOOLS/critest.new" ./cmd/critest)
	mv "$TOOLS/critest.new" "$TOOLS/critest"
	echo "$critest_want" >"$critest_stamp"
	rm -rf "$build_dir"
	trap - EXIT
fi

# --- CNI plugins ----------------------------------------------------------

# The CNI plugins of the version go.mod requires, which have CNI 1.1's GC
# (Debian's 1.1 package predates it): built once per version beside the Go
# cache and installed into /opt/cni/bin, the first of wincri's default
# bin_dirs. Debian's stay in /usr/lib/cni.
CNI_PLUGINS=(main/bridge main/loopback main/ptp ipam/host-local meta/portmap meta/bandwidth meta/firewall meta/tuning)
CNI_BIN_DIR=${WINCRI_CNI_BIN_DIR:-/opt/cni/bin}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cni_version=$(cd "$repo" && go list -m -f '{{.Version}}' github.com/containernetworking/plugins)
cni_cache="$(dirname "$(go env GOCACHE)")/wincri-tools/cni-plugins-$cni_version"
cni_current() {
	local p
	for p in "${CNI_PLUGINS[@]}"; do
		[[ "$(module_version "$CNI_BIN_DIR/${p#*/}" github.com/containernetworking/plugins)" == "$cni_version" ]] || return 1
	done
}
if cni_current; then
	log "CNI plugins $cni_version present in $CNI_BIN_DIR"
else
	pkgs=()
	for p in "${CNI_PLUGINS[@]}"; do
		[[ "$(module_version "$cni_cache/${p#*/}" github.com/containernetworking/plugins)" == "$cni_version" ]] ||
			pkgs+=("github.com/containernetworking/plugins/plugins/$p@$cni_version")
	done
	if ((${#pkgs[@]})); then
		log "building CNI plugins $cni_version into $cni_cache"
		(cd "$cni_cache/.." 2>/dev/null || cd /; CGO_ENABLED=0 GOBIN="$cni_cache" go install "${pkgs[@]}")
	fi
	[[ -w "$(dirname "$CNI_BIN_DIR")" || -w "$CNI_BIN_DIR" || $EUID -eq 0 ]] || die "cannot write $CNI_BIN_DIR: run as root"
	mkdir -p "$CNI_BIN_DIR"
	for p in "${CNI_PLUGINS[@]}"; do
		cp "$cni_cache/${p#*/}" "$CNI_BIN_DIR/${p#*/}.new"
		mv "$CNI_BIN_DIR/${p#*/}.new" "$CNI_BIN_DIR/${p#*/}"
	done
	log "installed CNI plugins $cni_version into $CNI_BIN_DIR"
fi

# --- busybox for the conformance images ------------------------------------

# Debian's busybox and busybox-static both own /bin/busybox, so the dynamic
# one is unpacked beside the tools instead of installed. A failure here is
# not fatal: hack/testimages falls back to /bin/busybox.
bb_dir="$TOOLS/busybox-dynamic.d"
if [[ -x "$bb_dir/bin/busybox" ]]; then
	log "busybox (dynamic) present in $bb_dir"
else
	log "unpacking Debian's dynamic busybox into $bb_dir"
	deb_dir=$(mktemp -d -t wincri-busybox.XXXXXX)
	if ! (cd "$deb_dir" && apt-get download -qq busybox >/dev/null 2>&1); then
		if [[ $EUID -eq 0 ]]; then
			apt-get update -qq
			(cd "$deb_dir" && apt-get download -qq busybox >/dev/null) || true
		fi
	fi
	deb=$(ls "$deb_dir"/busybox_*.deb 2>/dev/null | head -n 1 || true)
	if [[ -n "$deb" ]]; then
		rm -rf "$bb_dir.tmp"
		dpkg-deb -x "$deb" "$bb_dir.tmp"
		rm -rf "$bb_dir"
		mv "$bb_dir.tmp" "$bb_dir"
	else
		log "warning: could not download Debian's busybox; test images will use /bin/busybox"
	fi
	rm -rf "$deb_dir"
fi

case ":$PATH:" in
*":$TOOLS:"*) ;;
*) log "add $TOOLS to PATH to use the tools" ;;
esac
log "done"
