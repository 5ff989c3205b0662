//go:build linux

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/internal/density"
)

// churnCounts are the resources a leak would make grow.
type churnCounts struct {
	FDs, Goroutines, Mounts, NetNS, Shims int
}

func (c churnCounts) String() string {
	return fmt.Sprintf("fds=%d goroutines=%d mounts=%d netns=%d shims=%d", c.FDs, c.Goroutines, c.Mounts, c.NetNS, c.Shims)
}

func (d *daemon) churnCounts(t *testing.T) churnCounts {
	t.Helper()
	fds, err := density.ProcessFDs(d.pid())
	require.NoError(t, err)
	g, err := d.debugGoroutines()
	require.NoError(t, err)
	return churnCounts{
		FDs:        fds,
		Goroutines: g,
		Mounts:     len(mountsUnder(d.dir)),
		NetNS:      len(dirNames(d.netnsDir())),
		Shims:      len(d.shims()),
	}
}

// TestChurn runs pod lifecycles (a pod, two containers, an exec, stop,
// remove) and checks that wincri's open files and goroutines, and the
// host's mounts, network namespaces and shim processes, do not grow.
// It runs 30 of them; the soak, WINCRI_SOAK=1, runs 200 (about ten
// minutes on 2 cores).
func TestChurn(t *testing.T) {
	iterations := 30
	if os.Getenv("WINCRI_SOAK") == "1" {
		iterations = 200
	}
	const warmup = 5
	d := newDaemon(t)
	d.start("")
	d.pullTestImage()

	lifecycle := func(i int) {
		pod := d.podConfig(fmt.Sprintf("churn-%d", i))
		podID := d.runPod(pod)
		script := `trap 'exit 0' TERM; while true; do sleep 0.1; done`
		a := d.runContainer(podID, pod, shellContainer("a", script))
		b := d.runContainer(podID, pod, shellContainer("b", script))
		resp, err := d.execSync(a, 10, "/bin/echo", "churn")
		require.NoError(t, err)
		require.Equal(t, "churn\n", string(resp.GetStdout()))
		for _, id := range []string{a, b} {
			_, err := d.rt.StopContainer(d.ctx(), &runtime.StopContainerRequest{ContainerId: id, Timeout: 10})
			require.NoError(t, err)
			_, err = d.rt.RemoveContainer(d.ctx(), &runtime.RemoveContainerRequest{ContainerId: id})
			require.NoError(t, err)
		}
		d.removePod(podID)
	}

	for i := 0; i < warmup; i++ {
		lifecycle(i)
	}
	before := d.churnCounts(t)
	t.Logf("after %d warm-up lifecycles: %s", warmup, before)
	start := time.Now()
	for i := warmup; i < warmup+iterations; i++ {
		lifecycle(i)
		if (i-warmup+1)%50 == 0 {
			t.Logf("after %d lifecycles: %s", i-warmup+1, d.churnCounts(t))
		}
	}
	elapsed := time.Since(start)

	// Goroutines of finished requests and connections may take a moment
	// to end.
	var after churnCounts
	settled := assert.Eventually(t, func() bool {
		after = d.churnCounts(t)
		return after.FDs <= before.FDs+2 && after.Goroutines <= before.Goroutines+5
	}, 15*time.Second, 250*time.Millisecond)
	t.Logf("after %d lifecycles: %s", iterations, after)
	assert.True(t, settled, "wincri's open files or goroutines grew: before %s, after %s", before, after)
	assert.Zero(t, after.Mounts, "mounts")
	assert.Zero(t, after.NetNS, "network namespaces")
	assert.Zero(t, after.Shims, "shim processes")
	d.assertNothingLeft(t)
	assert.Empty(t, dirNames(filepath.Join(d.state, "exec")), "exec stdio left behind")
	fmt.Printf("churn: %d pod lifecycles in %s (%.0f ms each); before %s; after %s\n",
		iterations, elapsed.Round(time.Millisecond), float64(elapsed.Milliseconds())/float64(iterations), before, after)
}
