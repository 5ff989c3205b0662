//go:build !windows

package shim

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"

	taskv2 "github.com/containerd/containerd/api/runtime/task/v2"
	taskv3 "github.com/containerd/containerd/api/runtime/task/v3"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/ttrpc"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// fakeTaskV2 serves containerd.task.v2.Task, as runhcs does, with the v2
// generated types: it proves the v3-typed client is wire compatible.
// Methods the tests do not call stay nil in the embedded interface.
type fakeTaskV2 struct {
	taskv2.TTRPCTaskService

	shimPid uint32
	mu      sync.Mutex
	created []*taskv2.CreateTaskRequest
	killed  []*taskv2.KillRequest
	execs   []*taskv2.ExecProcessRequest
	updates []*taskv2.UpdateTaskRequest
	shut    []string
}

func (f *fakeTaskV2) Connect(context.Context, *taskv2.ConnectRequest) (*taskv2.ConnectResponse, error) {
	return &taskv2.ConnectResponse{ShimPid: f.shimPid, TaskPid: 1}, nil
}

func (f *fakeTaskV2) Create(_ context.Context, r *taskv2.CreateTaskRequest) (*taskv2.CreateTaskResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = append(f.created, r)
	return &taskv2.CreateTaskResponse{Pid: 100}, nil
}

func (f *fakeTaskV2) Start(_ context.Context, r *taskv2.StartRequest) (*taskv2.StartResponse, error) {
	if r.ExecID != "" {
		return &taskv2.StartResponse{Pid: 101}, nil
	}
	return &taskv2.StartResponse{Pid: 100}, nil
}

func (f *fakeTaskV2) State(_ context.Context, r *taskv2.StateRequest) (*taskv2.StateResponse, error) {
	if r.ID != "ctr1" {
		return nil, errgrpc.ToGRPC(fmt.Errorf("task %s: %w", r.ID, errdefs.ErrNotFound))
	}
	return &taskv2.StateResponse{
		ID: r.ID, ExecID: r.ExecID, Pid: 100, Status: tasktypes.Status_STOPPED,
		ExitStatus: 3, ExitedAt: timestamppb.New(exitedAt),
	}, nil
}

func (f *fakeTaskV2) Kill(_ context.Context, r *taskv2.KillRequest) (*emptypb.Empty, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.killed = append(f.killed, r)
	return &emptypb.Empty{}, nil
}

func (f *fakeTaskV2) Exec(_ context.Context, r *taskv2.ExecProcessRequest) (*emptypb.Empty, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.execs = append(f.execs, r)
	return &emptypb.Empty{}, nil
}

func (f *fakeTaskV2) Wait(context.Context, *taskv2.WaitRequest) (*taskv2.WaitResponse, error) {
	return &taskv2.WaitResponse{ExitStatus: 3, ExitedAt: timestamppb.New(exitedAt)}, nil
}

func (f *fakeTaskV2) Delete(context.Context, *taskv2.DeleteRequest) (*taskv2.DeleteResponse, error) {
	return &taskv2.DeleteResponse{Pid: 100, ExitStatus: 3, ExitedAt: timestamppb.New(exitedAt)}, nil
}

func (f *fakeTaskV2) Pids(context.Context, *taskv2.PidsRequest) (*taskv2.PidsResponse, error) {
	return &taskv2.PidsResponse{Processes: []*tasktypes.ProcessInfo{{Pid: 100}, {Pid: 101}}}, nil
}

func (f *fakeTaskV2) Stats(context.Context, *taskv2.StatsRequest) (*taskv2.StatsResponse, error) {
	return &taskv2.StatsResponse{}, nil
}

func (f *fakeTaskV2) Update(_ context.Context, r *taskv2.UpdateTaskRequest) (*emptypb.Empty, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, r)
	return &emptypb.Empty{}, nil
}

func (f *fakeTaskV2) ResizePty(context.Context, *taskv2.ResizePtyRequest) (*emptypb.Empty, error) {
	return nil, errgrpc.ToGRPC(fmt.Errorf("no terminal: %w", errdefs.ErrNotImplemented))
}

func (f *fakeTaskV2) Shutdown(_ context.Context, r *taskv2.ShutdownRequest) (*emptypb.Empty, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shut = append(f.shut, r.ID)
	return &emptypb.Empty{}, nil
}

// fakeTaskV3 serves containerd.task.v3.Task with just enough methods to
// tell that calls reach the v3 service.
type fakeTaskV3 struct {
	taskv3.TTRPCTaskService
}

func (fakeTaskV3) Connect(context.Context, *taskv3.ConnectRequest) (*taskv3.ConnectResponse, error) {
	return &taskv3.ConnectResponse{ShimPid: 33}, nil
}

func (fakeTaskV3) State(_ context.Context, r *taskv3.StateRequest) (*taskv3.StateResponse, error) {
	return &taskv3.StateResponse{ID: r.ID, Status: tasktypes.Status_RUNNING, Pid: 7}, nil
}

// serveFake serves a task service on a unix socket and returns its
// address; stop closes the server and drops its connections.
func serveFake(t testing.TB, register func(*ttrpc.Server)) (addr string, stop func()) {
	t.Helper()
	sock := filepath.Join(shortDir(t), "shim.sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv, err := ttrpc.NewServer()
	require.NoError(t, err)
	register(srv)
	go func() { _ = srv.Serve(context.Background(), l) }()
	var once sync.Once
	stop = func() { once.Do(func() { _ = srv.Close() }) }
	t.Cleanup(stop)
	return "unix://" + sock, stop
}
