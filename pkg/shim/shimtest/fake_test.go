package shimtest

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/wincri/wincri/pkg/shim"
)

type recorder struct {
	mu     sync.Mutex
	events []shim.Event
}

func (r *recorder) add(ev shim.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) topics() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.events {
		out = append(out, ev.Topic+" "+ev.ContainerID+"/"+ev.ExecID)
	}
	return out
}

func launch(t *testing.T, m *Manager, id, pod string) shim.Shim {
	t.Helper()
	s, err := m.Launch(context.Background(), shim.LaunchOpts{ID: id, PodID: pod, Binary: "containerd-shim-runc-v2", Bundle: "/b/" + id})
	require.NoError(t, err)
	return s
}

var spec = &anypb.Any{TypeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Process", Value: []byte(`{"args":["sh"]}`)}

func TestPodGrouping(t *testing.T) {
	m := NewManager(nil)
	pod := launch(t, m, "pod1", "pod1")
	ctr := launch(t, m, "ctr1", "pod1")
	other := launch(t, m, "pod2", "pod2")
	assert.Equal(t, pod.Address(), ctr.Address())
	assert.Equal(t, pod.Pid(), ctr.Pid())
	assert.Equal(t, pod.Done(), ctr.Done())
	assert.NotEqual(t, pod.Address(), other.Address())
	assert.Equal(t, "pod1", ctr.Address().ShimID)
	assert.Len(t, m.Launches(), 3)

	again, err := m.Connect(context.Background(), pod.Address())
	require.NoError(t, err)
	assert.Equal(t, pod.Pid(), again.Pid())
}

func TestLifecycleAndEvents(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	m := NewManager(rec.add)
	s := launch(t, m, "ctr1", "pod1")

	pid, err := s.Create(ctx, shim.CreateOpts{ID: "ctr1", Bundle: "/b/ctr1", Stdout: "/io/out"})
	require.NoError(t, err)
	assert.NotZero(t, pid)
	_, err = s.Create(ctx, shim.CreateOpts{ID: "ctr1"})
	assert.ErrorIs(t, err, errdefs.ErrAlreadyExists)
	assert.ErrorIs(t, s.Exec(ctx, shim.ExecOpts{ID: "ctr1", ExecID: "e1", Spec: spec}), errdefs.ErrFailedPrecondition, "no exec before start")

	started, err := s.Start(ctx, "ctr1", "")
	require.NoError(t, err)
	assert.Equal(t, pid, started)
	_, err = s.Start(ctx, "ctr1", "")
	assert.ErrorIs(t, err, errdefs.ErrFailedPrecondition)

	require.NoError(t, s.Exec(ctx, shim.ExecOpts{ID: "ctr1", ExecID: "e1", Spec: spec}))
	assert.ErrorIs(t, s.Exec(ctx, shim.ExecOpts{ID: "ctr1", ExecID: "e1", Spec: spec}), errdefs.ErrAlreadyExists)
	_, err = s.Start(ctx, "ctr1", "e1")
	require.NoError(t, err)
	pids, err := s.Pids(ctx, "ctr1")
	require.NoError(t, err)
	assert.Len(t, pids, 2)

	require.NoError(t, m.Exit("ctr1", "e1", 3))
	exit, err := s.Wait(ctx, "ctr1", "e1")
	require.NoError(t, err)
	assert.EqualValues(t, 3, exit.ExitStatus)
	_, err = s.Delete(ctx, "ctr1", "e1")
	require.NoError(t, err)

	_, err = s.Delete(ctx, "ctr1", "")
	assert.ErrorIs(t, err, errdefs.ErrFailedPrecondition, "a running task cannot be deleted")
	require.NoError(t, s.Kill(ctx, "ctr1", "", uint32(syscall.SIGTERM), false))
	st, err := s.State(ctx, "ctr1", "")
	require.NoError(t, err)
	assert.Equal(t, shim.StatusStopped, st.Status)
	assert.EqualValues(t, 143, st.ExitStatus)
	assert.ErrorIs(t, s.Kill(ctx, "ctr1", "", 9, false), errdefs.ErrNotFound, "already finished")
	deleted, err := s.Delete(ctx, "ctr1", "")
	require.NoError(t, err)
	assert.EqualValues(t, 143, deleted.ExitStatus)
	_, ok := m.Task("ctr1")
	assert.False(t, ok)

	m.Sync()
	assert.Equal(t, []string{
		"/tasks/create ctr1/", "/tasks/start ctr1/", "/tasks/exec-added ctr1/e1", "/tasks/exec-started ctr1/e1",
		"/tasks/exit ctr1/e1", "/tasks/exit ctr1/", "/tasks/delete ctr1/",
	}, rec.topics())
}

func TestKillBehaviour(t *testing.T) {
	ctx := context.Background()
	m := NewManager(nil)
	s := launch(t, m, "ctr1", "")
	_, err := s.Create(ctx, shim.CreateOpts{ID: "ctr1"})
	require.NoError(t, err)
	_, err = s.Start(ctx, "ctr1", "")
	require.NoError(t, err)
	require.NoError(t, s.Exec(ctx, shim.ExecOpts{ID: "ctr1", ExecID: "e1", Spec: spec}))
	_, err = s.Start(ctx, "ctr1", "e1")
	require.NoError(t, err)
	require.NoError(t, m.IgnoreSignals("ctr1", ""))

	require.NoError(t, s.Kill(ctx, "ctr1", "", uint32(syscall.SIGTERM), false))
	info, _ := m.Task("ctr1")
	assert.Equal(t, shim.StatusRunning, info.State.Status, "SIGTERM ignored")

	require.NoError(t, s.Kill(ctx, "ctr1", "", uint32(syscall.SIGKILL), false))
	info, _ = m.Task("ctr1")
	assert.Equal(t, shim.StatusStopped, info.State.Status)
	assert.EqualValues(t, 137, info.State.ExitStatus)
	assert.Equal(t, shim.StatusStopped, info.Execs["e1"].Status, "the exec dies with the init process")
	assert.Equal(t, spec, info.ExecOpts["e1"].Spec)
}

func TestErrorsAndInjection(t *testing.T) {
	ctx := context.Background()
	m := NewManager(nil)
	boom := errors.New("boom")
	m.FailNext("Launch", boom)
	_, err := m.Launch(ctx, shim.LaunchOpts{ID: "a", Binary: "b", Bundle: "/b"})
	assert.ErrorIs(t, err, boom)
	_, err = m.Launch(ctx, shim.LaunchOpts{ID: "a"})
	assert.ErrorIs(t, err, errdefs.ErrInvalidArgument)

	s := launch(t, m, "ctr1", "")
	_, err = s.State(ctx, "nope", "")
	assert.ErrorIs(t, err, errdefs.ErrNotFound)
	m.FailNext("Create", errdefs.ErrUnavailable)
	_, err = s.Create(ctx, shim.CreateOpts{ID: "ctr1"})
	assert.ErrorIs(t, err, errdefs.ErrUnavailable)
	_, err = s.Create(ctx, shim.CreateOpts{ID: "ctr1"})
	assert.NoError(t, err, "an injected error fails one call")

	// A task of another shim is not visible through this one.
	other := launch(t, m, "ctr2", "")
	_, err = other.State(ctx, "ctr1", "")
	assert.ErrorIs(t, err, errdefs.ErrNotFound)

	require.NoError(t, s.Close())
	_, err = s.State(ctx, "ctr1", "")
	assert.ErrorIs(t, err, errdefs.ErrUnavailable)
}

func TestCrashAndCleanup(t *testing.T) {
	ctx := context.Background()
	m := NewManager(nil)
	s := launch(t, m, "pod1", "pod1")
	_, err := s.Create(ctx, shim.CreateOpts{ID: "pod1"})
	require.NoError(t, err)
	_, err = s.Start(ctx, "pod1", "")
	require.NoError(t, err)

	waited := make(chan error, 1)
	go func() {
		_, err := s.Wait(ctx, "pod1", "")
		waited <- err
	}()
	m.Crash("pod1")
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed by Crash")
	}
	select {
	case err := <-waited:
		assert.ErrorIs(t, err, errdefs.ErrUnavailable)
	case <-time.After(10 * time.Second):
		t.Fatal("Wait not released by the crash")
	}
	_, err = s.State(ctx, "pod1", "")
	assert.ErrorIs(t, err, errdefs.ErrUnavailable)
	_, err = m.Connect(ctx, s.Address())
	assert.ErrorIs(t, err, errdefs.ErrNotFound)
	assert.False(t, m.Running("pod1"))

	exit, err := m.Cleanup(ctx, "containerd-shim-runc-v2", "/b/pod1", "pod1")
	require.NoError(t, err)
	assert.EqualValues(t, 255, exit.ExitStatus)
	assert.Equal(t, []CleanupCall{{Binary: "containerd-shim-runc-v2", Bundle: "/b/pod1", ID: "pod1"}}, m.Cleanups())
	_, ok := m.Task("pod1")
	assert.False(t, ok)
}

func TestShutdownWaitsForTasks(t *testing.T) {
	ctx := context.Background()
	m := NewManager(nil)
	s := launch(t, m, "pod1", "pod1")
	_, err := s.Create(ctx, shim.CreateOpts{ID: "pod1"})
	require.NoError(t, err)
	require.NoError(t, s.Shutdown(ctx))
	assert.True(t, m.Running("pod1"), "a shim with tasks keeps running")
	_, err = s.Delete(ctx, "pod1", "")
	require.NoError(t, err)
	require.NoError(t, s.Shutdown(ctx))
	assert.False(t, m.Running("pod1"))
	<-s.Done()
}

func TestOnEventMayCallBack(t *testing.T) {
	ctx := context.Background()
	var m *Manager
	var s shim.Shim
	states := make(chan shim.Status, 10)
	m = NewManager(func(ev shim.Event) {
		if ev.Topic == shim.TopicTaskExit {
			// A handler that asks the shim about the task it heard of
			// must not deadlock the fake.
			st, err := s.State(ctx, ev.ContainerID, "")
			if err == nil {
				states <- st.Status
			}
		}
	})
	s = launch(t, m, "ctr1", "")
	_, err := s.Create(ctx, shim.CreateOpts{ID: "ctr1"})
	require.NoError(t, err)
	_, err = s.Start(ctx, "ctr1", "")
	require.NoError(t, err)
	require.NoError(t, m.Exit("ctr1", "", 0))
	m.Sync()
	assert.Equal(t, shim.StatusStopped, <-states)
	m.OOM("ctr1")
	require.NoError(t, m.Close())
	m.Sync()
}
