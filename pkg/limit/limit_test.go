package limit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLimiterBoundsConcurrency(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		wantMax int32
	}{
		{"one at a time", 1, 1},
		{"three at a time", 3, 3},
		{"no limit", 0, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New("test", tt.n, nil)
			var now, peak atomic.Int32
			var wg sync.WaitGroup
			gate := make(chan struct{})
			for range 20 {
				wg.Go(func() {
					require.NoError(t, l.Do(context.Background(), func() error {
						n := now.Add(1)
						for {
							p := peak.Load()
							if n <= p || peak.CompareAndSwap(p, n) {
								break
							}
						}
						<-gate
						now.Add(-1)
						return nil
					}))
				})
			}
			require.Eventually(t, func() bool { return peak.Load() == tt.wantMax }, 5*time.Second, time.Millisecond)
			time.Sleep(20 * time.Millisecond)
			assert.Equal(t, tt.wantMax, peak.Load(), "never more than the limit at once")
			close(gate)
			wg.Wait()
		})
	}
}

// A waiter whose context ends leaves the queue with the context's error,
// and the wait shows in the metrics.
func TestLimiterWaitEndsWithContext(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	require.NoError(t, err)
	l := New("cni", 1, m)
	release, err := l.Acquire(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1.0, testutil.ToFloat64(m.running.WithLabelValues("cni")))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = l.Acquire(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "waiting for a turn in the cni queue")
	assert.Equal(t, 0.0, testutil.ToFloat64(m.waiting.WithLabelValues("cni")))

	release()
	release() // twice is harmless
	assert.Equal(t, 0.0, testutil.ToFloat64(m.running.WithLabelValues("cni")))
	boom := errors.New("boom")
	require.ErrorIs(t, l.Do(context.Background(), func() error { return boom }), boom)

	count, err := testutil.GatherAndCount(reg, "wincri_queue_wait_seconds")
	require.NoError(t, err)
	assert.Equal(t, 1, count)
}
