//go:build linux

package cluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInitContainersRunInOrder: init containers run one after the other,
// each to completion, before the app starts.
func TestInitContainersRunInOrder(t *testing.T) {
	ns := sharedCluster(t).namespace(t)
	ns.apply(`apiVersion: v1
kind: Pod
metadata: {name: init-order}
spec:
  restartPolicy: Never
  volumes: [{name: work, emptyDir: {}}]
  initContainers:
  - {name: first, image: %[1]s, command: ["sh", "-c", "sleep 1; echo first >> /work/order"], volumeMounts: [{name: work, mountPath: /work}]}
  - {name: second, image: %[1]s, command: ["sh", "-c", "echo second >> /work/order"], volumeMounts: [{name: work, mountPath: /work}]}
  containers:
  - {name: app, image: %[1]s, command: ["sh", "-c", "echo app >> /work/order; cat /work/order"], volumeMounts: [{name: work, mountPath: /work}]}
`, busyboxImage)
	p := ns.waitPhase("init-order", "Succeeded")
	out, err := ns.kubectl("logs", "init-order", "-c", "app")
	require.NoError(t, err)
	assert.Equal(t, "first\nsecond\napp", out)
	for _, c := range []string{"first", "second", "app"} {
		term := p.container(c).State.Terminated
		if assert.NotNil(t, term, c) {
			assert.Equal(t, 0, term.ExitCode, c)
			assert.Equal(t, "Completed", term.Reason, c)
		}
	}
}

// TestRestartPolicies: the exit codes and reasons kubelet shows for each
// restart policy.
func TestRestartPolicies(t *testing.T) {
	ns := sharedCluster(t).namespace(t)
	manifest := `apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: %s
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: %s, command: ["sh", "-c", "echo run; sleep 1; exit %d"]}
`
	ns.apply(manifest, "never-fails", "Never", busyboxImage, 3)
	ns.apply(manifest, "onfailure-succeeds", "OnFailure", busyboxImage, 0)
	// Fails once, then runs: kubelet keeps one dead container per
	// container, so a second failure could remove the one the API still
	// names as the previous before the test reads its log.
	ns.apply(`apiVersion: v1
kind: Pod
metadata: {name: always-fails}
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 1
  volumes: [{name: state, emptyDir: {}}]
  containers:
  - name: app
    image: %s
    command: ["sh", "-c", "if [ -e /state/ran ]; then echo second; trap 'exit 0' TERM; while true; do sleep 1; done; fi; touch /state/ran; echo run; exit 1"]
    volumeMounts: [{name: state, mountPath: /state}]
`, busyboxImage)

	p := ns.waitPhase("never-fails", "Failed")
	if term := p.container("app").State.Terminated; assert.NotNil(t, term) {
		assert.Equal(t, 3, term.ExitCode)
		assert.Equal(t, "Error", term.Reason)
	}
	assert.Equal(t, 0, p.container("app").RestartCount)

	p = ns.waitPhase("onfailure-succeeds", "Succeeded")
	if term := p.container("app").State.Terminated; assert.NotNil(t, term) {
		assert.Equal(t, 0, term.ExitCode)
		assert.Equal(t, "Completed", term.Reason)
	}

	p = ns.waitPod("always-fails", 2*time.Minute, "to be restarted", func(p *pod) error {
		c := p.container("app")
		if c.RestartCount < 1 || c.LastState.Terminated == nil || c.State.Running == nil {
			return fmt.Errorf("restartCount %d", c.RestartCount)
		}
		return nil
	})
	assert.Equal(t, 1, p.container("app").RestartCount)
	last := p.container("app").LastState.Terminated
	assert.Equal(t, 1, last.ExitCode)
	assert.Equal(t, "Error", last.Reason)
	out, err := ns.kubectl("logs", "--previous", "always-fails")
	require.NoError(t, err)
	assert.Equal(t, "run", out)
}

// TestSidecarContainer: an init container with restartPolicy Always starts
// before the app and keeps running beside it.
func TestSidecarContainer(t *testing.T) {
	ns := sharedCluster(t).namespace(t)
	ns.apply(`apiVersion: v1
kind: Pod
metadata: {name: sidecar}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: shared, emptyDir: {}}]
  initContainers:
  - name: side
    image: %[1]s
    restartPolicy: Always
    command: ["sh", "-c", "trap 'exit 0' TERM; echo side-up > /shared/side; while true; do sleep 1; done"]
    volumeMounts: [{name: shared, mountPath: /shared}]
    startupProbe:
      exec: {command: ["cat", "/shared/side"]}
      periodSeconds: 1
  containers:
  - name: app
    image: %[1]s
    command: ["sh", "-c", "trap 'exit 0' TERM; cat /shared/side; while true; do sleep 1; done"]
    volumeMounts: [{name: shared, mountPath: /shared}]
`, busyboxImage)
	p := ns.waitReady("sidecar")
	side := p.container("side")
	assert.NotNil(t, side.State.Running, "the sidecar is not running")
	assert.True(t, side.Started != nil && *side.Started, "the sidecar is not started")
	out, err := ns.kubectl("logs", "sidecar", "-c", "app")
	require.NoError(t, err)
	assert.Equal(t, "side-up", out, "the app started before its sidecar was up")
}
