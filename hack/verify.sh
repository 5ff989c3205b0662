#!/usr/bin/env bash
# Static checks that must pass at every commit: gofmt, go vet for Linux
# and Windows, the Windows cross-build, and an unchanged go.mod/go.sum
# after `go mod tidy`.
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

step "go build (windows/amd64, linux/amd64, CGO_ENABLED=0)"
CGO_ENABLED=0 GOOS=windows GOARCH=amd64 go build ./... || fail=1
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build ./... || fail=1

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
