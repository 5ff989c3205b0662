package shimtest

import (
	"fmt"
	"maps"
	"slices"

	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"

	"github.com/wincri/wincri/pkg/shim"
)

// UpdateCall records one Shim.Update.
type UpdateCall struct {
	Resources   typeurl.Any
	Annotations map[string]string
}

// TaskInfo is what the fake knows about a task.
type TaskInfo struct {
	// ShimID is the id of the fake shim serving the task.
	ShimID string
	Create shim.CreateOpts
	State  shim.State
	Execs  map[string]shim.State
	// ExecOpts are the Exec calls of the live exec processes.
	ExecOpts map[string]shim.ExecOpts
	Updates  []UpdateCall
}

// Task returns the task's record; false when there is none.
func (m *Manager) Task(id string) (TaskInfo, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tasks[id]
	if !ok {
		return TaskInfo{}, false
	}
	info := TaskInfo{
		ShimID:   t.shim.addr.ShimID,
		Create:   t.opts,
		State:    t.init.state(),
		Execs:    make(map[string]shim.State, len(t.execs)),
		ExecOpts: make(map[string]shim.ExecOpts, len(t.execs)),
		Updates:  append([]UpdateCall(nil), t.updates...),
	}
	for id, e := range t.execs {
		info.Execs[id] = e.state()
		info.ExecOpts[id] = e.spec
	}
	return info, true
}

// CallsAfterClose lists the calls made on a shim handle after its owner
// closed it: a user of the connection that did not hold it open.
func (m *Manager) CallsAfterClose() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.afterClose...)
}

// Exit ends a running or created process with code, as if it exited by
// itself; the init process takes its exec processes with it.
func (m *Manager) Exit(id, execID string, code uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, p, err := m.lookup(id, execID)
	if err != nil {
		return err
	}
	if p.exited() {
		return fmt.Errorf("process %s/%s already exited: %w", id, execID, errdefs.ErrFailedPrecondition)
	}
	m.exitProc(t, p, code)
	return nil
}

// IgnoreSignals makes the process survive SIGTERM (SIGKILL still ends
// it), to test stop timeouts.
func (m *Manager) IgnoreSignals(id, execID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, p, err := m.lookup(id, execID)
	if err != nil {
		return err
	}
	p.ignoreSignals = true
	return nil
}

// SetStats sets what Stats returns for a task.
func (m *Manager) SetStats(id string, stats typeurl.Any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tasks[id]
	if !ok {
		return fmt.Errorf("task %s: %w", id, errdefs.ErrNotFound)
	}
	t.stats = stats
	return nil
}

// OOM emits a TaskOOM event for a task.
func (m *Manager) OOM(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.emit(shim.TopicTaskOOM, shim.Event{ContainerID: id})
}

func (m *Manager) lookup(id, execID string) (*task, *proc, error) {
	t, ok := m.tasks[id]
	if !ok {
		return nil, nil, fmt.Errorf("task %s: %w", id, errdefs.ErrNotFound)
	}
	if execID == "" {
		return t, t.init, nil
	}
	p, ok := t.execs[execID]
	if !ok {
		return nil, nil, fmt.Errorf("process %s of task %s: %w", execID, id, errdefs.ErrNotFound)
	}
	return t, p, nil
}

// exitProc ends p and emits its exit; m.mu is held. The end of a
// task's init process ends its exec processes (its PID namespace goes).
func (m *Manager) exitProc(t *task, p *proc, code uint32) {
	p.exit(code, m.now())
	m.emit(shim.TopicTaskExit, shim.Event{ContainerID: p.id, ExecID: p.execID, Pid: p.pid, ExitStatus: code, ExitedAt: p.exitedAt})
	if p.execID != "" {
		return
	}
	for _, e := range sortedExecs(t.execs) {
		if !e.exited() {
			m.exitProc(t, e, 128+9)
		}
	}
}

func sortedExecs(execs map[string]*proc) []*proc {
	var out []*proc
	for _, k := range slices.Sorted(maps.Keys(execs)) {
		out = append(out, execs[k])
	}
	return out
}

// emit queues an event; m.mu is held, which keeps events in the order
// of the state changes.
func (m *Manager) emit(topic string, ev shim.Event) {
	ev.Topic = topic
	ev.Namespace = "wincri"
	ev.Timestamp = m.now()
	m.events.emit(ev)
}
