package sandbox

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/pkg/limit"
)

// Task creations, the Host Compute Service's heavy work on Windows, take
// a turn in the hcs queue: with its one turn taken, RunPodSandbox waits,
// up to its build timeout (it goes on past the caller's deadline, so that
// kubelet's retry finds the pod), then gives up leaving nothing behind.
func TestTaskCreationWaitsForItsTurn(t *testing.T) {
	e := newEnv(t)
	l := limit.New("hcs", 1, nil)
	e.m.tasks = l
	release, err := l.Acquire(context.Background())
	require.NoError(t, err)

	e.m.buildTimeout = 100 * time.Millisecond
	_, err = e.m.RunPod(e.ctx(), podConfig("web"), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "waiting for a turn in the hcs queue")
	assert.Empty(t, e.m.ListPods(PodFilter{}))
	assert.Empty(t, e.net.ids(), "the pod's network is undone")

	release()
	e.runPod("web")
}
