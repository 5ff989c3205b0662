package image

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testutil"
	"github.com/wincri/wincri/pkg/limit"
)

// Layer unpacks (imports on Windows) take a turn in the hcs queue: with
// its one turn taken, a pull downloads but waits to unpack, and gives up
// with its context, recording nothing.
func TestUnpackWaitsForItsTurn(t *testing.T) {
	testutil.RequireRoot(t)
	reg := startRegistry(t)
	ref := reg.push(t, "queued/app:1", imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "a", body: "a"})))
	ts := newTestService(t, linuxHost(), nil)
	l := limit.New("hcs", 1, nil)
	ts.unpacks = l
	var unpacks atomic.Int32
	unpack := ts.unpackFn
	ts.unpackFn = func(ctx context.Context, dir string, parents []string, r io.Reader) (layerUsage, error) {
		unpacks.Add(1)
		return unpack(ctx, dir, parents, r)
	}
	release, err := l.Acquire(context.Background())
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = ts.Pull(ctx, ref, PullOptions{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Zero(t, unpacks.Load(), "no unpack ran without a turn")
	_, err = ts.Status(context.Background(), ref)
	require.Error(t, err, "nothing recorded")

	release()
	_, err = ts.Pull(context.Background(), ref, PullOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(1), unpacks.Load())
}
