package image

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Callers that arrive while a sync runs share the next one; each gets
// the outcome of a sync that started after it asked.
func TestGroupSync(t *testing.T) {
	var g groupSync
	var runs atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	boom := errors.New("boom")
	fn := func() error {
		n := runs.Add(1)
		if n == 1 {
			started <- struct{}{}
			<-release
			return nil
		}
		return boom
	}
	first := make(chan error, 1)
	go func() { first <- g.do(fn) }()
	<-started
	// Five callers arrive while the first sync runs: they need one that
	// starts later, and share it.
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Go(func() { errs[i] = g.do(fn) })
	}
	for g.waitingFor(2) < 5 {
		time.Sleep(time.Millisecond) // until all five wait for the second sync
	}
	close(release)
	wg.Wait()
	assert.NoError(t, <-first)
	for _, err := range errs {
		assert.ErrorIs(t, err, boom, "the second sync's outcome")
	}
	assert.Equal(t, int32(2), runs.Load(), "six callers, two syncs")
	assert.ErrorIs(t, g.do(fn), boom, "a later caller runs its own")
	assert.Equal(t, int32(3), runs.Load())
}

func (g *groupSync) waitingFor(n uint64) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting[n]
}
