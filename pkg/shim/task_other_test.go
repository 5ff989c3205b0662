//go:build !windows

package shim

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	taskv2 "github.com/containerd/containerd/api/runtime/task/v2"
	taskv3 "github.com/containerd/containerd/api/runtime/task/v3"
	"github.com/containerd/errdefs"
	"github.com/containerd/ttrpc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testlog"
)

func newTestDriver(t *testing.T, opts ManagerOpts) *Driver {
	t.Helper()
	if opts.StateDir == "" {
		opts.StateDir = filepath.Join(shortDir(t), "state")
	}
	d, err := NewManager(opts)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, d.Close()) })
	return d
}

func TestTaskAPIv2(t *testing.T) {
	ctx := testlog.New(t).Context()
	fake := &fakeTaskV2{shimPid: 4242}
	addr, _ := serveFake(t, func(s *ttrpc.Server) { taskv2.RegisterTTRPCTaskService(s, fake) })
	d := newTestDriver(t, ManagerOpts{})

	s, err := d.Connect(ctx, Address{Address: addr, Version: 2, ShimID: "pod1"})
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, 4242, s.Pid())
	assert.Equal(t, Address{Address: addr, Version: 2, Protocol: "ttrpc", ShimID: "pod1"}, s.Address())

	pid, err := s.Create(ctx, CreateOpts{
		ID: "ctr1", Bundle: "/b/ctr1", Stdout: "/io/out", Stderr: "/io/err",
		Rootfs: []Mount{{Type: "windows-layer", Source: `C:\scratch`, Options: []string{"rw"}}},
	})
	require.NoError(t, err)
	assert.EqualValues(t, 100, pid)
	require.Len(t, fake.created, 1)
	assert.Equal(t, "/b/ctr1", fake.created[0].Bundle)
	assert.Equal(t, "/io/out", fake.created[0].Stdout)
	require.Len(t, fake.created[0].Rootfs, 1)
	assert.Equal(t, "windows-layer", fake.created[0].Rootfs[0].Type)
	assert.Equal(t, []string{"rw"}, fake.created[0].Rootfs[0].Options)

	pid, err = s.Start(ctx, "ctr1", "exec1")
	require.NoError(t, err)
	assert.EqualValues(t, 101, pid)

	st, err := s.State(ctx, "ctr1", "")
	require.NoError(t, err)
	assert.Equal(t, State{ID: "ctr1", Pid: 100, Status: StatusStopped, ExitStatus: 3, ExitedAt: exitedAt}, st)
	_, err = s.State(ctx, "nope", "")
	assert.ErrorIs(t, err, errdefs.ErrNotFound)

	require.NoError(t, s.Kill(ctx, "ctr1", "", 9, true))
	require.Len(t, fake.killed, 1)
	assert.EqualValues(t, 9, fake.killed[0].Signal)
	assert.True(t, fake.killed[0].All)

	spec, err := ProcessSpec(&specs.Process{Args: []string{"cmd.exe"}})
	require.NoError(t, err)
	require.NoError(t, s.Exec(ctx, ExecOpts{ID: "ctr1", ExecID: "exec1", Spec: spec, Terminal: true}))
	require.Len(t, fake.execs, 1)
	var sent specs.Process
	require.NoError(t, json.Unmarshal(fake.execs[0].Spec.Value, &sent), "both shims read the spec as JSON")
	assert.Equal(t, []string{"cmd.exe"}, sent.Args)
	assert.Equal(t, "types.containerd.io/opencontainers/runtime-spec/1/Process", fake.execs[0].Spec.TypeUrl)
	assert.ErrorIs(t, s.Exec(ctx, ExecOpts{ID: "ctr1", ExecID: "exec2"}), errdefs.ErrInvalidArgument)

	exit, err := s.Wait(ctx, "ctr1", "")
	require.NoError(t, err)
	assert.Equal(t, ExitStatus{ExitStatus: 3, ExitedAt: exitedAt}, exit)
	exit, err = s.Delete(ctx, "ctr1", "")
	require.NoError(t, err)
	assert.Equal(t, ExitStatus{Pid: 100, ExitStatus: 3, ExitedAt: exitedAt}, exit)

	pids, err := s.Pids(ctx, "ctr1")
	require.NoError(t, err)
	assert.Equal(t, []uint32{100, 101}, pids)
	stats, err := s.Stats(ctx, "ctr1")
	require.NoError(t, err)
	assert.Nil(t, stats)

	res, err := WindowsResources(&specs.WindowsResources{Memory: &specs.WindowsMemoryResources{}})
	require.NoError(t, err)
	require.NoError(t, s.Update(ctx, "ctr1", res, map[string]string{"a": "b"}))
	require.Len(t, fake.updates, 1)
	assert.Equal(t, "types.containerd.io/opencontainers/runtime-spec/1/WindowsResources", fake.updates[0].Resources.TypeUrl)

	err = s.ResizePty(ctx, "ctr1", "", 80, 24)
	assert.ErrorIs(t, err, errdefs.ErrNotImplemented)

	require.NoError(t, s.Shutdown(ctx))
	assert.Equal(t, []string{"pod1"}, fake.shut, "runhcs shuts down only for the id it was started for")
}

func TestTaskAPIv3UsesV3Service(t *testing.T) {
	ctx := testlog.New(t).Context()
	addr, _ := serveFake(t, func(s *ttrpc.Server) { taskv3.RegisterTTRPCTaskService(s, fakeTaskV3{}) })
	d := newTestDriver(t, ManagerOpts{})
	s, err := d.Connect(ctx, Address{Address: addr, Version: 3})
	require.NoError(t, err)
	defer s.Close()
	st, err := s.State(ctx, "pod1", "")
	require.NoError(t, err)
	assert.Equal(t, StatusRunning, st.Status)

}

func TestConnectWrongTaskAPIVersion(t *testing.T) {
	ctx := testlog.New(t).Context()
	addr, _ := serveFake(t, func(s *ttrpc.Server) { taskv3.RegisterTTRPCTaskService(s, fakeTaskV3{}) })
	d := newTestDriver(t, ManagerOpts{})
	_, err := d.Connect(ctx, Address{Address: addr, Version: 2})
	assert.ErrorIs(t, err, errdefs.ErrNotImplemented, "a v3 shim does not serve the v2 service")
}

func TestConnectionSharingAndLoss(t *testing.T) {
	ctx := testlog.New(t).Context()
	bundle := shortDir(t)
	require.NoError(t, os.WriteFile(filepath.Join(bundle, "shim.pid"), []byte("77\n"), 0o644))
	fake := &fakeTaskV2{} // answers Connect with no pid: shim.pid is used
	addr, stop := serveFake(t, func(s *ttrpc.Server) { taskv2.RegisterTTRPCTaskService(s, fake) })
	d := newTestDriver(t, ManagerOpts{})
	rec := Address{Address: addr, Version: 2, ShimID: "pod1", Bundle: bundle}

	a, err := d.Connect(ctx, rec)
	require.NoError(t, err)
	b, err := d.Connect(ctx, rec)
	require.NoError(t, err)
	assert.Equal(t, 77, a.Pid())
	assert.Equal(t, a.Done(), b.Done(), "one connection per shim")

	// Closing one handle leaves the other working.
	require.NoError(t, a.Close())
	require.NoError(t, a.Close(), "Close is idempotent")
	_, err = a.State(ctx, "ctr1", "")
	assert.ErrorIs(t, err, errdefs.ErrUnavailable, "a closed handle is unusable")
	_, err = b.State(ctx, "ctr1", "")
	require.NoError(t, err)

	// The shim goes away: Done closes, calls fail Unavailable, and the
	// address no longer answers.
	stop()
	select {
	case <-b.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done did not close when the shim went away")
	}
	_, err = b.State(ctx, "ctr1", "")
	assert.ErrorIs(t, err, errdefs.ErrUnavailable)
	_, err = d.Connect(ctx, rec)
	assert.ErrorIs(t, err, errdefs.ErrNotFound)
	require.NoError(t, b.Close())
}

func TestConnectErrors(t *testing.T) {
	ctx := testlog.New(t).Context()
	d := newTestDriver(t, ManagerOpts{})
	tests := []struct {
		name    string
		addr    Address
		wantErr error
	}{
		{name: "nothing listens", addr: Address{Address: "unix://" + filepath.Join(shortDir(t), "none.sock"), Version: 3}, wantErr: errdefs.ErrNotFound},
		{name: "no address", addr: Address{Version: 3}, wantErr: errdefs.ErrInvalidArgument},
		{name: "bad version", addr: Address{Address: "/x", Version: 1}, wantErr: errdefs.ErrNotImplemented},
		{name: "grpc", addr: Address{Address: "/x", Version: 3, Protocol: "grpc"}, wantErr: errdefs.ErrNotImplemented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.Connect(ctx, tt.addr)
			assert.ErrorIs(t, err, tt.wantErr)
		})
	}
}

func TestNewManagerValidation(t *testing.T) {
	long := filepath.Join(shortDir(t), "a-state-directory-whose-path-is-far-too-long-for-socket-paths")
	tests := []struct {
		name string
		opts ManagerOpts
	}{
		{name: "no state dir", opts: ManagerOpts{}},
		{name: "state dir too long", opts: ManagerOpts{StateDir: long}},
		{name: "bad namespace", opts: ManagerOpts{StateDir: shortDir(t), Namespace: "no/slashes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewManager(tt.opts)
			assert.ErrorIs(t, err, errdefs.ErrInvalidArgument)
		})
	}
}

func TestNewManagerDefaults(t *testing.T) {
	d := newTestDriver(t, ManagerOpts{})
	assert.Equal(t, DefaultNamespace, d.opts.Namespace)
	assert.Equal(t, d.EventsAddress(), d.opts.Address, "the -address defaults to a path derived from the state dir")
	exe, err := os.Executable()
	require.NoError(t, err)
	assert.Equal(t, exe, d.opts.PublishBinary)
	assert.DirExists(t, d.socketDir)

	// After Close, nothing launches.
	require.NoError(t, d.Close())
	ctx := testlog.New(t).Context()
	_, err = d.Launch(ctx, LaunchOpts{ID: "a", Binary: "sh", Bundle: "/"})
	assert.ErrorIs(t, err, errdefs.ErrUnavailable)
}

// An expired context fails the call instead of reaching the shim.
func TestCallHonoursDeadline(t *testing.T) {
	ctx := testlog.New(t).Context()
	addr, _ := serveFake(t, func(s *ttrpc.Server) { taskv2.RegisterTTRPCTaskService(s, &fakeTaskV2{shimPid: 1}) })
	d := newTestDriver(t, ManagerOpts{})
	s, err := d.Connect(ctx, Address{Address: addr, Version: 2})
	require.NoError(t, err)
	defer s.Close()
	expired, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.State(expired, "ctr1", "")
	assert.ErrorIs(t, err, context.Canceled)
}
