package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/pkg/config"
)

func TestSubcommands(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run([]string{"version"}, &out, &out))
	assert.True(t, strings.HasPrefix(out.String(), "wincri "), out.String())
	assert.Regexp(t, `built and tested against containerd-shim-runhcs-v1 from hcsshim v0\.\d+\.\d+`, out.String())

	out.Reset()
	require.NoError(t, run([]string{"config", "default"}, &out, &out))
	cfg, err := config.Parse(out.Bytes())
	require.NoError(t, err, "wincri config default prints a configuration wincri accepts")
	assert.Equal(t, config.Default(), cfg)

	require.Error(t, run([]string{"config", "nonsense"}, &out, &out))
}

// TestBadInputFailsBeforeCreatingAnything checks that user errors end
// startup with one clear line, before the root or state exist.
func TestBadInputFailsBeforeCreatingAnything(t *testing.T) {
	dir := t.TempDir()
	goodCfg := filepath.Join(dir, "absent.toml")
	badCfg := filepath.Join(dir, "bad.toml")
	require.NoError(t, os.WriteFile(badCfg, []byte("[cni]\nbin_dir = 1\n"), 0o600))
	notDir := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(notDir, nil, 0o600))
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown config key", []string{"--config", badCfg}, `unknown key "cni.bin_dir"`},
		{"bad endpoint", []string{"--config", goodCfg, "--listen", "tcp://127.0.0.1:1"}, "unsupported scheme"},
		{"relative socket", []string{"--config", goodCfg, "--listen", "unix://x.sock"}, "unix:///absolute/path"},
		{"root is a file", []string{"--config", goodCfg, "--root", notDir}, "--root: " + notDir + " is not a directory"},
		{"unknown flag", []string{"--nope"}, "flag provided but not defined"},
		{"stray argument", []string{"--config", goodCfg, "serve"}, `unexpected argument "serve"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, state := filepath.Join(dir, tt.name, "root"), filepath.Join(dir, tt.name, "state")
			args := append([]string{"--root", root, "--state", state}, tt.args...)
			var stderr bytes.Buffer
			err := run(args, &stderr, &stderr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "\n", "one line")
			for _, p := range []string{root, state} {
				if p == notDir {
					continue
				}
				_, statErr := os.Stat(p)
				assert.True(t, os.IsNotExist(statErr), "%s must not be created", p)
			}
		})
	}
}

func TestServiceFlags(t *testing.T) {
	var out bytes.Buffer
	err := run([]string{"--register-service", "--unregister-service"}, &out, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exclude each other")

	f, err := parseFlags([]string{"--service-name", "wincri-b", "--log-file", `C:\w.log`}, &out)
	require.NoError(t, err)
	assert.Equal(t, "wincri-b", f.serviceName)
	assert.Equal(t, `C:\w.log`, f.logFile)
	f, err = parseFlags(nil, &out)
	require.NoError(t, err)
	assert.Equal(t, "wincri", f.serviceName)
}

func TestShimVersionCommandErrors(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	tests := []struct {
		name, want string
		args       []string
	}{
		{name: "usage", args: []string{"shim-version", "a", "b"}, want: "usage: wincri shim-version [PATH]"},
		{name: "missing shim", args: []string{"shim-version", filepath.Join(t.TempDir(), "containerd-shim-runhcs-v1.exe")}, want: "install hcsshim"},
		{name: "not the shim", args: []string{"shim-version", self}, want: "not containerd-shim-runhcs-v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(tt.args, &out, &out)
			require.ErrorContains(t, err, tt.want)
		})
	}
}
