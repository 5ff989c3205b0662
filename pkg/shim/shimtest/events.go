package shimtest

import (
	"sync"

	"github.com/wincri/wincri/pkg/shim"
)

// eventQueue delivers events to OnEvent in order on its own goroutine,
// so that a test's handler may call back into the fake (as the real
// driver allows) without deadlocking.
type eventQueue struct {
	onEvent func(shim.Event)

	mu      sync.Mutex
	cond    *sync.Cond
	pending []shim.Event
	// sent and delivered count events, for sync.
	sent, delivered int
	closed          bool
	running         bool
}

func newEventQueue(onEvent func(shim.Event)) *eventQueue {
	q := &eventQueue{onEvent: onEvent}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *eventQueue) emit(ev shim.Event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.pending = append(q.pending, ev)
	q.sent++
	if !q.running {
		q.running = true
		go q.deliver()
	}
}

// deliver runs while events are pending, then exits; emit restarts it.
func (q *eventQueue) deliver() {
	q.mu.Lock()
	for len(q.pending) > 0 {
		ev := q.pending[0]
		q.pending = q.pending[1:]
		q.mu.Unlock()
		if q.onEvent != nil {
			q.onEvent(ev)
		}
		q.mu.Lock()
		q.delivered++
		q.cond.Broadcast()
	}
	q.running = false
	q.mu.Unlock()
}

// sync waits until everything emitted so far is delivered (or dropped
// by close).
func (q *eventQueue) sync() {
	q.mu.Lock()
	defer q.mu.Unlock()
	target := q.sent
	for q.delivered < target && !q.closed {
		q.cond.Wait()
	}
}

func (q *eventQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.sent -= len(q.pending)
	q.pending = nil
	q.cond.Broadcast()
}
