package sandbox

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/shim"
	"github.com/wincri/wincri/pkg/store"
)

// crash makes the current Manager stop reacting, as a killed wincri
// would: it gets no more shim events and no longer watches its shims, so
// that whatever happens next is up to the next Manager's recovery.
func (e *env) crash() {
	e.t.Helper()
	e.shims.Sync()
	e.mu.Lock()
	e.target = nil
	e.mu.Unlock()
	e.m.mu.RLock()
	pods := make([]*pod, 0, len(e.m.pods))
	for _, p := range e.m.pods {
		pods = append(pods, p)
	}
	e.m.mu.RUnlock()
	for _, p := range pods {
		p.setShim(nil)
	}
}

func (e *env) pod(id string) Pod {
	e.t.Helper()
	e.shims.Sync()
	p, err := e.m.PodStatus(id)
	require.NoError(e.t, err)
	return p
}

func TestRecoverRunningStaysRunning(t *testing.T) {
	e := newEnv(t)
	podID := e.runPod("web")
	id := e.runContainer(podID, "app")
	pid := e.container(id).Pid
	e.crash()
	e.restart()

	c := e.container(id)
	assert.Equal(t, ContainerRunning, c.State)
	assert.Equal(t, pid, c.Pid)
	assert.Equal(t, PodReady, e.pod(podID).State)
	// The recovered container is fully managed: its stop is seen.
	require.NoError(t, e.m.StopContainer(e.ctx(), id, 0))
	c = e.container(id)
	assert.Equal(t, ContainerExited, c.State)
	assert.Equal(t, int32(137), c.ExitCode)
}

func TestRecoverExitsWhileDown(t *testing.T) {
	for _, tc := range []struct {
		name       string
		code       uint32
		wantReason string
	}{
		{name: "completed", code: 0, wantReason: ReasonCompleted},
		{name: "failed", code: 42, wantReason: ReasonError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			podID := e.runPod("web")
			id := e.runContainer(podID, "app")
			e.crash()
			require.NoError(t, e.shims.Exit(id, "", tc.code))
			task, ok := e.shims.Task(id)
			require.True(t, ok)
			e.restart()

			c := e.container(id)
			assert.Equal(t, ContainerExited, c.State)
			assert.Equal(t, int32(tc.code), c.ExitCode)
			assert.Equal(t, tc.wantReason, c.Reason)
			assert.True(t, c.FinishedAt.Equal(task.State.ExitedAt), "finished at %s, the task exited at %s", c.FinishedAt, task.State.ExitedAt)
			assert.Equal(t, PodReady, e.pod(podID).State)
		})
	}
}

func TestRecoverSandboxExitedWhileDown(t *testing.T) {
	e := newEnv(t)
	podID := e.runPod("web")
	e.crash()
	require.NoError(t, e.shims.Exit(podID, "", 2))
	e.restart()
	p := e.pod(podID)
	assert.Equal(t, PodNotReady, p.State)
	assert.Equal(t, int32(2), p.ExitCode)
}

func TestRecoverShimGone(t *testing.T) {
	e := newEnv(t)
	podID := e.runPod("web")
	ids := []string{e.runContainer(podID, "a"), e.runContainer(podID, "b")}
	e.crash()
	e.shims.Crash(podID)
	e.restart()

	for _, id := range ids {
		c := e.container(id)
		assert.Equal(t, ContainerExited, c.State, id)
		assert.Equal(t, int32(shimDiedExitCode), c.ExitCode, id)
		assert.Equal(t, ReasonShimDied, c.Reason, id)
		assert.Contains(t, c.Message, "shim", id)
	}
	p := e.pod(podID)
	assert.Equal(t, PodNotReady, p.State)
	assert.Empty(t, p.Shim.Address, "the dead shim's address is forgotten")
	var cleaned bool
	for _, c := range e.shims.Cleanups() {
		cleaned = cleaned || c.ID == podID
	}
	assert.True(t, cleaned, "the dead shim is cleaned with its delete subcommand")

	// kubelet then stops and removes the pod.
	require.NoError(t, e.m.StopPod(e.ctx(), podID))
	require.NoError(t, e.m.RemovePod(e.ctx(), podID))
	_, err := e.m.PodStatus(podID)
	assert.True(t, errdefs.IsNotFound(err))
	assert.False(t, e.net.isActive(podID))

	// runc keeps the state of every task of a dead shim until its delete
	// subcommand runs for that task.
	for _, id := range ids {
		var taskCleaned bool
		for _, c := range e.shims.Cleanups() {
			taskCleaned = taskCleaned || c.ID == id
		}
		assert.True(t, taskCleaned, "the dead shim's delete subcommand runs for container %s too", id)
	}
}

// TestRecoverUndoesInterruptedRequests: records of intent that a crash
// left (a pod or container still creating) are undone at the start,
// with whatever side effects they had.
func TestRecoverUndoesInterruptedRequests(t *testing.T) {
	e := newEnv(t)
	podID := e.runPod("web")
	ctrID := e.runContainer(podID, "app")
	e.crash()

	// A container whose creation was interrupted: its record says
	// creating, its bundle exists.
	half := ContainerRecord{ID: newID(), PodID: podID, Config: mustMarshal(t, containerConfig("half")), State: ContainerCreating, CreatedAt: time.Now()}
	require.NoError(t, os.MkdirAll(e.m.dirs.containerBundle(half.ID), 0o700))
	// A pod whose creation was interrupted after its network was set up.
	halfPod := PodRecord{ID: newID(), Config: mustMarshal(t, podConfig("halfpod")), Handler: "process", State: PodCreating, CreatedAt: time.Now(), NetNS: "/run/netns/x"}
	e.net.mu.Lock()
	e.net.active[halfPod.ID] = true
	e.net.mu.Unlock()
	require.NoError(t, os.MkdirAll(e.m.dirs.podBundle(halfPod.ID), 0o700))
	require.NoError(t, e.db.Update(func(tx *store.Tx) error {
		if err := tx.Put(bucketContainers, half.ID, half); err != nil {
			return err
		}
		return tx.Put(bucketPods, halfPod.ID, halfPod)
	}))
	e.restart()

	_, err := e.m.ContainerStatus(half.ID)
	assert.True(t, errdefs.IsNotFound(err), "the interrupted container is gone: %v", err)
	assert.NoDirExists(t, e.m.dirs.containerBundle(half.ID))
	assert.Positive(t, e.plat.ctrCleanups[half.ID], "its layer is cleaned")
	_, err = e.m.PodStatus(halfPod.ID)
	assert.True(t, errdefs.IsNotFound(err), "the interrupted pod is gone: %v", err)
	assert.NoDirExists(t, e.m.dirs.podBundle(halfPod.ID))
	assert.False(t, e.net.isActive(halfPod.ID), "its network is torn down")

	// Its name is free again, and the finished objects are untouched.
	_, err = e.m.RunPod(e.ctx(), podConfig("halfpod"), "")
	require.NoError(t, err)
	assert.Equal(t, ContainerRunning, e.container(ctrID).State)
	assert.Equal(t, PodReady, e.pod(podID).State)
}

// TestRecoverRemovesOrphans: bundles, layers and network namespaces that
// no record owns (a crash between a side effect and its record) go.
func TestRecoverRemovesOrphans(t *testing.T) {
	e := newEnv(t)
	podID := e.runPod("web")
	ctrID := e.runContainer(podID, "app")
	e.crash()
	orphan := newID()
	// The writable layer is the platform's to remove (CleanupContainer).
	require.NoError(t, os.MkdirAll(e.m.dirs.containerLayer(orphan), 0o700))
	dirs := []string{e.m.dirs.podBundle(orphan), e.m.dirs.containerBundle(orphan)}
	for _, d := range dirs {
		require.NoError(t, os.MkdirAll(filepath.Join(d, "sub"), 0o700))
	}
	e.net.mu.Lock()
	e.net.active[orphan] = true
	e.net.mu.Unlock()
	e.restart()

	for _, d := range dirs {
		assert.NoDirExists(t, d)
	}
	assert.False(t, e.net.isActive(orphan), "orphaned network namespace")
	assert.Positive(t, e.plat.podCleanups[orphan], "orphaned pod cleaned by the platform")
	assert.Positive(t, e.plat.ctrCleanups[orphan], "orphaned container cleaned by the platform")
	assert.DirExists(t, e.m.dirs.podBundle(podID))
	assert.DirExists(t, e.m.dirs.containerBundle(ctrID))
	assert.True(t, e.net.isActive(podID))
}

// TestRecoverKeepsNames: names stay reserved across a restart, and a
// retry of the same request gets the same object.
func TestRecoverKeepsNames(t *testing.T) {
	e := newEnv(t)
	podID := e.runPod("web")
	ctrID := e.runContainer(podID, "app")
	e.crash()
	e.restart()

	again, err := e.m.RunPod(e.ctx(), podConfig("web"), "")
	require.NoError(t, err)
	assert.Equal(t, podID, again)
	other := podConfig("web")
	other.Hostname = "different"
	_, err = e.m.RunPod(e.ctx(), other, "")
	assert.True(t, errdefs.IsAlreadyExists(err), "%v", err)
	_, err = e.m.CreateContainer(e.ctx(), podID, containerConfig("app"))
	require.NoError(t, err, "a retry of the same container gets it")
	changed := containerConfig("app")
	changed.Command = []string{"true"}
	_, err = e.m.CreateContainer(e.ctx(), podID, changed)
	assert.True(t, errdefs.IsAlreadyExists(err), "%v", err)
	assert.Contains(t, err.Error(), ctrID)
}

// shimCreateOpts is the task creation StartContainer makes for id.
func shimCreateOpts(e *env, id string) shim.CreateOpts {
	return shim.CreateOpts{ID: id, Bundle: e.m.dirs.containerBundle(id)}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	require.NoError(t, err)
	return b
}

// TestRecoverInterruptedStart: wincri died after creating a container's
// task and before starting it. The record still says created; the retry
// of StartContainer must start it, not fail on the task left behind.
func TestRecoverInterruptedStart(t *testing.T) {
	e := newEnv(t)
	podID := e.runPod("web")
	id, err := e.m.CreateContainer(e.ctx(), podID, containerConfig("app"))
	require.NoError(t, err)
	p, err := e.m.getPod(podID)
	require.NoError(t, err)
	_, err = p.getShim().Create(e.ctx(), shimCreateOpts(e, id))
	require.NoError(t, err)
	e.crash()
	e.restart()

	assert.Equal(t, ContainerCreated, e.container(id).State)
	require.NoError(t, e.m.StartContainer(e.ctx(), id), "the leftover task of the interrupted start is replaced")
	assert.Equal(t, ContainerRunning, e.container(id).State)
}

// TestRecoverInterruptedRemovePod: wincri died in RemovePodSandbox after
// the sandbox task was deleted and the shim shut down, before the sandbox
// exit reached it. The pod has no shim any more and must not be
// reported ready; the retried remove finishes the job.
func TestRecoverInterruptedRemovePod(t *testing.T) {
	e := newEnv(t)
	podID := e.runPod("web")
	p, err := e.m.getPod(podID)
	require.NoError(t, err)
	e.shims.Sync()
	e.mu.Lock()
	e.target = nil // the sandbox exit never reaches this Manager
	e.mu.Unlock()
	require.NoError(t, e.m.stopPodTask(e.ctx(), p))
	require.NoError(t, e.m.releasePodShim(e.ctx(), p))
	e.crash()
	e.restart()

	assert.Equal(t, PodNotReady, e.pod(podID).State)
	require.NoError(t, e.m.RemovePod(e.ctx(), podID))
	_, err = e.m.PodStatus(podID)
	assert.True(t, errdefs.IsNotFound(err))
	assert.False(t, e.net.isActive(podID))
}

// TestRecoverQuarantinesUnusableRecords: one record that does not decode,
// or whose config does not, is set aside; the others are recovered and
// wincri starts.
func TestRecoverQuarantinesUnusableRecords(t *testing.T) {
	e := newEnv(t)
	good := e.runPod("good")
	goodCtr := e.runContainer(good, "app")
	badPod := e.runPod("bad-config")
	other := e.runPod("other")
	badCtr := e.runContainer(other, "garbled")
	keptCtr := e.runContainer(other, "kept")
	e.crash()
	require.NoError(t, e.db.Update(func(tx *store.Tx) error {
		if err := tx.Put(bucketContainers, badCtr, "not a container record"); err != nil {
			return err
		}
		var rec PodRecord
		if err := tx.Get(bucketPods, badPod, &rec); err != nil {
			return err
		}
		rec.Config = []byte{0xff, 0xff, 0xff}
		return tx.Put(bucketPods, badPod, rec)
	}))
	e.log.Expect(`^A state record is unusable; .* bucket=containers key=`+badCtr,
		`^A state record is unusable; .* bucket=pods key=`+badPod)

	e.restart()

	assert.Equal(t, ContainerRunning, e.container(goodCtr).State)
	assert.Equal(t, ContainerRunning, e.container(keptCtr).State)
	assert.Equal(t, PodReady, e.pod(good).State)
	_, err := e.m.PodStatus(badPod)
	assert.True(t, errdefs.IsNotFound(err), "%v", err)
	_, err = e.m.ContainerStatus(badCtr)
	assert.True(t, errdefs.IsNotFound(err), "%v", err)
	q, err := e.db.QuarantinedRecords()
	require.NoError(t, err)
	require.Len(t, q, 2)
	assert.Equal(t, []string{bucketContainers + "/" + badCtr, bucketPods + "/" + badPod}, []string{q[0].Bucket + "/" + q[0].Key, q[1].Bucket + "/" + q[1].Key})

	// The next start finds nothing left to set aside.
	e.crash()
	e.restart()
	assert.Equal(t, 2, e.db.QuarantinedCount())
}

// TestRecoveredPodKeepsItsHandler: a pod keeps the handler it was run
// with; when a restart finds that handler gone from the configuration,
// the pod and its containers run on and new containers are refused with
// a message naming the handler.
func TestRecoveredPodKeepsItsHandler(t *testing.T) {
	e := newEnv(t)
	podID := e.runPod("web")
	id := e.runContainer(podID, "app")
	e.crash()
	cfg := config.Default()
	cfg.Runtimes["sandboxed"] = cfg.Runtimes[cfg.DefaultRuntime]
	delete(cfg.Runtimes, cfg.DefaultRuntime)
	cfg.DefaultRuntime = "sandboxed"
	e.cfg = cfg
	e.restart()

	assert.Equal(t, ContainerRunning, e.container(id).State)
	_, err := e.m.CreateContainer(e.ctx(), podID, containerConfig("late"))
	assert.True(t, errdefs.IsFailedPrecondition(err), "%v", err)
	assert.Contains(t, err.Error(), `runtime handler "process"`)
	require.NoError(t, e.m.StopPod(e.ctx(), podID))
	require.NoError(t, e.m.RemovePod(e.ctx(), podID))
}
