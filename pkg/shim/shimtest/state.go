package shimtest

import (
	"time"

	"github.com/containerd/typeurl/v2"

	"github.com/wincri/wincri/pkg/shim"
)

// process is one fake shim process, shared by the handles on it.
type process struct {
	addr shim.Address
	pid  int
	done chan struct{}
}

// task is a fake task: its init process and its exec processes.
type task struct {
	shim    *process
	opts    shim.CreateOpts
	init    *proc
	execs   map[string]*proc
	stats   typeurl.Any
	updates []UpdateCall
}

// proc is a fake process of a task.
type proc struct {
	id, execID string
	pid        uint32
	status     shim.Status
	exitCode   uint32
	exitedAt   time.Time
	// exitedCh is closed when the process exits, releasing Wait.
	exitedCh      chan struct{}
	ignoreSignals bool
	spec          shim.ExecOpts
}

func newProc(id, execID string, pid uint32) *proc {
	return &proc{id: id, execID: execID, pid: pid, status: shim.StatusCreated, exitedCh: make(chan struct{})}
}

func (p *proc) exited() bool { return p.status == shim.StatusStopped }

func (p *proc) exit(code uint32, at time.Time) {
	p.status, p.exitCode, p.exitedAt = shim.StatusStopped, code, at
	close(p.exitedCh)
}

func (p *proc) exitStatus() shim.ExitStatus {
	return shim.ExitStatus{Pid: p.pid, ExitStatus: p.exitCode, ExitedAt: p.exitedAt}
}

func (p *proc) state() shim.State {
	return shim.State{ID: p.id, ExecID: p.execID, Pid: p.pid, Status: p.status, ExitStatus: p.exitCode, ExitedAt: p.exitedAt}
}
