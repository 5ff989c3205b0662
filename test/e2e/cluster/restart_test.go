//go:build linux

package cluster

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tickerPod is a pod whose container prints a growing counter.
const tickerPod = `apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    command: ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done"]
`

// lastTick is the highest counter in the pod's log.
func lastTick(ns *kns, name string) (int, error) {
	out, err := ns.kubectl("logs", "--tail=1", name)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(out), "tick "))
}

// assertUndisturbed checks that the pod's container is the one it was,
// not restarted, still logging and reachable by exec.
func assertUndisturbed(t *testing.T, ns *kns, name string, before containerStatus) {
	t.Helper()
	p := ns.waitReady(name)
	c := p.container("app")
	assert.Equal(t, before.ContainerID, c.ContainerID, "the container was replaced")
	assert.Equal(t, before.RestartCount, c.RestartCount, "the container was restarted")
	// A restarted kubelet serves a pod's log once it has synced the pod.
	var first int
	require.NoError(t, waitFor(30*time.Second, "the container's log", func() error {
		var err error
		first, err = lastTick(ns, name)
		return err
	}))
	require.NoError(t, waitFor(30*time.Second, "the container's log to go on", func() error {
		now, err := lastTick(ns, name)
		if err == nil && now <= first {
			err = fmt.Errorf("log stuck at tick %d", now)
		}
		return err
	}))
	out, err := ns.kubectl("exec", name, "--", "echo", "still here")
	require.NoError(t, err)
	assert.Equal(t, "still here", out)
}

// TestRuntimeRestart: pods keep running while wincri is restarted or
// killed; kubelet reconnects; logs and exec go on working.
func TestRuntimeRestart(t *testing.T) {
	n := sharedCluster(t)
	ns := n.namespace(t)
	ns.acceptComplaints("the test stops wincri: kubelet's calls meanwhile fail",
		`cri\.sock: connect: (no such file or directory|connection refused)`,
		`code = Unavailable desc = wincri is recovering its state after a start`,
		`PLEG is not healthy`)
	ns.apply(tickerPod, "steady", busyboxImage)
	before := ns.waitReady("steady").container("app")
	ctx := context.Background()

	n.wincri.stop()
	require.NoError(t, n.startWincri(ctx))
	assertUndisturbed(t, ns, "steady", before)

	n.wincri.kill()
	require.NoError(t, n.startWincri(ctx))
	assertUndisturbed(t, ns, "steady", before)

	// A pod started after the restarts gets an address too: kubelet does
	// not send the pod CIDR again, so wincri must have kept it.
	ns.apply(tickerPod, "after-restart", busyboxImage)
	ns.waitReady("after-restart")
}

// TestKubeletRestart: restarting kubelet restarts no container, with the
// CRI stats provider and evented PLEG turned on (Summary API from
// ListPodSandboxStats, pod changes from GetContainerEvents) and back off.
func TestKubeletRestart(t *testing.T) {
	n := sharedCluster(t)
	ns := n.namespace(t)
	ns.apply(tickerPod, "steady", busyboxImage)
	before := ns.waitReady("steady").container("app")
	ctx := context.Background()
	t.Cleanup(func() {
		if err := n.restartKubelet(ctx, nil); err != nil {
			t.Errorf("restoring kubelet: %v", err)
		}
	})

	require.NoError(t, n.restartKubelet(ctx, map[string]bool{"PodAndContainerStatsFromCRI": true, "EventedPLEG": true}))
	assertUndisturbed(t, ns, "steady", before)
	require.NoError(t, waitFor(90*time.Second, "CPU and memory in the Summary API from CRI stats", func() error {
		return checkSummary(n, ns.name, "steady")
	}))
	// With CRI stats, kubelet's /metrics/cadvisor comes from
	// ListMetricDescriptors and ListPodSandboxMetrics.
	require.NoError(t, waitFor(90*time.Second, "the pod's metrics in /metrics/cadvisor", func() error {
		out, err := n.kubectl(ctx, "", "get", "--raw", "/api/v1/nodes/"+nodeName+"/proxy/metrics/cadvisor")
		if err != nil {
			return err
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "container_cpu_usage_seconds_total{") && strings.Contains(line, `container="app"`) &&
				strings.Contains(line, `namespace="`+ns.name+`"`) && strings.Contains(line, `pod="steady"`) {
				return nil
			}
		}
		return fmt.Errorf("no container_cpu_usage_seconds_total for the pod's container among %d lines", strings.Count(out, "\n"))
	}))
	// A pod started under evented PLEG becomes Ready and goes away.
	ns.apply(tickerPod, "evented", busyboxImage)
	ns.waitReady("evented")
	_, err := ns.kubectl("delete", "pod", "evented", "--timeout", "60s")
	require.NoError(t, err)

	require.NoError(t, n.restartKubelet(ctx, nil))
	assertUndisturbed(t, ns, "steady", before)
}
