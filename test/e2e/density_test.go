//go:build linux

package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/density"
)

// TestDensity creates pods at once (10 here; WINCRI_DENSITY_PODS for
// more, hack/bench.sh density runs 100 beside containerd), each a
// sandbox and a small container, deletes them, and checks that they all
// ran and that wincri's open files and goroutines came back to where
// they were. The figures (times to Ready, RSS) are printed, not judged.
func TestDensity(t *testing.T) {
	pods := 10
	if v := os.Getenv("WINCRI_DENSITY_PODS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err)
		pods = n
	}
	d := newDaemon(t)
	d.start("")
	opts := density.Options{
		Pods:    pods,
		Image:   suite.registry.imageRef(),
		Command: []string{"/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"},
		LogDir:  d.logDir,
		// Stats of every running pod, as kubelet's summary asks them.
		StatsCalls: 3,
		Probe: func() (density.Sample, error) {
			rss, err := density.ProcessRSS(d.pid())
			if err != nil {
				return density.Sample{}, err
			}
			fds, err := density.ProcessFDs(d.pid())
			if err != nil {
				return density.Sample{}, err
			}
			g, err := d.debugGoroutines()
			return density.Sample{RSSBytes: rss, FDs: fds, Goroutines: g}, err
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := density.Run(ctx, d.rt, d.img, opts)
	require.NoError(t, err)
	require.NoError(t, res.Settle(opts, 2, 5, 15*time.Second))
	fmt.Printf("density: %s\n", res)
	assert.Len(t, res.Stats, 3)
	assert.LessOrEqual(t, res.After.FDs, res.Before.FDs+2, "wincri's open files grew: %s", res)
	assert.LessOrEqual(t, res.After.Goroutines, res.Before.Goroutines+5, "wincri's goroutines grew: %s", res)
	d.assertNothingLeft(t)
}
