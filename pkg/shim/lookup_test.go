//go:build !windows

package shim

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A shim is looked up in PATH, then beside wincri, as containerd does
// (core/runtime/v2/shim_manager.go, resolveRuntimePath).
func TestLookShim(t *testing.T) {
	inPath, beside := t.TempDir(), t.TempDir()
	t.Setenv("PATH", inPath)
	write := func(dir, name string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755))
		return p
	}
	both := write(inPath, "shim-both")
	write(beside, "shim-both")
	onlyBeside := write(beside, "shim-beside")

	tests := []struct {
		name, binary, want, wantErr string
	}{
		{name: "PATH first", binary: "shim-both", want: both},
		{name: "beside wincri", binary: "shim-beside", want: onlyBeside},
		{name: "a path is not looked up beside", binary: "./shim-beside", wantErr: "no such file"},
		{name: "missing everywhere", binary: "shim-none", wantErr: "nor beside wincri in " + beside},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lookShim(tt.binary, beside)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, errdefs.ErrFailedPrecondition)
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
