//go:build linux

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestContainerLifecycle drives issue 5's flow through the built binary:
// a pod with two containers from the loopback registry, one shim for
// both, stream-tagged logs, exec sync, stop grace periods, an OOM kill
// and a remove that leaves nothing behind.
func TestContainerLifecycle(t *testing.T) {
	d := newDaemon(t)
	d.start("")
	d.pullTestImage()
	pod := d.podConfig("lifecycle")
	podID := d.runPod(pod)

	trapper := d.runContainer(podID, pod, shellContainer("trapper",
		`trap 'echo got-term; exit 3' TERM; echo out-line; echo err-line >&2; while true; do sleep 0.1; done`))
	ignorer := d.runContainer(podID, pod, shellContainer("ignorer",
		`trap '' TERM; echo ready; while true; do sleep 0.1; done`))
	trapperLog := filepath.Join(pod.GetLogDirectory(), "trapper.log")

	t.Run("one shim serves the pod", func(t *testing.T) {
		var podShims []shimProcess
		for _, s := range d.shims() {
			if s.ID == podID {
				podShims = append(podShims, s)
			}
		}
		require.Len(t, podShims, 1, "shims of the pod")
		assert.Contains(t, processesMentioning(d.dir), podShims[0].Pid)
		assert.Len(t, d.ipAllocations(), 1, "CNI address allocations")
		for _, id := range []string{trapper, ignorer} {
			st := d.containerStatus(id)
			require.Equal(t, runtime.ContainerState_CONTAINER_RUNNING, st.GetState())
			pid := runcPid(t, id)
			assert.Equal(t, podShims[0].Pid, parentPid(t, pid), "container %s's parent process", id)
		}
	})

	t.Run("stdout and stderr land in the CRI log with their stream tags", func(t *testing.T) {
		waitLogLine(t, trapperLog, "stdout", "out-line", 20*time.Second)
		waitLogLine(t, trapperLog, "stderr", "err-line", 20*time.Second)
		assert.NotContains(t, logLines(t, trapperLog, "stdout"), "err-line")
		assert.NotContains(t, logLines(t, trapperLog, "stderr"), "out-line")
		st := d.containerStatus(trapper)
		assert.Equal(t, trapperLog, st.GetLogPath())
	})

	t.Run("exec sync returns output and exit code", func(t *testing.T) {
		resp, err := d.execSync(trapper, 10, "/bin/sh", "-c", "echo hello; echo oops >&2; exit 7")
		require.NoError(t, err)
		assert.Equal(t, "hello\n", string(resp.GetStdout()))
		assert.Equal(t, "oops\n", string(resp.GetStderr()))
		assert.Equal(t, int32(7), resp.GetExitCode())
	})

	t.Run("exec sync honours its timeout", func(t *testing.T) {
		start := time.Now()
		_, err := d.execSync(trapper, 1, "/bin/sleep", "987")
		require.Error(t, err)
		assert.Equal(t, codes.DeadlineExceeded, status.Code(err), "%v", err)
		assert.Less(t, time.Since(start), 30*time.Second)
		assert.Eventually(t, func() bool { return len(processesWithArgs("sleep", "987")) == 0 },
			10*time.Second, 100*time.Millisecond, "the timed-out exec process still runs")
		// The shim kills asynchronously: deleting the exec before it has
		// exited fails ("cannot delete a running process") and leaves it
		// in the shim (containerd waits for the exit: execInternal in
		// internal/cri/server/container_execsync.go).
		log, err := os.ReadFile(d.logPath)
		require.NoError(t, err)
		assert.NotContains(t, string(log), "Deleting an exec process", "the timed-out exec was deleted while it still ran")
	})

	t.Run("stop honours the grace period", func(t *testing.T) {
		// A container that handles SIGTERM ends long before its grace period.
		start := time.Now()
		_, err := d.rt.StopContainer(d.ctx(), &runtime.StopContainerRequest{ContainerId: trapper, Timeout: 60})
		require.NoError(t, err)
		assert.Less(t, time.Since(start), 30*time.Second, "StopContainer waited out the grace period of a container that exited on SIGTERM")
		st := d.containerStatus(trapper)
		assert.Equal(t, runtime.ContainerState_CONTAINER_EXITED, st.GetState())
		assert.Equal(t, int32(3), st.GetExitCode())
		assert.Equal(t, "Error", st.GetReason())
		waitLogLine(t, trapperLog, "stdout", "got-term", 10*time.Second)

		// One that ignores it is killed once the grace period is over.
		const grace = 2
		start = time.Now()
		_, err = d.rt.StopContainer(d.ctx(), &runtime.StopContainerRequest{ContainerId: ignorer, Timeout: grace})
		require.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(start), grace*time.Second, "killed before its grace period ended")
		st = d.containerStatus(ignorer)
		assert.Equal(t, runtime.ContainerState_CONTAINER_EXITED, st.GetState())
		assert.Equal(t, int32(137), st.GetExitCode())
	})

	t.Run("OOM kill is reported as OOMKilled", func(t *testing.T) {
		cfg := shellContainer("hog", `exec dd if=/dev/zero of=/dev/null bs=256M count=1`)
		cfg.Linux.Resources = &runtime.LinuxContainerResources{MemoryLimitInBytes: 32 << 20, MemorySwapLimitInBytes: 32 << 20}
		hog := d.runContainer(podID, pod, cfg)
		st := d.waitContainerState(hog, runtime.ContainerState_CONTAINER_EXITED, time.Minute)
		assert.Equal(t, "OOMKilled", st.GetReason(), "exit code %d, message %q", st.GetExitCode(), st.GetMessage())
		assert.NotZero(t, st.GetExitCode())
	})

	t.Run("remove cleans the rootfs mount and the bundle", func(t *testing.T) {
		resp, err := d.rt.ListContainers(d.ctx(), &runtime.ListContainersRequest{Filter: &runtime.ContainerFilter{PodSandboxId: podID}})
		require.NoError(t, err)
		require.Len(t, resp.GetContainers(), 3)
		for _, c := range resp.GetContainers() {
			_, err := d.rt.RemoveContainer(d.ctx(), &runtime.RemoveContainerRequest{ContainerId: c.GetId()})
			require.NoError(t, err)
			for _, p := range []string{filepath.Join(d.state, "containers", c.GetId()), filepath.Join(d.root, "containers", c.GetId())} {
				_, err := os.Stat(p)
				assert.True(t, os.IsNotExist(err), "%s is left after RemoveContainer", p)
			}
			for _, m := range mountsUnder(d.dir) {
				assert.NotContains(t, m, c.GetId(), "mount left after RemoveContainer")
			}
		}
		d.removePod(podID)
		d.assertNothingLeft(t)
	})
}

// runcPid is a container's init pid as runc reports it.
func runcPid(t *testing.T, id string) int {
	t.Helper()
	for _, c := range runcContainers(t) {
		if c.ID == id {
			return c.Pid
		}
	}
	t.Fatalf("runc does not know container %s", id)
	return 0
}

// parentPid reads a process's parent from /proc.
func parentPid(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "PPid:"); ok {
			var ppid int
			_, err := fmt.Sscan(strings.TrimSpace(v), &ppid)
			require.NoError(t, err)
			return ppid
		}
	}
	t.Fatalf("no PPid in /proc/%d/status", pid)
	return 0
}

// processesWithArgs lists processes whose command line is exactly args.
func processesWithArgs(args ...string) []int {
	want := strings.Join(args, "\x00") + "\x00"
	var pids []int
	for _, pid := range processesMentioning(args[len(args)-1]) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && (string(b) == want || strings.HasSuffix(string(b), "/"+want)) {
			pids = append(pids, pid)
		}
	}
	return pids
}
