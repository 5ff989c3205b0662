//go:build linux

package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestShimKilled kills a pod's shim: its containers are reported exited
// with 255 and a reason naming the shim, the pod NotReady, and stopping
// and removing the pod leaves nothing behind.
func TestShimKilled(t *testing.T) {
	d := newDaemon(t)
	d.start("")
	d.pullTestImage()
	pod := d.podConfig("shimkill")
	podID := d.runPod(pod)
	ids := []string{
		d.runContainer(podID, pod, shellContainer("one", counterScript)),
		d.runContainer(podID, pod, shellContainer("two", counterScript)),
	}
	var shimPid int
	for _, s := range d.shims() {
		if s.ID == podID {
			shimPid = s.Pid
		}
	}
	require.NotZero(t, shimPid, "the pod's shim process")
	require.NoError(t, syscall.Kill(shimPid, syscall.SIGKILL))

	for _, id := range ids {
		st := d.waitContainerState(id, runtime.ContainerState_CONTAINER_EXITED, 30*time.Second)
		assert.Equal(t, int32(255), st.GetExitCode())
		assert.Contains(t, strings.ToLower(st.GetReason()+" "+st.GetMessage()), "shim")
	}
	d.waitPodState(podID, runtime.PodSandboxState_SANDBOX_NOTREADY, 30*time.Second)
	d.removePod(podID)
	for _, c := range runcContainers(t) {
		if strings.HasPrefix(c.Bundle, d.dir+"/") {
			t.Errorf("runc still holds container %s (%s) of the pod whose shim died, after StopPodSandbox and RemovePodSandbox", c.ID, c.Status)
		}
	}
	d.assertNothingLeft(t)
}

// TestRestartKeepsContainers restarts wincri after a SIGKILL while one
// container runs and another exits: the first keeps running (same
// process, its log growing with no line lost or repeated), the second is
// reported with its real exit code and a finish time from the downtime.
func TestRestartKeepsContainers(t *testing.T) {
	d := newDaemon(t)
	d.start("")
	d.pullTestImage()
	pod := d.podConfig("restart")
	podID := d.runPod(pod)
	counter := d.runContainer(podID, pod, shellContainer("counter", counterScript))
	quitter := d.runContainer(podID, pod, shellContainer("quitter", "sleep 3; exit 42"))
	counterLog := filepath.Join(pod.GetLogDirectory(), "counter.log")
	pid := runcPid(t, counter)

	d.kill()
	down := time.Now()
	// The quitter exits and the counter keeps logging while wincri is down.
	require.Eventually(t, func() bool { return !alive(runcPidOrZero(t, quitter)) }, 20*time.Second, 100*time.Millisecond)
	linesDown := checkCounter(t, counterLog)
	require.Eventually(t, func() bool { return checkCounter(t, counterLog) > linesDown }, 10*time.Second, 100*time.Millisecond,
		"the counter stopped logging while wincri was down")
	d.start("")
	up := time.Now()

	st := d.containerStatus(counter)
	assert.Equal(t, runtime.ContainerState_CONTAINER_RUNNING, st.GetState())
	assert.Equal(t, pid, runcPid(t, counter))
	st = d.containerStatus(quitter)
	assert.Equal(t, runtime.ContainerState_CONTAINER_EXITED, st.GetState())
	assert.Equal(t, int32(42), st.GetExitCode())
	assert.Equal(t, "Error", st.GetReason())
	finished := time.Unix(0, st.GetFinishedAt())
	assert.True(t, finished.After(down) && finished.Before(up), "finished at %s, wincri was down from %s to %s", finished, down, up)
	assert.Equal(t, runtime.PodSandboxState_SANDBOX_READY, d.podStatus(podID).GetState())
	d.assertConsistent(t)

	before := checkCounter(t, counterLog)
	require.Eventually(t, func() bool { return checkCounter(t, counterLog) > before+10 },
		20*time.Second, 200*time.Millisecond, "the counter stopped logging after the restart")
	resp, err := d.execSync(counter, 10, "/bin/echo", "still-here")
	require.NoError(t, err)
	assert.Equal(t, "still-here\n", string(resp.GetStdout()))

	// A graceful restart keeps it running too.
	d.stop()
	d.start("")
	assert.Equal(t, runtime.ContainerState_CONTAINER_RUNNING, d.containerStatus(counter).GetState())
	assert.Equal(t, pid, runcPid(t, counter))
	d.removePod(podID)
	checkCounter(t, counterLog)
	d.skipOnLeftoverShim(t)
	d.assertNothingLeft(t)
}

func runcPidOrZero(t *testing.T, id string) int {
	for _, c := range runcContainers(t) {
		if c.ID == id {
			return c.Pid
		}
	}
	return 0
}

// TestRunPodSandboxRetry: kubelet's RunPodSandbox deadline passes while
// wincri builds the pod; kubelet's retry with the same config gets that
// pod, not "name is reserved", and only one pod exists in the end.
func TestRunPodSandboxRetry(t *testing.T) {
	d := newDaemon(t)
	d.start("")
	for _, deadline := range []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond} {
		t.Run(deadline.String(), func(t *testing.T) {
			pod := d.podConfig("retry")
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			first, err := d.rt.RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{Config: pod})
			cancel()
			if err == nil {
				d.removePod(first.GetPodSandboxId())
				t.Skipf("RunPodSandbox finished within %s", deadline)
			}
			require.Equal(t, codes.DeadlineExceeded, status.Code(err), "%v", err)
			// What the first attempt is building, if anything, as kubelet
			// would see it.
			var building string
			pods, err := d.rt.ListPodSandbox(d.ctx(), &runtime.ListPodSandboxRequest{Filter: &runtime.PodSandboxFilter{LabelSelector: map[string]string{"e2e": "true"}}})
			require.NoError(t, err)
			for _, p := range pods.GetItems() {
				if p.GetMetadata().GetUid() == pod.GetMetadata().GetUid() {
					building = p.GetId()
				}
			}

			resp, err := d.rt.RunPodSandbox(d.ctx(), &runtime.RunPodSandboxRequest{Config: pod})
			require.NoError(t, err, "the retry of a RunPodSandbox whose deadline passed")
			if building != "" {
				assert.Equal(t, building, resp.GetPodSandboxId(), "the retry got another pod than the one being built")
			}
			assert.Equal(t, runtime.PodSandboxState_SANDBOX_READY, d.podStatus(resp.GetPodSandboxId()).GetState())
			pods, err = d.rt.ListPodSandbox(d.ctx(), &runtime.ListPodSandboxRequest{})
			require.NoError(t, err)
			n := 0
			for _, p := range pods.GetItems() {
				if p.GetMetadata().GetUid() == pod.GetMetadata().GetUid() {
					n++
				}
			}
			assert.Equal(t, 1, n, "pods with the retried config")
			d.assertConsistent(t)
			d.removePod(resp.GetPodSandboxId())
		})
	}
	d.assertNothingLeft(t)
}
