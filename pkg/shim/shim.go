// Package shim drives containerd shim v2 runtimes over the task API:
// containerd-shim-runhcs-v1 on Windows, containerd-shim-runc-v2 on Linux.
//
// It launches shims with bootstrap parameters, parses their start reply,
// speaks task API v2 and v3 over ttrpc, serves the events service the
// shims forward to, and cleans up shims that died. Manager and Shim are
// the seam pkg/sandbox uses; package shimtest holds a hand-written fake
// of both.
package shim

import (
	"context"
	"time"

	"github.com/containerd/typeurl/v2"
)

// Annotations that group a pod's tasks into one shim (read by both
// runc-v2 and runhcs from config.json).
const (
	AnnotationContainerType = "io.kubernetes.cri.container-type"
	AnnotationSandboxID     = "io.kubernetes.cri.sandbox-id"
	ContainerTypeSandbox    = "sandbox"
	ContainerTypeContainer  = "container"
)

// Event topics delivered to ManagerOpts.OnEvent.
const (
	TopicTaskCreate    = "/tasks/create"
	TopicTaskStart     = "/tasks/start"
	TopicTaskExit      = "/tasks/exit"
	TopicTaskDelete    = "/tasks/delete"
	TopicTaskOOM       = "/tasks/oom"
	TopicTaskExecAdded = "/tasks/exec-added"
	TopicTaskExecStart = "/tasks/exec-started"
	TopicTaskPaused    = "/tasks/paused"
	TopicTaskResumed   = "/tasks/resumed"
)

// Event is one task event a shim forwarded.
type Event struct {
	Topic       string
	Namespace   string
	ContainerID string
	// ExecID is "" for a task's init process.
	ExecID     string
	Pid        uint32
	ExitStatus uint32
	ExitedAt   time.Time
	Timestamp  time.Time
}

// LaunchOpts says how to launch (or find) the shim that serves a task.
type LaunchOpts struct {
	// ID is the task id; for a pod's sandbox task it is the pod id.
	ID string
	// PodID is the pod the task belongs to. Launching a container task
	// of a pod whose shim runs returns that shim (the shim's own start
	// subcommand answers with the existing address).
	PodID string
	// Binary is the shim executable: a name looked up in PATH or a path.
	Binary string
	// Bundle is the task's bundle directory, holding config.json; it is
	// the shim's working directory. Its last element should be ID:
	// runc-v2's delete subcommand finds the bundle as <parent>/<id>.
	Bundle string
	// Options are the runtime options passed in the bootstrap params
	// (runc options or runhcs options); nil for none.
	Options typeurl.Any
}

// Address is where a shim serves the task API.
type Address struct {
	// Address is a unix socket path (optionally "unix://"-prefixed) or a
	// Windows named pipe path.
	Address string `json:"address"`
	// Version is the task API version: 2 or 3.
	Version int `json:"version"`
	// Protocol is "ttrpc".
	Protocol string `json:"protocol"`
	// ShimID is the id the shim process was started for: the pod id for
	// a pod's shared shim. runhcs honours Shutdown only for this id and
	// names its log pipe after it.
	ShimID string `json:"shim_id,omitempty"`
	// Bundle is the bundle the shim process was started in; runc-v2
	// writes its log to the FIFO there. Recorded so that Connect can
	// resume draining it after a restart of wincri.
	Bundle string `json:"bundle,omitempty"`
}

// CreateOpts are the parameters of a task's creation.
type CreateOpts struct {
	ID     string
	Bundle string
	// Rootfs mounts; empty when config.json names the root itself.
	Rootfs []Mount
	// Stdin, Stdout and Stderr are FIFO paths, named pipe paths or
	// binary:// / file:// URIs; "" for none. runc-v2 opens Stdout and
	// Stderr together: set both or neither (with Terminal, Stderr is "").
	// runhcs dials named pipes as a client: listen before Create.
	Stdin, Stdout, Stderr string
	Terminal              bool
	// Options are the per-task runtime options; nil for none.
	Options typeurl.Any
}

// Mount is a rootfs mount handed to the shim.
type Mount struct {
	Type    string
	Source  string
	Target  string
	Options []string
}

// ExecOpts start an additional process in a task.
type ExecOpts struct {
	ID     string
	ExecID string
	// Spec is the marshalled OCI process spec (see ProcessSpec).
	// Stdio rules are those of CreateOpts.
	Spec                  typeurl.Any
	Stdin, Stdout, Stderr string
	Terminal              bool
}

// Status of a task or exec process.
type Status string

const (
	StatusUnknown Status = "unknown"
	StatusCreated Status = "created"
	StatusRunning Status = "running"
	StatusStopped Status = "stopped"
	StatusPaused  Status = "paused"
)

// State is a task or process state reported by the shim.
type State struct {
	ID         string
	ExecID     string
	Pid        uint32
	Status     Status
	ExitStatus uint32
	ExitedAt   time.Time
}

// ExitStatus is how a process ended.
type ExitStatus struct {
	Pid        uint32
	ExitStatus uint32
	ExitedAt   time.Time
}

// Manager launches, reconnects to and cleans up shims. Errors wrap the
// github.com/containerd/errdefs sentinels.
type Manager interface {
	// Launch starts the shim for opts (or finds the pod's running one)
	// and returns a connected client. The task is not created yet.
	// ErrInvalidArgument for missing options, ErrFailedPrecondition when
	// the binary is missing, ErrNotFound when the bundle is, and
	// ErrUnavailable when the shim's start fails (the error carries the
	// shim's stderr). When Launch fails after the shim started, Cleanup
	// removes what it left.
	Launch(ctx context.Context, opts LaunchOpts) (Shim, error)
	// Connect reconnects to a shim at an address recorded from
	// Shim.Address, as after a restart of wincri. errdefs.ErrNotFound
	// (wrapped) when nothing answers there.
	Connect(ctx context.Context, addr Address) (Shim, error)
	// Cleanup runs the shim binary's delete subcommand for a shim that
	// is gone, releasing what it left behind, and returns the exit the
	// shim reports for the task. ErrNotFound when the bundle is gone.
	Cleanup(ctx context.Context, binary, bundle, id string) (ExitStatus, error)
	// Close stops the events service.
	Close() error
}

// Shim is a connection to one running shim, which may serve several
// tasks (one pod). Errors wrap the errdefs sentinels: ErrNotFound for an
// unknown task or process, ErrUnavailable when the shim is gone.
type Shim interface {
	// Address is where the shim serves, with what Connect needs to
	// reconnect; for a pod's container it is the pod shim's address.
	Address() Address
	// Pid is the shim process id, 0 when unknown.
	Pid() int
	Create(ctx context.Context, opts CreateOpts) (pid uint32, err error)
	Start(ctx context.Context, id, execID string) (pid uint32, err error)
	Kill(ctx context.Context, id, execID string, signal uint32, all bool) error
	Exec(ctx context.Context, opts ExecOpts) error
	// Wait blocks until the process exits or ctx ends.
	Wait(ctx context.Context, id, execID string) (ExitStatus, error)
	Delete(ctx context.Context, id, execID string) (ExitStatus, error)
	State(ctx context.Context, id, execID string) (State, error)
	ResizePty(ctx context.Context, id, execID string, width, height uint32) error
	CloseIO(ctx context.Context, id, execID string) error
	// Pids lists the processes of a task.
	Pids(ctx context.Context, id string) ([]uint32, error)
	// Stats returns the shim's metrics for a task (cgroups v1/v2
	// metrics on Linux, runhcs statistics on Windows).
	Stats(ctx context.Context, id string) (typeurl.Any, error)
	// Update changes a task's resources (a marshalled OCI
	// LinuxResources or WindowsResources) and annotations.
	Update(ctx context.Context, id string, resources typeurl.Any, annotations map[string]string) error
	// Shutdown asks the shim to exit once it serves no task.
	Shutdown(ctx context.Context) error
	// Done is closed when the connection to the shim is lost.
	Done() <-chan struct{}
	// Close closes the connection without stopping the shim.
	Close() error
}
