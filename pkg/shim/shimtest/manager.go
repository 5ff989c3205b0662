// Package shimtest is an in-memory fake of shim.Manager and shim.Shim
// for the unit tests of the packages that drive shims (pkg/sandbox).
//
// The fake keeps tasks and exec processes with the shims' state rules,
// groups a pod's tasks into one fake shim process, emits task events
// through OnEvent in order and off the caller's goroutine (as the real
// driver does), and lets a test end processes, crash shims and inject
// errors.
package shimtest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/containerd/errdefs"

	"github.com/wincri/wincri/pkg/shim"
)

// CleanupCall records one Manager.Cleanup.
type CleanupCall struct {
	Binary, Bundle, ID string
}

// Manager is a fake shim.Manager. The zero value is not usable; use
// NewManager.
type Manager struct {
	mu       sync.Mutex
	shims    map[string]*process // by shim id
	tasks    map[string]*task    // every task of every shim, by id
	nextPid  uint32
	failures map[string][]error
	launches []shim.LaunchOpts
	cleanups []CleanupCall
	closed   bool
	// afterClose lists the calls made on a handle after its Close.
	afterClose []string
	// beforeStart runs at the start of every Start, outside the lock.
	beforeStart func(id, execID string)
	// beforeLaunch runs at the start of every Launch, outside the lock.
	beforeLaunch func(opts shim.LaunchOpts)

	events *eventQueue
	// now is the clock for exit times.
	now func() time.Time
}

var _ shim.Manager = (*Manager)(nil)

// NewManager returns a fake whose events go to onEvent (nil to drop
// them).
func NewManager(onEvent func(shim.Event)) *Manager {
	return &Manager{
		shims:    make(map[string]*process),
		tasks:    make(map[string]*task),
		nextPid:  1000,
		failures: make(map[string][]error),
		events:   newEventQueue(onEvent),
		now:      time.Now,
	}
}

// BeforeLaunch makes every Launch call fn first, with the manager
// unlocked: a test sees what the bundle holds when a shim starts.
func (m *Manager) BeforeLaunch(fn func(opts shim.LaunchOpts)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.beforeLaunch = fn
}

// BeforeStart makes every Start call fn first: a test cancels the
// caller's context there to see what the caller does when the shim did
// the work but the caller never heard (a ttrpc call whose context ends
// returns the context's error however far the shim got).
func (m *Manager) BeforeStart(fn func(id, execID string)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.beforeStart = fn
}

// FailNext makes the next call of method (a Manager or Shim method
// name: "Launch", "Create", "Kill", ...) return err. Several calls
// queue up.
func (m *Manager) FailNext(method string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures[method] = append(m.failures[method], err)
}

// injected pops an injected error for method; m.mu is held.
func (m *Manager) injected(method string) error {
	errs := m.failures[method]
	if len(errs) == 0 {
		return nil
	}
	m.failures[method] = errs[1:]
	return errs[0]
}

func (m *Manager) pid() uint32 {
	m.nextPid++
	return m.nextPid
}

// Launch starts a fake shim for the task, or returns the pod's running
// one.
func (m *Manager) Launch(_ context.Context, opts shim.LaunchOpts) (shim.Shim, error) {
	m.mu.Lock()
	before := m.beforeLaunch
	m.mu.Unlock()
	if before != nil {
		before(opts)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.launches = append(m.launches, opts)
	if err := m.injected("Launch"); err != nil {
		return nil, err
	}
	if m.closed {
		return nil, fmt.Errorf("launch shim: manager closed: %w", errdefs.ErrUnavailable)
	}
	if opts.ID == "" || opts.Binary == "" || opts.Bundle == "" {
		return nil, fmt.Errorf("launch shim: id, binary and bundle are required: %w", errdefs.ErrInvalidArgument)
	}
	id := opts.PodID
	if id == "" {
		id = opts.ID
	}
	p, ok := m.shims[id]
	if !ok {
		p = &process{
			addr: shim.Address{Address: "fake://" + id, Version: 3, Protocol: "ttrpc", ShimID: id, Bundle: opts.Bundle},
			pid:  int(m.pid()),
			done: make(chan struct{}),
		}
		m.shims[id] = p
	}
	return &handle{m: m, p: p}, nil
}

// Connect returns a handle on the running fake shim at addr.
func (m *Manager) Connect(_ context.Context, addr shim.Address) (shim.Shim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.injected("Connect"); err != nil {
		return nil, err
	}
	for _, p := range m.shims {
		if p.addr.Address == addr.Address {
			return &handle{m: m, p: p}, nil
		}
	}
	return nil, fmt.Errorf("no shim at %s: %w", addr.Address, errdefs.ErrNotFound)
}

// Cleanup forgets the task as the delete subcommand would and returns
// its exit (255 when it never exited, as after a crash).
func (m *Manager) Cleanup(_ context.Context, binary, bundle, id string) (shim.ExitStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cleanups = append(m.cleanups, CleanupCall{Binary: binary, Bundle: bundle, ID: id})
	if err := m.injected("Cleanup"); err != nil {
		return shim.ExitStatus{}, err
	}
	t, ok := m.tasks[id]
	if !ok {
		return shim.ExitStatus{ExitStatus: 255, ExitedAt: m.now()}, nil
	}
	if !t.init.exited() {
		t.init.exit(255, m.now())
	}
	delete(m.tasks, id)
	return t.init.exitStatus(), nil
}

// Close stops event delivery.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.events.close()
	return nil
}

// Launches returns the Launch calls so far.
func (m *Manager) Launches() []shim.LaunchOpts {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]shim.LaunchOpts(nil), m.launches...)
}

// Cleanups returns the Cleanup calls so far.
func (m *Manager) Cleanups() []CleanupCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]CleanupCall(nil), m.cleanups...)
}

// Running reports whether the fake shim started for shimID (the pod id)
// is running.
func (m *Manager) Running(shimID string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.shims[shimID]
	return ok
}

// Crash kills the fake shim of shimID: Done closes, calls fail with
// ErrUnavailable, its tasks stay for Cleanup.
func (m *Manager) Crash(shimID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.shims[shimID]; ok {
		m.stopShim(p)
	}
}

// stopShim ends a fake shim process; m.mu is held.
func (m *Manager) stopShim(p *process) {
	delete(m.shims, p.addr.ShimID)
	close(p.done)
}

// Sync waits until OnEvent has seen every event emitted so far.
func (m *Manager) Sync() { m.events.sync() }
