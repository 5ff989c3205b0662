#!/usr/bin/env bash
# Builds wincri's Windows release zip:
#
#   hack/release.sh [--out DIR] [--version VERSION]
#
#   --out DIR          where the zip goes (default: _output/release)
#   --version VERSION  the release's name (default: git describe --tags
#                      --always --dirty, else v0.0.0-dev)
#
# writes DIR/wincri-VERSION-windows-amd64.zip and prints its path as the
# last line of standard output (progress goes to standard error). The zip
# holds one folder, wincri-VERSION-windows-amd64/, with:
#
#   wincri.exe, wincri-logger.exe  built from this tree for windows/amd64;
#                                  their version is the Go build's own (the
#                                  VCS tag or revision, as `wincri version`
#                                  reports it)
#   crictl.exe                     cri-tools $CRI_TOOLS_VERSION (hack/lib.sh),
#                                  built once and kept beside the Go cache
#   config.toml                    the Windows default configuration
#   Install-Wincri.ps1, Uninstall-Wincri.ps1, README.md
#                                  release/windows/, with the versions filled in:
#                                  the release's, crictl's and the hcsshim
#                                  release wincri.exe is built with (go.mod's)
#   SHA256SUMS                     of every other file
#
# The zip is packed by hack/release (go run): entries sorted, each with the
# time of the last commit ($SOURCE_DATE_EPOCH when set), so two builds of a
# commit differ in the Go binaries at most.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=hack/lib.sh
source "$repo/hack/lib.sh"

log() { echo "release: $*" >&2; }
die() {
	echo "release: error: $*" >&2
	exit 1
}
usage() { sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

out=$repo/_output/release
version=
while (($#)); do
	case $1 in
	--out)
		(($# >= 2)) || die "--out needs a directory"
		out=$2
		shift 2
		;;
	--version)
		(($# >= 2)) || die "--version needs a value"
		version=$2
		shift 2
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		die "unknown argument $1"
		;;
	esac
done
[[ $out == /* ]] || out=$PWD/$out
cd "$repo"

if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null || die "go is not installed (expected in PATH or /usr/local/go/bin)"

if [[ -z $version ]]; then
	version=$(git describe --tags --always --dirty 2>/dev/null) || version=v0.0.0-dev
fi
[[ $version =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] || die "--version $version: want letters, digits and . _ + - only"
mkdir -p "$out"
mtime=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 315532800)}

stage=$(mktemp -d -t wincri-release.XXXXXX)
trap 'rm -rf "$stage"' EXIT

# The version is the Go build's: -buildvcs=true stamps the VCS tag or
# revision (GOFLAGS may say otherwise), which `wincri version` reports.
for cmd in wincri wincri-logger; do
	log "building $cmd.exe ($version)"
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 go build -trimpath -buildvcs=true -ldflags='-s -w' \
		-o "$stage/$cmd.exe" "./cmd/$cmd"
done

# crictl.exe is built as cri-tools' Makefile builds it (trimmed, version
# stamped), once per version: it is kept beside the Go cache. go install
# refuses GOBIN for another OS, so it installs into a GOPATH of its own.
crictl_dir="$(dirname "$(go env GOCACHE)")/wincri-tools/crictl-$CRI_TOOLS_VERSION-windows-amd64"
crictl=$crictl_dir/crictl.exe
crictl_version() {
	go version -m "$crictl" 2>/dev/null | awk '$1 == "mod" && $2 == "sigs.k8s.io/cri-tools" { print $3 }'
}
if [[ -f $crictl && "$(crictl_version)" == "$CRI_TOOLS_VERSION" ]]; then
	log "crictl.exe $CRI_TOOLS_VERSION present in $crictl_dir"
else
	[[ -z $(env -u GOBIN go env GOBIN) ]] || die "GOBIN is set by go env -w: go install cannot build crictl.exe for windows"
	log "building crictl.exe $CRI_TOOLS_VERSION into $crictl_dir"
	(cd "$stage" && env -u GOBIN GOPATH="$stage/gopath" GOMODCACHE="$(go env GOMODCACHE)" CGO_ENABLED=0 GOOS=windows GOARCH=amd64 \
		go install -trimpath -ldflags="-X sigs.k8s.io/cri-tools/pkg/version.Version=${CRI_TOOLS_VERSION#v}" \
		"sigs.k8s.io/cri-tools/cmd/crictl@$CRI_TOOLS_VERSION")
	mkdir -p "$crictl_dir"
	cp "$stage/gopath/bin/windows_amd64/crictl.exe" "$crictl.new"
	mv "$crictl.new" "$crictl"
	[[ "$(crictl_version)" == "$CRI_TOOLS_VERSION" ]] || die "the crictl.exe built is not cri-tools $CRI_TOOLS_VERSION"
fi

log "packing"
zip=$(go run ./hack/release -version "$version" -bin-dir "$stage" -crictl "$crictl" \
	-src release/windows -out "$out" -mtime "$mtime")
log "wrote $zip"
echo "$zip"
