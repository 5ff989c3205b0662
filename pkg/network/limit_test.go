package network

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/pkg/limit"
)

// Setup and Teardown take a turn in the cni queue: with its one turn
// taken, a Setup waits, and gives up with its context, having made
// nothing.
func TestSetupWaitsForItsTurn(t *testing.T) {
	m := newTestManager(t)
	l := limit.New("cni", 1, nil)
	m.limit = l
	release, err := l.Acquire(context.Background())
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = m.Setup(ctx, testPod("p"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "waiting for a turn in the cni queue")
	assert.Empty(t, m.ns.ids())
	assert.Empty(t, m.cni.calls)

	release()
	_, err = m.Setup(context.Background(), testPod("p"))
	require.NoError(t, err)
	release, err = l.Acquire(context.Background())
	require.NoError(t, err)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	require.ErrorIs(t, m.Teardown(ctx2, testPod("p")), context.DeadlineExceeded)
	release()
	require.NoError(t, m.Teardown(context.Background(), testPod("p")))
}
