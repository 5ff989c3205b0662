package sandbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shortCtx is a request whose deadline passes while an earlier request
// still holds the object, as kubelet's retries do.
func (e *env) shortCtx() context.Context {
	ctx, cancel := context.WithTimeout(e.ctx(), 50*time.Millisecond)
	e.t.Cleanup(cancel)
	return ctx
}

// TestRunPodRetryWaitsForTheInFlightPod: a retry of an identical RunPod
// whose deadline passes while the first request builds the pod gets
// DeadlineExceeded at once; the retry after the build gets the pod the
// first request built. cri-o behaves the same (server/sandbox_run_linux.go
// reserves the name and the retry waits for the in-progress result);
// containerd answers "name is reserved" (containerd issue #12438).
func TestRunPodRetryWaitsForTheInFlightPod(t *testing.T) {
	e := newEnv(t)
	g := newGate()
	e.plat.mu.Lock()
	e.plat.podGate = g
	e.plat.mu.Unlock()
	first := make(chan string, 1)
	go func() {
		id, err := e.m.RunPod(e.ctx(), podConfig("web"), "")
		assert.NoError(t, err)
		first <- id
	}()
	<-g.entered

	start := time.Now()
	_, err := e.m.RunPod(e.shortCtx(), podConfig("web"), "")
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	assert.Less(t, time.Since(start), 10*time.Second, "the retry returned with its deadline, not with the build")

	close(g.open)
	id := <-first
	again, err := e.m.RunPod(e.ctx(), podConfig("web"), "")
	require.NoError(t, err)
	assert.Equal(t, id, again)
}

// TestCreateContainerRetryWaitsForTheInFlightContainer is the same for
// containers: the retry never answers AlreadyExists for its own request.
func TestCreateContainerRetryWaitsForTheInFlightContainer(t *testing.T) {
	e := newEnv(t)
	podID := e.runPod("web")
	g := newGate()
	e.plat.mu.Lock()
	e.plat.ctrGate = g
	e.plat.mu.Unlock()
	first := make(chan string, 1)
	go func() {
		id, err := e.m.CreateContainer(e.ctx(), podID, containerConfig("app"))
		assert.NoError(t, err)
		first <- id
	}()
	<-g.entered

	_, err := e.m.CreateContainer(e.shortCtx(), podID, containerConfig("app"))
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	// The pod is held by the build: a stop with a deadline gives up too.
	err = e.m.StopPod(e.shortCtx(), podID)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)

	retry := make(chan error, 1)
	var retryID string
	go func() {
		var err error
		retryID, err = e.m.CreateContainer(e.ctx(), podID, containerConfig("app"))
		retry <- err
	}()
	close(g.open)
	id := <-first
	require.NoError(t, <-retry)
	assert.Equal(t, id, retryID, "the retry waiting for the build gets its container")
}

// TestAWaiterFindsTheObjectRemovedMeanwhile: requests that waited for an
// object's lock re-check that it still exists: StartContainer and
// UpdateContainerResources answer NotFound, StopContainer and
// RemoveContainer succeed.
func TestAWaiterFindsTheObjectRemovedMeanwhile(t *testing.T) {
	e := newEnv(t)
	podID := e.runPod("web")
	id := e.createContainer(podID, "app")
	c, err := e.m.getContainer(id)
	require.NoError(t, err)

	c.op.mustLock() // an earlier request works on the container
	results := map[string]chan error{}
	calls := map[string]func() error{
		"start":  func() error { return e.m.StartContainer(e.ctx(), id) },
		"update": func() error { return e.m.UpdateContainerResources(e.ctx(), id, nil, nil) },
		"stop":   func() error { return e.m.StopContainer(e.ctx(), id, 0) },
		"remove": func() error { return e.m.RemoveContainer(e.ctx(), id) },
	}
	for name := range calls {
		results[name] = make(chan error, 1)
	}
	for name, call := range calls {
		ch := results[name]
		go func() { ch <- call() }()
	}
	// The earlier request removes it, then releases the lock.
	require.NoError(t, e.m.destroyContainer(e.ctx(), c))
	c.op.unlock()

	for _, name := range []string{"start", "update"} {
		err := <-results[name]
		assert.True(t, errdefs.IsNotFound(err), "%s: %v", name, err)
	}
	for _, name := range []string{"stop", "remove"} {
		assert.NoError(t, <-results[name], name)
	}
}

// TestConcurrentLifecycles runs whole lifecycles of many pods at once, and
// races requests on the same objects; under -race it checks the core's
// locking, and in any run that every request ends with a CRI answer and
// nothing is left.
func TestConcurrentLifecycles(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			name := fmt.Sprintf("pod-%d", i)
			podID, err := e.m.RunPod(e.ctx(), podConfig(name), "")
			if !assert.NoError(t, err) {
				return
			}
			ids := make([]string, 3)
			var inner sync.WaitGroup
			for j := range ids {
				inner.Go(func() {
					id, err := e.m.CreateContainer(e.ctx(), podID, containerConfig(fmt.Sprintf("c%d", j)))
					if assert.NoError(t, err) {
						ids[j] = id
						assert.NoError(t, e.m.StartContainer(e.ctx(), id))
					}
				})
			}
			inner.Wait()
			// The same objects, raced: status, stop twice, remove twice.
			var race sync.WaitGroup
			for _, id := range ids {
				race.Go(func() { _, _ = e.m.ContainerStatus(id) })
				race.Go(func() { assert.NoError(t, e.m.StopContainer(e.ctx(), id, 0)) })
				race.Go(func() { assert.NoError(t, e.m.StopContainer(e.ctx(), id, 0)) })
			}
			race.Go(func() { assert.NoError(t, e.m.StopPod(e.ctx(), podID)) })
			race.Go(func() { _, _ = e.m.PodStatus(podID) })
			race.Wait()
			race.Go(func() { assert.NoError(t, e.m.RemovePod(e.ctx(), podID)) })
			race.Go(func() { assert.NoError(t, e.m.RemovePod(e.ctx(), podID)) })
			race.Wait()
		})
	}
	wg.Wait()
	assert.Empty(t, e.m.ListPods(PodFilter{}))
	assert.Empty(t, e.m.ListContainers(ContainerFilter{}))
	assertNoRecords(t, e.db)
}

// TestExecRacingAPodStop: an exec in flight when its pod stops ends with
// its process (killed with the container), and finishes its calls before
// the stop closes the shim connection: nothing uses a closed connection
// and mistakes the closure for a shim that is gone.
func TestExecRacingAPodStop(t *testing.T) {
	for i := range 2 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			e := newEnv(t)
			podID := e.runPod("web")
			id := e.runContainer(podID, "app")
			execDone := make(chan error, 1)
			go func() {
				_, err := e.m.ExecSync(e.ctx(), id, []string{"sleep", "1000"}, 0)
				execDone <- err
			}()
			require.Eventually(t, func() bool {
				info, ok := e.shims.Task(id)
				return ok && len(info.Execs) == 1
			}, 10*time.Second, time.Millisecond)

			require.NoError(t, e.m.StopPod(e.ctx(), podID))
			err := <-execDone
			if err != nil {
				assert.False(t, errdefs.IsUnavailable(err), "the exec saw the connection closed under it: %v", err)
			}
			assert.Empty(t, e.shims.CallsAfterClose(), "calls on a closed shim connection")
			require.NoError(t, e.m.RemovePod(e.ctx(), podID))
		})
	}
}

// TestConcurrentPodStopsAndRemoves: two stops, and a stop racing a
// remove, all succeed; the shim is released once and nothing is left.
func TestConcurrentPodStopsAndRemoves(t *testing.T) {
	for _, second := range []string{"stop", "remove"} {
		t.Run("stop and "+second, func(t *testing.T) {
			e := newEnv(t)
			podID := e.runPod("web")
			e.runContainer(podID, "app")
			var wg sync.WaitGroup
			wg.Go(func() { assert.NoError(t, e.m.StopPod(e.ctx(), podID)) })
			wg.Go(func() {
				if second == "stop" {
					assert.NoError(t, e.m.StopPod(e.ctx(), podID))
				} else {
					assert.NoError(t, e.m.RemovePod(e.ctx(), podID))
				}
			})
			wg.Wait()
			assert.Empty(t, e.shims.CallsAfterClose(), "calls on a closed shim connection")
			require.NoError(t, e.m.RemovePod(e.ctx(), podID))
			assertNoRecords(t, e.db)
		})
	}
}

// TestUseShimTellsAStoppedPodFromADeadShim: a request that finds no shim
// connection is told whether wincri stopped the pod (FailedPrecondition)
// or the shim died (Unavailable).
func TestUseShimTellsAStoppedPodFromADeadShim(t *testing.T) {
	e := newEnv(t)
	stopped := e.runPod("stopped")
	require.NoError(t, e.m.StopPod(e.ctx(), stopped))
	p, err := e.m.getPod(stopped)
	require.NoError(t, err)
	_, _, err = p.useShim()
	assert.True(t, errdefs.IsFailedPrecondition(err), "%v", err)

	died := e.runPod("died")
	p, err = e.m.getPod(died)
	require.NoError(t, err)
	s := p.getShim()
	require.NotNil(t, p.takeShim(shimDied, s))
	assert.Nil(t, p.takeShim(shimReleased, nil), "taken once")
	_, _, err = p.useShim()
	assert.True(t, errdefs.IsUnavailable(err), "%v", err)
	p.setShim(s) // give it back for the cleanup
}
