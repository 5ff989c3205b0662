package shim

import "sync"

// eventQueue hands events from Forward to the single goroutine that
// calls OnEvent, in arrival order, without ever blocking the sender.
type eventQueue struct {
	mu     sync.Mutex
	items  []Event
	max    int
	closed bool
	// wake holds at most one pending wake-up for the dispatcher.
	wake chan struct{}
	stop chan struct{}
}

func newEventQueue(max int) *eventQueue {
	return &eventQueue{max: max, wake: make(chan struct{}, 1), stop: make(chan struct{})}
}

// push queues ev; false when the queue is full or closed.
func (q *eventQueue) push(ev Event) bool {
	q.mu.Lock()
	if q.closed || len(q.items) >= q.max {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, ev)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

func (q *eventQueue) take() []Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	return items
}

// run delivers queued events until close.
func (q *eventQueue) run(deliver func(Event)) {
	for {
		select {
		case <-q.stop:
			return
		case <-q.wake:
		}
		for batch := q.take(); len(batch) > 0; batch = q.take() {
			for _, ev := range batch {
				if deliver != nil {
					deliver(ev)
				}
			}
		}
	}
}

func (q *eventQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.stop)
	}
}
