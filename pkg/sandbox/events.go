package sandbox

import (
	"sync"
	"time"
)

// EventType is a container lifecycle event, as kubelet's evented PLEG
// consumes them.
type EventType int

const (
	EventCreated EventType = iota
	EventStarted
	EventStopped
	EventDeleted
)

// Event is one container (or pod sandbox) lifecycle change.
type Event struct {
	Type        EventType
	ContainerID string
	PodID       string
	At          time.Time
}

// subscriberBuffer is how many events a subscriber may lag behind before
// it is dropped; a slow subscriber never blocks the runtime.
const subscriberBuffer = 1024

type broadcaster struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

func newBroadcaster() *broadcaster { return &broadcaster{subs: map[chan Event]struct{}{}} }

func (b *broadcaster) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default:
			// The subscriber fell too far behind: end its stream so that
			// it resubscribes and relists, rather than missing events
			// silently.
			delete(b.subs, ch)
			close(ch)
		}
	}
}

func (b *broadcaster) subscribe() (<-chan Event, func()) {
	ch := make(chan Event, subscriberBuffer)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
	}
}

// Subscribe streams lifecycle events until cancel is called; the channel
// is closed when the subscriber falls too far behind.
func (m *Manager) Subscribe() (events <-chan Event, cancel func()) { return m.events.subscribe() }

func (m *Manager) publish(t EventType, containerID, podID string) {
	m.events.publish(Event{Type: t, ContainerID: containerID, PodID: podID, At: time.Now()})
}
