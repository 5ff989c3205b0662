package sandbox

import (
	"fmt"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/pkg/store"
)

var (
	allPodStates       = []PodState{PodCreating, PodReady, PodNotReady}
	allContainerStates = []ContainerState{ContainerCreating, ContainerCreated, ContainerRunning, ContainerExited, ContainerUnknown}
)

// storedContainer reads a container's record as the store holds it.
func (e *env) storedContainer(id string) ContainerRecord {
	e.t.Helper()
	var rec ContainerRecord
	require.NoError(e.t, e.db.View(func(tx *store.Tx) error { return tx.Get(bucketContainers, id, &rec) }))
	return rec
}

func (e *env) storedPod(id string) PodRecord {
	e.t.Helper()
	var rec PodRecord
	require.NoError(e.t, e.db.View(func(tx *store.Tx) error { return tx.Get(bucketPods, id, &rec) }))
	return rec
}

// TestContainerTransitions walks every pair of states: the diagram's
// edges (and staying put) are stored, every other change is refused with
// FailedPrecondition and leaves memory and store as they were.
func TestContainerTransitions(t *testing.T) {
	want := map[[2]ContainerState]bool{
		{ContainerCreating, ContainerCreated}: true,
		{ContainerCreated, ContainerRunning}:  true,
		{ContainerCreated, ContainerExited}:   true,
		{ContainerRunning, ContainerExited}:   true,
	}
	e := newEnv(t)
	podID := e.runPod("web")
	id := e.createContainer(podID, "app")
	c, err := e.m.getContainer(id)
	require.NoError(t, err)
	for _, from := range allContainerStates {
		for _, to := range allContainerStates {
			t.Run(fmt.Sprintf("%s to %s", from, to), func(t *testing.T) {
				// The test, not the diagram, puts the record in from.
				c.mu.Lock()
				c.rec.State, c.rec.Message = from, ""
				require.NoError(t, e.db.Update(func(tx *store.Tx) error { return tx.Put(bucketContainers, id, c.rec) }))
				c.mu.Unlock()
				err := e.m.updateContainer(c, fields(func(r *ContainerRecord) { r.State, r.Message = to, "moved" }))
				if from == to || want[[2]ContainerState{from, to}] {
					require.NoError(t, err)
					assert.Equal(t, to, c.snapshot().State)
					stored := e.storedContainer(id)
					assert.Equal(t, [2]string{string(to), "moved"}, [2]string{string(stored.State), stored.Message}, "the store holds the change")
					return
				}
				assert.True(t, errdefs.IsFailedPrecondition(err), "%v", err)
				assert.Contains(t, err.Error(), id)
				assert.Equal(t, from, c.snapshot().State, "memory unchanged")
				assert.Equal(t, from, e.storedContainer(id).State, "store unchanged")
			})
		}
	}
}

func TestPodTransitions(t *testing.T) {
	want := map[[2]PodState]bool{
		{PodCreating, PodReady}:    true,
		{PodCreating, PodNotReady}: true,
		{PodReady, PodNotReady}:    true,
	}
	e := newEnv(t)
	id := e.runPod("web")
	p, err := e.m.getPod(id)
	require.NoError(t, err)
	for _, from := range allPodStates {
		for _, to := range allPodStates {
			t.Run(fmt.Sprintf("%s to %s", from, to), func(t *testing.T) {
				p.mu.Lock()
				p.rec.State, p.rec.ExitCode = from, 0
				require.NoError(t, e.db.Update(func(tx *store.Tx) error { return tx.Put(bucketPods, id, p.rec) }))
				p.mu.Unlock()
				before := e.storedPod(id)
				err := e.m.updatePod(p, fields(func(r *PodRecord) { r.State, r.ExitCode = to, 7 }))
				if from == to || want[[2]PodState{from, to}] {
					require.NoError(t, err)
					assert.Equal(t, to, e.storedPod(id).State)
					return
				}
				assert.True(t, errdefs.IsFailedPrecondition(err), "%v", err)
				assert.Equal(t, from, p.snapshot().State, "memory unchanged")
				assert.Equal(t, before, e.storedPod(id), "store unchanged")
			})
		}
	}
}

// TestUpdateWritesAndPublishesOnlyCommittedChanges: a no-op writes
// nothing; events are published only once the store holds the change.
func TestUpdateWritesAndPublishesOnlyCommittedChanges(t *testing.T) {
	e := newEnv(t)
	podID := e.runPod("web")
	id := e.createContainer(podID, "app")
	c, err := e.m.getContainer(id)
	require.NoError(t, err)
	events, cancel := e.m.events.subscribe()
	defer cancel()

	// A no-op: the store is closed, so any write would fail.
	require.NoError(t, e.db.Close())
	require.NoError(t, e.m.updateContainer(c, fields(func(r *ContainerRecord) {})))
	require.NoError(t, e.m.updateContainer(c, func(r *ContainerRecord) ([]EventType, error) { return nil, errNoChange }))

	// A change the store refuses publishes nothing and changes nothing.
	err = e.m.updateContainer(c, func(r *ContainerRecord) ([]EventType, error) {
		r.State = ContainerRunning
		return []EventType{EventStarted}, nil
	})
	require.Error(t, err)
	assert.Equal(t, ContainerCreated, c.snapshot().State)
	select {
	case ev := <-events:
		t.Fatalf("event %v published for a change the store never held", ev)
	default:
	}
}
