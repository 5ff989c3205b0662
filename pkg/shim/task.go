package shim

import (
	"context"
	"fmt"
	"time"

	task "github.com/containerd/containerd/api/runtime/task/v3"
	"github.com/containerd/containerd/api/types"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// taskService names the ttrpc service of a task API version. The v2 and
// v3 protos declare the same messages field for field; only the service
// name differs, so one client built on the v3 messages speaks both.
func taskService(version int) string {
	if version == taskAPIv2 {
		return "containerd.task.v2.Task"
	}
	return "containerd.task.v3.Task"
}

func (h *handle) Create(ctx context.Context, opts CreateOpts) (uint32, error) {
	req := &task.CreateTaskRequest{
		ID:       opts.ID,
		Bundle:   opts.Bundle,
		Terminal: opts.Terminal,
		Stdin:    opts.Stdin,
		Stdout:   opts.Stdout,
		Stderr:   opts.Stderr,
		Options:  typeurl.MarshalProto(opts.Options),
	}
	for _, m := range opts.Rootfs {
		req.Rootfs = append(req.Rootfs, &types.Mount{Type: m.Type, Source: m.Source, Target: m.Target, Options: m.Options})
	}
	var resp task.CreateTaskResponse
	if err := h.call(ctx, "Create", req, &resp); err != nil {
		return 0, fmt.Errorf("create task %s: %w", opts.ID, err)
	}
	return resp.GetPid(), nil
}

func (h *handle) Start(ctx context.Context, id, execID string) (uint32, error) {
	var resp task.StartResponse
	if err := h.call(ctx, "Start", &task.StartRequest{ID: id, ExecID: execID}, &resp); err != nil {
		return 0, fmt.Errorf("start %s: %w", procName(id, execID), err)
	}
	return resp.GetPid(), nil
}

func (h *handle) Kill(ctx context.Context, id, execID string, signal uint32, all bool) error {
	req := &task.KillRequest{ID: id, ExecID: execID, Signal: signal, All: all}
	if err := h.call(ctx, "Kill", req, &emptypb.Empty{}); err != nil {
		return fmt.Errorf("signal %d to %s: %w", signal, procName(id, execID), err)
	}
	return nil
}

func (h *handle) Exec(ctx context.Context, opts ExecOpts) error {
	if opts.Spec == nil {
		return fmt.Errorf("exec %s: no process spec: %w", procName(opts.ID, opts.ExecID), errdefs.ErrInvalidArgument)
	}
	req := &task.ExecProcessRequest{
		ID:       opts.ID,
		ExecID:   opts.ExecID,
		Terminal: opts.Terminal,
		Stdin:    opts.Stdin,
		Stdout:   opts.Stdout,
		Stderr:   opts.Stderr,
		Spec:     typeurl.MarshalProto(opts.Spec),
	}
	if err := h.call(ctx, "Exec", req, &emptypb.Empty{}); err != nil {
		return fmt.Errorf("exec %s: %w", procName(opts.ID, opts.ExecID), err)
	}
	return nil
}

func (h *handle) Wait(ctx context.Context, id, execID string) (ExitStatus, error) {
	var resp task.WaitResponse
	if err := h.call(ctx, "Wait", &task.WaitRequest{ID: id, ExecID: execID}, &resp); err != nil {
		return ExitStatus{}, fmt.Errorf("wait for %s: %w", procName(id, execID), err)
	}
	// The wait response carries no pid; the exit is what matters.
	return ExitStatus{ExitStatus: resp.GetExitStatus(), ExitedAt: toTime(resp.GetExitedAt())}, nil
}

func (h *handle) Delete(ctx context.Context, id, execID string) (ExitStatus, error) {
	var resp task.DeleteResponse
	if err := h.call(ctx, "Delete", &task.DeleteRequest{ID: id, ExecID: execID}, &resp); err != nil {
		return ExitStatus{}, fmt.Errorf("delete %s: %w", procName(id, execID), err)
	}
	return ExitStatus{Pid: resp.GetPid(), ExitStatus: resp.GetExitStatus(), ExitedAt: toTime(resp.GetExitedAt())}, nil
}

func (h *handle) State(ctx context.Context, id, execID string) (State, error) {
	var resp task.StateResponse
	if err := h.call(ctx, "State", &task.StateRequest{ID: id, ExecID: execID}, &resp); err != nil {
		return State{}, fmt.Errorf("state of %s: %w", procName(id, execID), err)
	}
	return State{
		ID:         resp.GetID(),
		ExecID:     resp.GetExecID(),
		Pid:        resp.GetPid(),
		Status:     fromTaskStatus(resp.GetStatus()),
		ExitStatus: resp.GetExitStatus(),
		ExitedAt:   toTime(resp.GetExitedAt()),
	}, nil
}

func (h *handle) ResizePty(ctx context.Context, id, execID string, width, height uint32) error {
	req := &task.ResizePtyRequest{ID: id, ExecID: execID, Width: width, Height: height}
	if err := h.call(ctx, "ResizePty", req, &emptypb.Empty{}); err != nil {
		return fmt.Errorf("resize pty of %s: %w", procName(id, execID), err)
	}
	return nil
}

func (h *handle) CloseIO(ctx context.Context, id, execID string) error {
	req := &task.CloseIORequest{ID: id, ExecID: execID, Stdin: true}
	if err := h.call(ctx, "CloseIO", req, &emptypb.Empty{}); err != nil {
		return fmt.Errorf("close stdin of %s: %w", procName(id, execID), err)
	}
	return nil
}

func (h *handle) Pids(ctx context.Context, id string) ([]uint32, error) {
	var resp task.PidsResponse
	if err := h.call(ctx, "Pids", &task.PidsRequest{ID: id}, &resp); err != nil {
		return nil, fmt.Errorf("list processes of %s: %w", id, err)
	}
	pids := make([]uint32, 0, len(resp.GetProcesses()))
	for _, p := range resp.GetProcesses() {
		pids = append(pids, p.GetPid())
	}
	return pids, nil
}

func (h *handle) Stats(ctx context.Context, id string) (typeurl.Any, error) {
	var resp task.StatsResponse
	if err := h.call(ctx, "Stats", &task.StatsRequest{ID: id}, &resp); err != nil {
		return nil, fmt.Errorf("stats of %s: %w", id, err)
	}
	if resp.GetStats() == nil {
		// Return an untyped nil, not a nil *anypb.Any in an interface.
		return nil, nil
	}
	return resp.GetStats(), nil
}

func (h *handle) Update(ctx context.Context, id string, resources typeurl.Any, annotations map[string]string) error {
	req := &task.UpdateTaskRequest{ID: id, Resources: typeurl.MarshalProto(resources), Annotations: annotations}
	if err := h.call(ctx, "Update", req, &emptypb.Empty{}); err != nil {
		return fmt.Errorf("update %s: %w", id, err)
	}
	return nil
}

func (h *handle) Shutdown(ctx context.Context) error {
	// runhcs shuts down only when asked for the task it was started for;
	// runc-v2 ignores the id and exits once it serves no task.
	req := &task.ShutdownRequest{ID: h.conn.addr.ShimID}
	err := h.call(ctx, "Shutdown", req, &emptypb.Empty{})
	if err != nil && !errdefs.IsUnavailable(err) {
		return fmt.Errorf("shut down shim %s: %w", h.conn.addr.ShimID, err)
	}
	// A shim that exits while answering drops the connection: that is
	// the success this call asked for.
	return nil
}

// connectInfo asks the shim for its own pid.
func (c *conn) connectInfo(ctx context.Context) (shimPid uint32, err error) {
	var resp task.ConnectResponse
	if err := c.call(ctx, "Connect", &task.ConnectRequest{ID: c.addr.ShimID}, &resp); err != nil {
		return 0, err
	}
	return resp.GetShimPid(), nil
}

func procName(id, execID string) string {
	if execID == "" {
		return "task " + id
	}
	return "process " + execID + " of task " + id
}

func fromTaskStatus(s tasktypes.Status) Status {
	switch s {
	case tasktypes.Status_CREATED:
		return StatusCreated
	case tasktypes.Status_RUNNING:
		return StatusRunning
	case tasktypes.Status_STOPPED:
		return StatusStopped
	case tasktypes.Status_PAUSED, tasktypes.Status_PAUSING:
		return StatusPaused
	}
	return StatusUnknown
}

func toTime(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}
