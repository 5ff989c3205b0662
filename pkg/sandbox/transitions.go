package sandbox

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/containerd/errdefs"

	"github.com/wincri/wincri/pkg/store"
)

// Every change to a pod's or a container's record goes through updatePod
// or updateContainer, which enforce these state diagrams. A record is
// removed, not transitioned, from any state.
//
// Pods:
//
//	creating ──► ready ──► notready
//	    │                     ▲
//	    └─────────────────────┘  (stopped before it became ready)
//
// Containers:
//
//	creating ──► created ──► running ──► exited
//	                │                       ▲
//	                └───────────────────────┘  (failed to start, or exited
//	                                            before its start was recorded)
//
// Any other change of state is refused with FailedPrecondition and
// nothing is written. A change that leaves the record as it was writes
// nothing.
var (
	podTransitions = map[PodState][]PodState{
		PodCreating: {PodReady, PodNotReady},
		PodReady:    {PodNotReady},
	}
	containerTransitions = map[ContainerState][]ContainerState{
		ContainerCreating: {ContainerCreated},
		ContainerCreated:  {ContainerRunning, ContainerExited},
		ContainerRunning:  {ContainerExited},
	}
)

// errNoChange, returned by an update function, leaves the record as it
// is: nothing is written and nothing published.
var errNoChange = errors.New("no change")

// fields is an update that sets fields of a record and publishes nothing.
func fields[R any](set func(r *R)) func(r *R) ([]EventType, error) {
	return func(r *R) ([]EventType, error) {
		set(r)
		return nil, nil
	}
}

// allowed reports whether the diagram has the edge from -> to; staying in
// a state is always allowed.
func allowed[S comparable](diagram map[S][]S, from, to S) bool {
	if from == to {
		return true
	}
	for _, s := range diagram[from] {
		if s == to {
			return true
		}
	}
	return false
}

// updatePod applies fn to a copy of the pod's record, checks the state
// change against the diagram, persists the result and then publishes the
// events fn returned for the pod: the one way a pod's record changes.
// Readers see the old record or the new, never a record the store does
// not hold.
func (m *Manager) updatePod(p *pod, fn func(r *PodRecord) ([]EventType, error)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	next := p.rec
	next.IPs = append([]string(nil), p.rec.IPs...)
	events, err := fn(&next)
	if errors.Is(err, errNoChange) {
		return nil
	}
	if err != nil {
		return err
	}
	if !allowed(podTransitions, p.rec.State, next.State) {
		return fmt.Errorf("pod sandbox %s cannot go from %s to %s: %w", p.id, p.rec.State, next.State, errdefs.ErrFailedPrecondition)
	}
	if !reflect.DeepEqual(next, p.rec) {
		if err := m.db.Update(func(tx *store.Tx) error { return tx.Put(bucketPods, next.ID, next) }); err != nil {
			return fmt.Errorf("persisting pod sandbox %s: %w", next.ID, err)
		}
		p.rec = next
	}
	for _, e := range events {
		m.publish(e, p.id, p.id)
	}
	return nil
}

// updateContainer is updatePod for containers. The events are published
// under the container's lock, so that they keep lifecycle order.
func (m *Manager) updateContainer(c *container, fn func(r *ContainerRecord) ([]EventType, error)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := c.rec
	events, err := fn(&next)
	if errors.Is(err, errNoChange) {
		return nil
	}
	if err != nil {
		return err
	}
	if !allowed(containerTransitions, c.rec.State, next.State) {
		return fmt.Errorf("container %s cannot go from %s to %s: %w", c.id, c.rec.State, next.State, errdefs.ErrFailedPrecondition)
	}
	if !reflect.DeepEqual(next, c.rec) {
		if err := m.db.Update(func(tx *store.Tx) error { return tx.Put(bucketContainers, next.ID, next) }); err != nil {
			return fmt.Errorf("persisting container %s: %w", next.ID, err)
		}
		c.rec = next
	}
	for _, e := range events {
		m.publish(e, next.ID, next.PodID)
	}
	return nil
}
