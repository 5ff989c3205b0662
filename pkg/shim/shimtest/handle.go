package shimtest

import (
	"context"
	"fmt"
	"slices"
	"syscall"

	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"

	"github.com/wincri/wincri/pkg/shim"
)

// handle is a caller's connection to a fake shim process.
type handle struct {
	m      *Manager
	p      *process
	closed bool // guarded by m.mu
}

var _ shim.Shim = (*handle)(nil)

func (h *handle) Address() shim.Address { return h.p.addr }
func (h *handle) Pid() int              { return h.p.pid }
func (h *handle) Done() <-chan struct{} { return h.p.done }

func (h *handle) Close() error {
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	h.closed = true
	return nil
}

// enter checks the handle and shim are usable and pops an injected
// error for method; it returns with m.mu held on success.
func (h *handle) enter(method string) error {
	h.m.mu.Lock()
	if h.closed {
		h.m.afterClose = append(h.m.afterClose, method)
		h.m.mu.Unlock()
		return fmt.Errorf("%s: shim handle closed: %w", method, errdefs.ErrUnavailable)
	}
	select {
	case <-h.p.done:
		h.m.mu.Unlock()
		return fmt.Errorf("%s: shim connection lost: %w", method, errdefs.ErrUnavailable)
	default:
	}
	if err := h.m.injected(method); err != nil {
		h.m.mu.Unlock()
		return err
	}
	return nil
}

func (h *handle) task(id string) (*task, error) {
	t, ok := h.m.tasks[id]
	if !ok || t.shim != h.p {
		return nil, fmt.Errorf("task %s: %w", id, errdefs.ErrNotFound)
	}
	return t, nil
}

func (h *handle) proc(id, execID string) (*task, *proc, error) {
	t, err := h.task(id)
	if err != nil {
		return nil, nil, err
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

func (h *handle) Create(_ context.Context, opts shim.CreateOpts) (uint32, error) {
	if err := h.enter("Create"); err != nil {
		return 0, err
	}
	defer h.m.mu.Unlock()
	if opts.ID == "" {
		return 0, fmt.Errorf("create task: no id: %w", errdefs.ErrInvalidArgument)
	}
	if _, ok := h.m.tasks[opts.ID]; ok {
		return 0, fmt.Errorf("task %s: %w", opts.ID, errdefs.ErrAlreadyExists)
	}
	t := &task{shim: h.p, opts: opts, init: newProc(opts.ID, "", h.m.pid()), execs: make(map[string]*proc)}
	h.m.tasks[opts.ID] = t
	h.m.emit(shim.TopicTaskCreate, shim.Event{ContainerID: opts.ID, Pid: t.init.pid})
	return t.init.pid, nil
}

// Start starts the process; like a ttrpc call, it returns ctx's error when
// ctx ended by the time the work was done, without undoing the work.
func (h *handle) Start(ctx context.Context, id, execID string) (uint32, error) {
	h.m.mu.Lock()
	before := h.m.beforeStart
	h.m.mu.Unlock()
	if before != nil {
		before(id, execID)
	}
	pid, err := h.start(id, execID)
	if err == nil {
		err = ctx.Err()
	}
	return pid, err
}

func (h *handle) start(id, execID string) (uint32, error) {
	if err := h.enter("Start"); err != nil {
		return 0, err
	}
	defer h.m.mu.Unlock()
	t, p, err := h.proc(id, execID)
	if err != nil {
		return 0, err
	}
	if p.status != shim.StatusCreated {
		return 0, fmt.Errorf("start %s: process is %s: %w", id, p.status, errdefs.ErrFailedPrecondition)
	}
	if execID != "" && t.init.status != shim.StatusRunning {
		return 0, fmt.Errorf("start exec %s: task %s is %s: %w", execID, id, t.init.status, errdefs.ErrFailedPrecondition)
	}
	p.status = shim.StatusRunning
	if execID == "" {
		h.m.emit(shim.TopicTaskStart, shim.Event{ContainerID: id, Pid: p.pid})
	} else {
		h.m.emit(shim.TopicTaskExecStart, shim.Event{ContainerID: id, ExecID: execID, Pid: p.pid})
	}
	return p.pid, nil
}

// Kill ends the process for SIGKILL and SIGTERM (with 128+signal)
// unless the test made it ignore signals; other signals do nothing.
func (h *handle) Kill(_ context.Context, id, execID string, signal uint32, all bool) error {
	if err := h.enter("Kill"); err != nil {
		return err
	}
	defer h.m.mu.Unlock()
	t, p, err := h.proc(id, execID)
	if err != nil {
		return err
	}
	if p.exited() {
		return fmt.Errorf("signal %s: process already finished: %w", id, errdefs.ErrNotFound)
	}
	if all && execID != "" {
		// runhcs refuses it (hcsshim cmd/containerd-shim-runhcs-v1,
		// service_internal.go killInternal); runc-v2 ignores it.
		return fmt.Errorf("signal %s: all applies to the init process, not exec %s: %w", id, execID, errdefs.ErrFailedPrecondition)
	}
	targets := []*proc{p}
	if all && execID == "" {
		for _, e := range t.execs {
			targets = append(targets, e)
		}
	}
	for _, target := range targets {
		fatal := signal == uint32(syscall.SIGKILL) || (signal == uint32(syscall.SIGTERM) && !target.ignoreSignals)
		if fatal && !target.exited() {
			h.m.exitProc(t, target, 128+signal)
		}
	}
	return nil
}

func (h *handle) Exec(_ context.Context, opts shim.ExecOpts) error {
	if err := h.enter("Exec"); err != nil {
		return err
	}
	defer h.m.mu.Unlock()
	t, err := h.task(opts.ID)
	if err != nil {
		return err
	}
	if opts.ExecID == "" || opts.Spec == nil {
		return fmt.Errorf("exec in %s: exec id and spec are required: %w", opts.ID, errdefs.ErrInvalidArgument)
	}
	if _, ok := t.execs[opts.ExecID]; ok {
		return fmt.Errorf("exec %s: %w", opts.ExecID, errdefs.ErrAlreadyExists)
	}
	if t.init.status != shim.StatusRunning {
		return fmt.Errorf("exec in %s: task is %s: %w", opts.ID, t.init.status, errdefs.ErrFailedPrecondition)
	}
	p := newProc(opts.ID, opts.ExecID, h.m.pid())
	p.spec = opts
	t.execs[opts.ExecID] = p
	h.m.emit(shim.TopicTaskExecAdded, shim.Event{ContainerID: opts.ID, ExecID: opts.ExecID})
	return nil
}

func (h *handle) Wait(ctx context.Context, id, execID string) (shim.ExitStatus, error) {
	if err := h.enter("Wait"); err != nil {
		return shim.ExitStatus{}, err
	}
	_, p, err := h.proc(id, execID)
	h.m.mu.Unlock()
	if err != nil {
		return shim.ExitStatus{}, err
	}
	select {
	case <-p.exitedCh:
	case <-h.p.done:
		return shim.ExitStatus{}, fmt.Errorf("wait for %s: shim connection lost: %w", id, errdefs.ErrUnavailable)
	case <-ctx.Done():
		return shim.ExitStatus{}, ctx.Err()
	}
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	// Wait reports no pid, as the real shims do.
	return shim.ExitStatus{ExitStatus: p.exitCode, ExitedAt: p.exitedAt}, nil
}

// Delete removes a stopped or never started process; deleting a task
// removes its exec processes too.
func (h *handle) Delete(_ context.Context, id, execID string) (shim.ExitStatus, error) {
	if err := h.enter("Delete"); err != nil {
		return shim.ExitStatus{}, err
	}
	defer h.m.mu.Unlock()
	t, p, err := h.proc(id, execID)
	if err != nil {
		return shim.ExitStatus{}, err
	}
	if p.status == shim.StatusRunning || p.status == shim.StatusPaused {
		return shim.ExitStatus{}, fmt.Errorf("delete %s: process is %s: %w", id, p.status, errdefs.ErrFailedPrecondition)
	}
	if execID != "" {
		delete(t.execs, execID)
		return p.exitStatus(), nil
	}
	delete(h.m.tasks, id)
	h.m.emit(shim.TopicTaskDelete, shim.Event{ContainerID: id, Pid: p.pid, ExitStatus: p.exitCode, ExitedAt: p.exitedAt})
	return p.exitStatus(), nil
}

func (h *handle) State(_ context.Context, id, execID string) (shim.State, error) {
	if err := h.enter("State"); err != nil {
		return shim.State{}, err
	}
	defer h.m.mu.Unlock()
	_, p, err := h.proc(id, execID)
	if err != nil {
		return shim.State{}, err
	}
	return p.state(), nil
}

func (h *handle) ResizePty(_ context.Context, id, execID string, _, _ uint32) error {
	return h.touch("ResizePty", id, execID)
}

func (h *handle) CloseIO(_ context.Context, id, execID string) error {
	return h.touch("CloseIO", id, execID)
}

// touch implements the calls that only need the process to exist.
func (h *handle) touch(method, id, execID string) error {
	if err := h.enter(method); err != nil {
		return err
	}
	defer h.m.mu.Unlock()
	_, _, err := h.proc(id, execID)
	return err
}

func (h *handle) Pids(_ context.Context, id string) ([]uint32, error) {
	if err := h.enter("Pids"); err != nil {
		return nil, err
	}
	defer h.m.mu.Unlock()
	t, err := h.task(id)
	if err != nil {
		return nil, err
	}
	var pids []uint32
	if t.init.status == shim.StatusRunning {
		pids = append(pids, t.init.pid)
	}
	for _, e := range t.execs {
		if e.status == shim.StatusRunning {
			pids = append(pids, e.pid)
		}
	}
	slices.Sort(pids)
	return pids, nil
}

func (h *handle) Stats(_ context.Context, id string) (typeurl.Any, error) {
	if err := h.enter("Stats"); err != nil {
		return nil, err
	}
	defer h.m.mu.Unlock()
	t, err := h.task(id)
	if err != nil {
		return nil, err
	}
	return t.stats, nil
}

func (h *handle) Update(_ context.Context, id string, resources typeurl.Any, annotations map[string]string) error {
	if err := h.enter("Update"); err != nil {
		return err
	}
	defer h.m.mu.Unlock()
	t, err := h.task(id)
	if err != nil {
		return err
	}
	t.updates = append(t.updates, UpdateCall{Resources: resources, Annotations: annotations})
	return nil
}

// Shutdown ends the fake shim once it serves no task, as runc-v2 does.
func (h *handle) Shutdown(context.Context) error {
	if err := h.enter("Shutdown"); err != nil {
		return err
	}
	defer h.m.mu.Unlock()
	for _, t := range h.m.tasks {
		if t.shim == h.p {
			return nil
		}
	}
	h.m.stopShim(h.p)
	return nil
}
