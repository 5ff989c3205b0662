#!/usr/bin/env bash
# Static checks that must pass at every commit: gofmt, go vet and
# staticcheck for Linux and Windows, the Windows and macOS cross-builds,
# and an unchanged go.mod/go.sum after `go mod tidy`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail=0
step() { printf '== %s\n' "$*"; }

step gofmt
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	printf 'gofmt would change:\n%s\n' "$unformatted"
	fail=1
fi

step "go vet (linux)"
go vet ./... || fail=1

step "go vet (windows)"
GOOS=windows go vet ./... || fail=1

# staticcheck, pinned, installed once per version outside the module.
STATICCHECK_VERSION=v0.8.2
staticcheck_bin="$(dirname "$(go env GOCACHE)")/wincri-tools/staticcheck-$STATICCHECK_VERSION"
if [ ! -x "$staticcheck_bin/staticcheck" ]; then
	step "installing staticcheck $STATICCHECK_VERSION"
	GOBIN="$staticcheck_bin" go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
step "staticcheck (linux)"
"$staticcheck_bin/staticcheck" ./... || fail=1
step "staticcheck (windows)"
GOOS=windows "$staticcheck_bin/staticcheck" ./... || fail=1

step "go build (windows/amd64, linux/amd64, darwin/arm64, CGO_ENABLED=0)"
CGO_ENABLED=0 GOOS=windows GOARCH=amd64 go build ./... || fail=1
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build ./... || fail=1
CGO_ENABLED=0 GOOS=darwin GOARCH=arm64 go build ./... || fail=1

step "go mod tidy"
if ! go mod tidy -diff; then
	echo 'go.mod/go.sum are not tidy: run go mod tidy'
	fail=1
fi

if [ "$fail" -ne 0 ]; then
	echo 'verify: FAILED'
	exit 1
fi
echo 'verify: OK'
