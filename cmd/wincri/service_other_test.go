//go:build !windows

package main

import (
	"bytes"
	"os"
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
		{"--run-service", "--root", filepath.Join(dir, "root"), "--state", filepath.Join(dir, "state"), "--config", filepath.Join(dir, "absent.toml")},
	} {
		err := run(args, &out, &out)
		require.ErrorIs(t, err, errNoServiceManager, "%v", args)
	}
	assert.NoDirExists(t, filepath.Join(dir, "root"), "nothing created")
}

// A Windows priority class off Windows is refused before anything is
// created, not silently dropped.
func TestPriorityClassNeedsWindows(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	require.NoError(t, os.WriteFile(cfg, []byte("priority_class = \"above_normal\"\n"), 0o600))
	var out bytes.Buffer
	err := run([]string{"--config", cfg, "--root", filepath.Join(dir, "root"), "--state", filepath.Join(dir, "state")}, &out, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "priority_class")
	assert.NoDirExists(t, filepath.Join(dir, "root"))
}
