package sandbox

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// While wincri runs, the network state of pods that are gone (a
// teardown that failed for a pod kubelet then forgot) is collected
// periodically; the pods wincri knows keep theirs.
func TestRunNetworkGC(t *testing.T) {
	e := newEnv(t)
	id := e.runPod("web")
	e.net.mu.Lock()
	e.net.active["gone"] = true
	e.net.mu.Unlock()

	ctx, cancel := context.WithCancel(e.ctx())
	done := make(chan struct{})
	go func() {
		e.m.RunNetworkGC(ctx, 10*time.Millisecond)
		close(done)
	}()
	require.Eventually(t, func() bool { return len(e.net.ids()) == 1 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, []string{id}, e.net.ids())
	cancel()
	<-done
}

// Recovery at start collects too: a namespace whose pod record a crash
// never wrote goes.
func TestRecoverCollectsTheNetworkOfGonePods(t *testing.T) {
	e := newEnv(t)
	id := e.runPod("web")
	e.net.mu.Lock()
	e.net.active["gone"] = true
	e.net.mu.Unlock()
	require.NoError(t, e.m.Recover(e.ctx()))
	assert.Equal(t, []string{id}, e.net.ids())
	assert.Equal(t, 1, e.net.gcs)
}
