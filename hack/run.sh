#!/usr/bin/env bash
# Installs what wincri needs on this machine (hack/setup.sh), builds it
# into bin/ and runs it in the foreground with the given flags (defaults:
# --root /var/lib/wincri --state /run/wincri
# --listen unix:///run/wincri/wincri.sock).
#
#   hack/run.sh --demo [flags]   also serves the project's test images
#                                (busybox, nginx, pause...) from a loopback
#                                registry and mirrors their registries to
#                                it, so the README's walkthrough runs with
#                                no internet
#
# When /etc/crictl.yaml does not exist it is written, pointing crictl at
# the endpoint wincri serves.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=hack/lib.sh
source hack/lib.sh

demo=0
if [[ ${1:-} == --demo ]]; then
	demo=1
	shift
fi
args=("$@")

hack/setup.sh >&2
export PATH="$(go env GOPATH)/bin:/usr/local/go/bin:$PATH"
# Static binaries: wincri is also the pods' pause process.
CGO_ENABLED=0 go build -o bin/ ./cmd/wincri ./cmd/wincri-logger

# The endpoint wincri will serve: the last --listen given, else the default.
endpoint=unix:///run/wincri/wincri.sock
for ((i = 0; i < ${#args[@]}; i++)); do
	case ${args[i]} in
	--listen) endpoint=${args[i + 1]:-$endpoint} ;;
	--listen=*) endpoint=${args[i]#--listen=} ;;
	--config | --config=*) ((demo)) && {
		echo "run.sh: --demo writes its own configuration; drop --config" >&2
		exit 2
	} ;;
	esac
done
if [[ ! -e /etc/crictl.yaml && -w /etc ]]; then
	printf 'runtime-endpoint: %s\nimage-endpoint: %s\ntimeout: 30\n' "$endpoint" "$endpoint" >/etc/crictl.yaml
	echo "run.sh: wrote /etc/crictl.yaml for $endpoint" >&2
fi

if ((demo)); then
	work=$(mktemp -d -t wincri-demo.XXXXXX)
	go build -o bin/testimages ./hack/testimages
	CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o bin/testimages-helper ./hack/testimages/helper
	busybox=/bin/busybox
	tools="$(go env GOPATH)/bin"
	[[ -x "$tools/busybox-dynamic.d/bin/busybox" ]] && busybox="$tools/busybox-dynamic.d/bin/busybox"
	bin/testimages --addr 127.0.0.1:0 --addr-file "$work/registry.addr" --busybox "$busybox" \
		--helper bin/testimages-helper >"$work/testimages.log" 2>&1 &
	images_pid=$!
	trap 'stop_pid "$images_pid" 5; rm -rf "$work"' EXIT
	images_ready() { kill -0 "$images_pid" && test -s "$work/registry.addr"; }
	wait_for 120 "the test image registry" images_ready || {
		tail -n 20 "$work/testimages.log" >&2
		exit 1
	}
	registry=$(cat "$work/registry.addr")
	{
		echo '# Written by hack/run.sh --demo: the test images, served locally.'
		echo '[image.mirrors]'
		bin/testimages --hosts | while read -r host; do
			echo "\"$host\" = [\"http://$registry\"]"
		done
	} >"$work/config.toml"
	echo "run.sh: test images served on $registry; busybox, nginx and the other test images pull from there" >&2
	bin/wincri --config "$work/config.toml" "${args[@]}" &
	wincri_pid=$!
	trap 'kill -TERM "$wincri_pid" 2>/dev/null || true' INT TERM
	set +e
	wait "$wincri_pid"
	status=$?
	# A signal ends a wait early; wait again until wincri is gone.
	while kill -0 "$wincri_pid" 2>/dev/null; do
		wait "$wincri_pid"
		status=$?
	done
	exit "$status"
fi
exec bin/wincri "${args[@]}"
