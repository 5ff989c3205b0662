#!/usr/bin/env bash
# Installs what wincri needs on this machine (hack/setup.sh), builds it
# into bin/ and runs it in the foreground with the given flags (defaults:
# --root /var/lib/wincri --state /run/wincri
# --listen unix:///run/wincri/wincri.sock).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
hack/setup.sh >&2
export PATH="$(go env GOPATH)/bin:/usr/local/go/bin:$PATH"
# Static binaries: wincri is also the pods' pause process.
CGO_ENABLED=0 go build -o bin/ ./cmd/wincri ./cmd/wincri-logger
exec bin/wincri "$@"
