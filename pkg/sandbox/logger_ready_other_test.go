//go:build !windows

package sandbox

import (
	"os"
	"os/exec"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/require"
)

func TestAwaitLoggerReady(t *testing.T) {
	tests := []struct {
		name, script string
		wantErr      bool
	}{
		{name: "ready", script: `printf x >&3; sleep 1`},
		{name: "exits without a word", script: `exit 0`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			require.NoError(t, err)
			defer r.Close()
			cmd := exec.Command("/bin/sh", "-c", tt.script)
			cmd.ExtraFiles = []*os.File{w}
			require.NoError(t, cmd.Start())
			_ = w.Close()
			err = awaitLoggerReady(cmd.Process, r)
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if tt.wantErr {
				require.ErrorIs(t, err, errdefs.ErrUnavailable)
				return
			}
			require.NoError(t, err)
		})
	}
}
