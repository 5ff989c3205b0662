package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/shim"
)

func TestContainerLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx()
	pod := e.runPod("web")
	a := e.runContainer(pod, "a")
	b := e.runContainer(pod, "b")

	assert.Len(t, e.shims.Launches(), 1, "the pod's containers share the pod's one shim")
	ca := e.container(a)
	assert.Equal(t, ContainerRunning, ca.State)
	assert.Equal(t, "/var/log/pods/web/a.log", ca.LogPath)
	assert.Equal(t, "sha256:1111", ca.ImageID)
	assert.Equal(t, testImage, ca.ImageName)
	assert.False(t, ca.StartedAt.IsZero())
	task, ok := e.shims.Task(a)
	require.True(t, ok)
	assert.Contains(t, task.Create.Stdout, "/usr/local/bin/wincri-logger?", "output goes to the logging process")
	assert.Equal(t, task.Create.Stdout, task.Create.Stderr)

	assert.Len(t, e.m.ListContainers(ContainerFilter{PodID: pod}), 2)
	assert.Len(t, e.m.ListContainers(ContainerFilter{Labels: map[string]string{"c": "b"}}), 1)
	assert.Len(t, e.m.ListContainers(ContainerFilter{State: ContainerRunning}), 2)
	assert.Empty(t, e.m.ListContainers(ContainerFilter{State: ContainerExited}))

	require.NoError(t, e.m.StopContainer(ctx, a, 10))
	ca = e.container(a)
	assert.Equal(t, ContainerExited, ca.State)
	assert.False(t, ca.FinishedAt.IsZero())
	require.NoError(t, e.m.StopContainer(ctx, a, 10), "stopping twice succeeds")
	err := e.m.StartContainer(ctx, a)
	assert.True(t, errdefs.IsFailedPrecondition(err), "restarting an exited container: %v", err)

	require.NoError(t, e.m.RemoveContainer(ctx, a))
	_, err = e.m.ContainerStatus(a)
	assert.True(t, errdefs.IsNotFound(err))
	assert.Equal(t, 2, e.plat.ctrCleanups[a], "the mounts are released at the exit and again at the removal")
	require.NoError(t, e.m.RemoveContainer(ctx, a), "removing twice succeeds")

	require.NoError(t, e.m.RemovePod(ctx, pod), "removing a pod removes its running containers")
	_, err = e.m.ContainerStatus(b)
	assert.True(t, errdefs.IsNotFound(err))
	assertNoRecords(t, e.db)
}

func TestCreateContainerRules(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx()
	pod := e.runPod("web")
	first := e.runContainer(pod, "a")

	t.Run("duplicate name names the holder", func(t *testing.T) {
		cfg := containerConfig("a")
		cfg.Command = []string{"other"}
		_, err := e.m.CreateContainer(ctx, pod, cfg)
		assert.True(t, errdefs.IsAlreadyExists(err), "%v", err)
		assert.Contains(t, err.Error(), first)
	})
	t.Run("a retry of the same request gets the same container", func(t *testing.T) {
		id, err := e.m.CreateContainer(ctx, pod, containerConfig("a"))
		require.NoError(t, err)
		assert.Equal(t, first, id)
	})
	t.Run("missing image says to pull it", func(t *testing.T) {
		cfg := containerConfig("b")
		cfg.Image.Image = "nginx"
		_, err := e.m.CreateContainer(ctx, pod, cfg)
		assert.True(t, errdefs.IsNotFound(err), "%v", err)
		assert.Contains(t, err.Error(), "pull it first")
	})
	t.Run("log path escaping the pod's log directory", func(t *testing.T) {
		cfg := containerConfig("c")
		cfg.LogPath = "../../etc/passwd"
		_, err := e.m.CreateContainer(ctx, pod, cfg)
		assert.True(t, errdefs.IsInvalidArgument(err), "%v", err)
	})
	t.Run("unknown pod", func(t *testing.T) {
		_, err := e.m.CreateContainer(ctx, "nope", containerConfig("d"))
		assert.True(t, errdefs.IsNotFound(err), "%v", err)
	})
	t.Run("spec failure leaves nothing", func(t *testing.T) {
		e.plat.containerErr = errors.New("bad mount")
		_, err := e.m.CreateContainer(ctx, pod, containerConfig("e"))
		require.Error(t, err)
		assert.Len(t, e.m.ListContainers(ContainerFilter{}), 1)
		e.plat.containerErr = nil
		_, err = e.m.CreateContainer(ctx, pod, containerConfig("e"))
		require.NoError(t, err, "the failed request freed the name")
	})
	t.Run("pod not ready", func(t *testing.T) {
		require.NoError(t, e.m.StopPod(ctx, pod))
		_, err := e.m.CreateContainer(ctx, pod, containerConfig("f"))
		assert.True(t, errdefs.IsFailedPrecondition(err), "%v", err)
	})
}

func TestContainerExitReasons(t *testing.T) {
	tests := []struct {
		name       string
		oom        bool
		code       uint32
		wantReason string
	}{
		{"success", false, 0, ReasonCompleted},
		{"failure", false, 1, ReasonError},
		{"oom kill", true, 137, ReasonOOMKilled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			pod := e.runPod("web")
			id := e.runContainer(pod, "a")
			if tt.oom {
				e.shims.OOM(id)
			}
			require.NoError(t, e.shims.Exit(id, "", tt.code))
			c := e.container(id)
			assert.Equal(t, ContainerExited, c.State)
			assert.Equal(t, int32(tt.code), c.ExitCode)
			assert.Equal(t, tt.wantReason, c.Reason)
		})
	}
}

func TestStopContainerKillsAfterGracePeriod(t *testing.T) {
	e := newEnv(t)
	pod := e.runPod("web")
	id := e.runContainer(pod, "stubborn")
	require.NoError(t, e.shims.IgnoreSignals(id, ""))
	start := time.Now()
	require.NoError(t, e.m.StopContainer(e.ctx(), id, 1))
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "the grace period is honoured")
	c := e.container(id)
	assert.Equal(t, ContainerExited, c.State)
	assert.Equal(t, int32(137), c.ExitCode, "killed")
}

// StopContainer returns once the task is deleted in the shim, so that
// RemoveContainer needs no shim call; a deletion that failed is retried
// by RemoveContainer. containerd deletes the task before it reports the
// container stopped (internal/cri/server/events.go, handleContainerExit).
func TestStopContainerDeletesTheTask(t *testing.T) {
	for _, tc := range []struct {
		name string
		// deleteFails makes the deletion at the exit fail.
		deleteFails bool
	}{{"deleted at the exit", false}, {"deletion at the exit failed", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			pod := e.runPod("web")
			id := e.runContainer(pod, "a")
			if tc.deleteFails {
				e.log.Expect("^Deleting an exited task: shim busy")
				e.shims.FailNext("Delete", errors.New("shim busy"))
			}
			require.NoError(t, e.m.StopContainer(e.ctx(), id, 0))
			_, found := e.shims.Task(id)
			assert.Equal(t, tc.deleteFails, found, "the task is deleted when StopContainer returns")

			// A shim that failed every Delete now would fail RemoveContainer
			// only if it had to delete.
			e.shims.FailNext("Delete", errors.New("unexpected Delete"))
			err := e.m.RemoveContainer(e.ctx(), id)
			if tc.deleteFails {
				require.ErrorContains(t, err, "unexpected Delete")
				require.NoError(t, e.m.RemoveContainer(e.ctx(), id), "retried")
			} else {
				require.NoError(t, err)
			}
			_, found = e.shims.Task(id)
			assert.False(t, found)
			_, err = e.m.ContainerStatus(id)
			assert.True(t, errdefs.IsNotFound(err), "removed: %v", err)
		})
	}
}

func TestShimDeathMarksContainersExited(t *testing.T) {
	e := newEnv(t)
	pod := e.runPod("web")
	id := e.runContainer(pod, "a")
	e.shims.Crash(pod)
	require.Eventually(t, func() bool {
		p, err := e.m.PodStatus(pod)
		return err == nil && p.State == PodNotReady
	}, 5*time.Second, 10*time.Millisecond)
	c := e.container(id)
	assert.Equal(t, int32(shimDiedExitCode), c.ExitCode)
	assert.Equal(t, ReasonShimDied, c.Reason)
	assert.Contains(t, c.Message, "shim")
	p, err := e.m.PodStatus(pod)
	require.NoError(t, err)
	assert.Equal(t, PodNotReady, p.State)
	require.Eventually(t, func() bool { return len(e.shims.Cleanups()) > 0 }, 5*time.Second, 10*time.Millisecond, "the dead shim is cleaned up")
}

func TestUpdateContainerResources(t *testing.T) {
	e := newEnv(t)
	pod := e.runPod("web")
	id := e.runContainer(pod, "a")
	r := &runtime.ContainerResources{Linux: &runtime.LinuxContainerResources{MemoryLimitInBytes: 64 << 20}}
	require.NoError(t, e.m.UpdateContainerResources(e.ctx(), id, r, nil))
	assert.Equal(t, int64(64<<20), e.plat.updatedMemory)
	task, _ := e.shims.Task(id)
	assert.NotEmpty(t, task.Updates, "a running task is updated in place")
	c := e.container(id)
	require.NotNil(t, c.Resources)
	assert.Equal(t, int64(64<<20), c.Resources.GetLinux().GetMemoryLimitInBytes())
}

func TestEventsFollowTheLifecycle(t *testing.T) {
	e := newEnv(t)
	events, cancel := e.m.Subscribe()
	defer cancel()
	pod := e.runPod("web")
	id := e.runContainer(pod, "a")
	require.NoError(t, e.m.StopContainer(e.ctx(), id, 0))
	require.NoError(t, e.m.RemoveContainer(e.ctx(), id))
	var got []EventType
	for len(got) < 5 {
		select {
		case ev := <-events:
			got = append(got, ev.Type)
		case <-time.After(5 * time.Second):
			t.Fatalf("events so far: %v", got)
		}
	}
	assert.Equal(t, []EventType{EventStarted, EventCreated, EventStarted, EventStopped, EventDeleted}, got)
}

// An exec that fails to start because its container stopped meanwhile
// (kubelet's probes race with the container's termination; runc says
// "read init-p: connection reset by peer") is FailedPrecondition, not a
// runtime fault.
func TestExecStartErrorOnStoppingContainer(t *testing.T) {
	e := newEnv(t)
	pod := e.runPod("web")
	id := e.runContainer(pod, "app")
	_, _, s, done, err := e.m.runningTask(id)
	require.NoError(t, err)
	defer done()
	startErr := errors.New("OCI runtime exec failed: read init-p: connection reset by peer")

	err = e.m.execStartError(e.ctx(), s, id, startErr)
	assert.False(t, errdefs.IsFailedPrecondition(err), "a running container: %v", err)
	assert.ErrorIs(t, err, startErr)

	require.NoError(t, e.shims.Exit(id, "", 137))
	err = e.m.execStartError(e.ctx(), s, id, startErr)
	assert.True(t, errdefs.IsFailedPrecondition(err), "%v", err)
	assert.Contains(t, err.Error(), "stopped while the exec was starting")
}

// An exec start that fails after the caller's deadline passed (runc's
// "broken pipe" once kubelet's probe gave up and the stdio went) is the
// deadline's fault: the error wraps it, so kubelet sees a probe timeout,
// not an Internal runtime error (seen in CI's cluster suite,
// TestExecProbeTimeoutLeavesNoProcess).
func TestExecStartErrorAfterTheDeadline(t *testing.T) {
	e := newEnv(t)
	pod := e.runPod("web")
	id := e.runContainer(pod, "app")
	_, _, s, done, err := e.m.runningTask(id)
	require.NoError(t, err)
	defer done()
	startErr := errors.New("OCI runtime exec failed: exec failed: unable to start container process: error executing setns process: signal: broken pipe")
	ctx, cancel := context.WithDeadline(e.ctx(), time.Now().Add(-time.Second))
	defer cancel()

	err = e.m.execStartError(ctx, s, id, startErr)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "broken pipe")
}

// The runc shim can answer an exec's start itself that the container's
// init is not running (FailedPrecondition, containerd's
// cmd/containerd-shim-runc-v2/task/service.go, Start) before its exit
// shows in the task's state: the container is stopping all the same
// (seen in CI: a kubelet probe while a pod was deleted).
func TestExecStartErrorWhileInitIsExiting(t *testing.T) {
	e := newEnv(t)
	pod := e.runPod("web")
	id := e.runContainer(pod, "app")
	_, _, s, done, err := e.m.runningTask(id)
	require.NoError(t, err)
	defer done()
	startErr := fmt.Errorf("start process 0a: container %s init process is not running: %w", id, errdefs.ErrFailedPrecondition)

	err = e.m.execStartError(e.ctx(), s, id, startErr)
	assert.True(t, errdefs.IsFailedPrecondition(err), "%v", err)
	assert.Contains(t, err.Error(), "container "+id+" stopped while the exec was starting")
}

// An ExecSync that times out kills its process without `all`, which
// runhcs rejects together with an exec id (the fake refuses it the same
// way), and leaves no exec process in the shim.
func TestExecSyncTimeoutKillsAndDeletesTheExec(t *testing.T) {
	e := newEnv(t)
	pod := e.runPod("web")
	id := e.runContainer(pod, "app")
	_, err := e.m.ExecSync(e.ctx(), id, []string{"sleep", "100"}, 100*time.Millisecond)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	info, ok := e.shims.Task(id)
	require.True(t, ok)
	assert.Empty(t, info.Execs, "the timed-out exec is still in the shim")
}

// An exec whose caller's context ends while the shim starts it is still
// killed and deleted: a ttrpc Start that returns the context's error may
// have started the process all the same. (Found by pkg/streaming's test of
// an exec whose client went away while its Start was in flight.)
func TestExecStartedAsTheCallerGaveUpIsKilled(t *testing.T) {
	tests := []struct {
		name string
		run  func(ctx context.Context, e *env, id string) error
	}{
		{name: "ExecSync", run: func(ctx context.Context, e *env, id string) error {
			_, err := e.m.ExecSync(ctx, id, []string{"sleep", "100"}, time.Minute)
			return err
		}},
		{name: "Exec", run: func(ctx context.Context, e *env, id string) error {
			_, err := e.m.Exec(ctx, id, []string{"sleep", "100"}, nil, io.Discard, io.Discard, false, nil)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			pod := e.runPod("web")
			id := e.runContainer(pod, "app")
			ctx, cancel := context.WithCancel(e.ctx())
			defer cancel()
			e.shims.BeforeStart(func(_, execID string) {
				if execID != "" {
					cancel()
				}
			})
			err := tt.run(ctx, e, id)
			require.ErrorIs(t, err, context.Canceled)
			info, ok := e.shims.Task(id)
			require.True(t, ok)
			assert.Empty(t, info.Execs, "the exec outlived its caller")
		})
	}
}

// A task whose caller gives up while the shim starts it is recorded as
// what it is, running, rather than as failed while it runs on.
func TestTaskStartedAsTheCallerGaveUpIsRecordedRunning(t *testing.T) {
	t.Run("container", func(t *testing.T) {
		e := newEnv(t)
		pod := e.runPod("web")
		id := e.createContainer(pod, "app")
		ctx, cancel := context.WithCancel(e.ctx())
		defer cancel()
		e.shims.BeforeStart(func(string, string) { cancel() })
		require.NoError(t, e.m.StartContainer(ctx, id))
		assert.Equal(t, ContainerRunning, e.container(id).State)
		info, ok := e.shims.Task(id)
		require.True(t, ok)
		assert.Equal(t, shim.StatusRunning, info.State.Status)
	})
	t.Run("pod", func(t *testing.T) {
		e := newEnv(t)
		ctx, cancel := context.WithCancel(e.ctx())
		defer cancel()
		e.shims.BeforeStart(func(string, string) { cancel() })
		id, err := e.m.RunPod(ctx, podConfig("web"), "")
		require.NoError(t, err)
		p, err := e.m.PodStatus(id)
		require.NoError(t, err)
		assert.Equal(t, PodReady, p.State)
	})
}

// A kill that fails when an exec times out is not swallowed: the caller
// learns that the process may still run (the item 3: the kill
// error was ignored and a timed-out probe's process lived on).
func TestExecSyncTimeoutReportsAFailedKill(t *testing.T) {
	e := newEnv(t)
	pod := e.runPod("web")
	id := e.runContainer(pod, "app")
	e.shims.FailNext("Kill", errors.New("access is denied"))
	e.log.Expect(`Killing an abandoned exec process`, `Deleting an exec process: .*process is running`)
	_, err := e.m.ExecSync(e.ctx(), id, []string{"sleep", "100"}, 100*time.Millisecond)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, errKillFailed)
	assert.ErrorContains(t, err, "access is denied")
	assert.NotContains(t, err.Error(), "was killed")
}
