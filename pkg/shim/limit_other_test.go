//go:build !windows

package shim

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/pkg/limit"
)

// A shim's start takes a turn in the shim_launch queue: with its one turn
// taken, Launch waits and gives up with its context, starting nothing.
func TestLaunchWaitsForItsTurn(t *testing.T) {
	l := limit.New("shim_launch", 1, nil)
	d, err := NewManager(ManagerOpts{StateDir: shortDir(t), LaunchLimiter: l})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	release, err := l.Acquire(context.Background())
	require.NoError(t, err)
	defer release()

	bundle := filepath.Join(shortDir(t), "pod1")
	require.NoError(t, os.MkdirAll(bundle, 0o700))
	// Any executable would do: the turn never comes.
	self, err := os.Executable()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = d.Launch(ctx, LaunchOpts{ID: "pod1", Binary: self, Bundle: bundle})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "waiting for a turn in the shim_launch queue")
}
