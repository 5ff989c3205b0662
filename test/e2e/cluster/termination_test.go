//go:build linux

package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGracefulDeletion: deleting a pod runs its preStop hook, then sends
// SIGTERM, and SIGKILL once terminationGracePeriodSeconds has passed; the
// pod is then gone from the runtime too.
func TestGracefulDeletion(t *testing.T) {
	n := sharedCluster(t)
	ns := n.namespace(t)
	host := t.TempDir()
	ns.apply(`apiVersion: v1
kind: Pod
metadata: {name: graceful}
spec:
  terminationGracePeriodSeconds: 30
  volumes: [{name: host, hostPath: {path: %[1]q}}]
  containers:
  - name: app
    image: %[2]s
    command: ["sh", "-c", "trap 'echo TERM >> /host/events; exit 0' TERM; while true; do sleep 1; done"]
    volumeMounts: [{name: host, mountPath: /host}]
    lifecycle:
      preStop:
        exec: {command: ["sh", "-c", "echo preStop >> /host/events"]}
---
apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: app
    image: %[2]s
    command: ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"]
`, host, busyboxImage)
	ns.waitReady("graceful")
	ns.waitReady("stubborn")

	_, err := ns.kubectl("delete", "pod", "graceful", "--timeout", "60s")
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(host, "events"))
	require.NoError(t, err)
	assert.Equal(t, "preStop\nTERM\n", string(data), "preStop must run before SIGTERM")

	start := time.Now()
	_, err = ns.kubectl("delete", "pod", "stubborn", "--timeout", "60s")
	require.NoError(t, err)
	took := time.Since(start)
	assert.GreaterOrEqual(t, took, 3*time.Second, "a container ignoring SIGTERM ended before its grace period")
	assert.Less(t, took, 30*time.Second, "SIGKILL did not follow the grace period")

	require.NoError(t, waitFor(time.Minute, "the runtime to remove the pods", func() error {
		out, err := n.crictl(context.Background(), "pods", "--namespace", ns.name, "-q")
		if err == nil && strings.TrimSpace(out) != "" {
			err = fmt.Errorf("pods left: %s", out)
		}
		return err
	}))
}

// TestOOMKilled: a container over its memory limit is killed by the
// kernel and kubelet shows the reason OOMKilled (the memory cgroup of
// these machines enforces limits).
func TestOOMKilled(t *testing.T) {
	ns := sharedCluster(t).namespace(t)
	ns.apply(`apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: %s
    # tail keeps the whole newline-free input in memory.
    command: ["sh", "-c", "head -c 256m /dev/zero | tail"]
    resources:
      limits: {memory: 32Mi}
`, busyboxImage)
	p := ns.waitPhase("hog", "Failed")
	term := p.container("app").State.Terminated
	require.NotNil(t, term)
	assert.Equal(t, "OOMKilled", term.Reason)
	assert.Equal(t, 137, term.ExitCode)
}
