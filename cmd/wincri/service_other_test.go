//go:build !windows

package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Off Windows the service flags say what to use instead.
func TestServiceRegistrationNeedsWindows(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	for _, args := range [][]string{
		{"--register-service", "--root", filepath.Join(dir, "root"), "--state", filepath.Join(dir, "state"), "--config", filepath.Join(dir, "absent.toml")},
		{"--unregister-service"},
	} {
		err := run(args, &out, &out)
		require.ErrorIs(t, err, errNoServiceManager, "%v", args)
	}
	assert.NoDirExists(t, filepath.Join(dir, "root"), "nothing created")
}
