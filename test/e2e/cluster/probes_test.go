//go:build linux

package cluster

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeploymentProbes: a Deployment's pod becomes Ready through an
// httpGet readiness probe (kubelet dials the pod IP from the node) and
// stays alive through an exec liveness probe (ExecSync on wincri).
func TestDeploymentProbes(t *testing.T) {
	ns := sharedCluster(t).namespace(t)
	ns.apply(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: %s
        readinessProbe:
          httpGet: {path: /, port: 80}
          periodSeconds: 2
        livenessProbe:
          exec: {command: ["cat", "/usr/share/nginx/html/index.html"]}
          periodSeconds: 2
`, nginxImage)
	_, err := ns.kubectl("rollout", "status", "deployment/web", "--timeout", "120s")
	require.NoError(t, err, ns.n.componentTails())
	name, err := ns.kubectl("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}")
	require.NoError(t, err)
	// Several liveness periods: a probe failing would restart it.
	time.Sleep(6 * time.Second)
	p := ns.waitReady(name)
	assert.Equal(t, 0, p.container("nginx").RestartCount, "a passing liveness probe restarted the container")
	// The pod's address comes from the node's pod CIDR, which kubelet
	// handed wincri through UpdateRuntimeConfig.
	_, cidr, err := net.ParseCIDR(ns.n.podCIDR)
	require.NoError(t, err)
	assert.True(t, cidr.Contains(net.ParseIP(p.Status.PodIP)), "pod IP %s is outside the node's pod CIDR %s", p.Status.PodIP, cidr)
}

// TestFailingLivenessProbeRestarts: kubelet restarts a container whose
// exec liveness probe fails, and restartCount grows.
func TestFailingLivenessProbeRestarts(t *testing.T) {
	ns := sharedCluster(t).namespace(t)
	ns.apply(`apiVersion: v1
kind: Pod
metadata: {name: unhealthy}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    livenessProbe:
      exec: {command: ["sh", "-c", "exit 1"]}
      periodSeconds: 1
      failureThreshold: 1
`, busyboxImage)
	p := ns.waitPod("unhealthy", 2*time.Minute, "to be restarted twice", func(p *pod) error {
		if c := p.container("app").RestartCount; c < 2 {
			return fmt.Errorf("restartCount %d", c)
		}
		return nil
	})
	assert.NotNil(t, p.container("app").LastState.Terminated, "the restarted container has no last terminated state")
}

// TestExecProbeTimeoutLeavesNoProcess: kubelet gives up on an exec probe
// after timeoutSeconds; wincri must then kill the probe's process, or
// every period leaves one more behind (containerd kills it on the
// ExecSync deadline: internal/cri/server/container_execsync.go,
// execInternal).
func TestExecProbeTimeoutLeavesNoProcess(t *testing.T) {
	ns := sharedCluster(t).namespace(t)
	const marker = "4242"
	ns.apply(`apiVersion: v1
kind: Pod
metadata: {name: slow-probe}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    readinessProbe:
      exec: {command: ["sleep", "%s"]}
      timeoutSeconds: 1
      periodSeconds: 2
`, busyboxImage, marker)
	ns.waitPod("slow-probe", 2*time.Minute, "to run", func(p *pod) error {
		if p.container("app").State.Running == nil {
			return fmt.Errorf("not running")
		}
		return nil
	})
	// Six probe periods: each probe lives one second at most, so at most
	// one may be seen at a time.
	most := 0
	for i := 0; i < 24; i++ {
		most = max(most, countProcesses("sleep", marker))
		time.Sleep(500 * time.Millisecond)
	}
	assert.LessOrEqual(t, most, 1, "timed-out probe processes pile up")
	p, err := ns.pod("slow-probe")
	require.NoError(t, err)
	assert.False(t, p.ready(), "a probe that always times out made the pod ready")
}

// countProcesses counts the host's processes whose command line is
// exactly args.
func countProcesses(args ...string) int {
	want := strings.Join(args, "\x00") + "\x00"
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		data, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && string(data) == want {
			n++
		}
	}
	return n
}
