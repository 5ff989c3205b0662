//go:build !windows

package shim

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bootstrap "github.com/containerd/containerd/api/runtime/bootstrap/v1"
	taskv2 "github.com/containerd/containerd/api/runtime/task/v2"
	"github.com/containerd/errdefs"
	"github.com/containerd/ttrpc"
	"github.com/go-logr/logr/funcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wincri/wincri/internal/testlog"
)

// fakeShimScript records how it was invoked next to itself and answers
// start with the contents of start-reply, delete with delete-reply.
// start also writes a line to the shim log FIFO, as runc-v2 does.
const fakeShimScript = `#!/bin/sh
dir=$(dirname "$0")
action=$(eval echo \${$#})
printf '%s\n' "$@" > "$dir/$action.args"
pwd > "$dir/$action.cwd"
env > "$dir/$action.env"
cat > "$dir/$action.stdin"
if [ -f "$dir/fail" ]; then echo "bundle is broken" >&2; exit 1; fi
if [ "$action" = start ]; then
	echo 'time="now" level=error msg="fake shim says hello"' > log
fi
cat "$dir/$action-reply"
`

type fakeShim struct {
	dir, bin string
}

func newFakeShim(t *testing.T) fakeShim {
	t.Helper()
	dir := shortDir(t)
	bin := filepath.Join(dir, "containerd-shim-fake-v2")
	require.NoError(t, os.WriteFile(bin, []byte(fakeShimScript), 0o755))
	return fakeShim{dir: dir, bin: bin}
}

func (f fakeShim) reply(t *testing.T, action string, b []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, action+"-reply"), b, 0o644))
}

func (f fakeShim) recorded(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, name))
	require.NoError(t, err)
	return string(b)
}

// logSink collects what the Driver logs.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *logSink) add(prefix, args string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, prefix+" "+args)
}

func (s *logSink) contains(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func TestLaunchInvocation(t *testing.T) {
	ctx := testlog.New(t).Context()
	fs := newFakeShim(t)
	fake := &fakeTaskV2{shimPid: 4242}
	addr, _ := serveFake(t, func(s *ttrpc.Server) { taskv2.RegisterTTRPCTaskService(s, fake) })
	// A bare address: how runhcs answers (task API v2).
	fs.reply(t, "start", []byte(addr))

	sink := &logSink{}
	d := newTestDriver(t, ManagerOpts{
		Namespace:     "wincri-test",
		Address:       "/run/wincri/wincri.sock",
		PublishBinary: "/usr/bin/wincri",
		Logger:        funcr.New(sink.add, funcr.Options{Verbosity: 10}),
	})
	bundles := shortDir(t)
	podBundle := filepath.Join(bundles, "pod1")
	require.NoError(t, os.Mkdir(podBundle, 0o755))

	s, err := d.Launch(ctx, LaunchOpts{ID: "pod1", PodID: "pod1", Binary: fs.bin, Bundle: podBundle})
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, Address{Address: addr, Version: 2, Protocol: "ttrpc", ShimID: "pod1", Bundle: podBundle}, s.Address())
	assert.Equal(t, 4242, s.Pid())

	assert.Equal(t, "-namespace\nwincri-test\n-address\n/run/wincri/wincri.sock\n-publish-binary\n/usr/bin/wincri\n-id\npod1\nstart\n",
		fs.recorded(t, "start.args"))
	assert.Equal(t, podBundle+"\n", fs.recorded(t, "start.cwd"))
	env := fs.recorded(t, "start.env")
	assert.Contains(t, env, "TTRPC_ADDRESS="+d.EventsAddress()+"\n")
	assert.Contains(t, env, "GRPC_ADDRESS=/run/wincri/wincri.sock\n")
	assert.Contains(t, env, "NAMESPACE=wincri-test\n")
	var params bootstrap.BootstrapParams
	require.NoError(t, proto.Unmarshal([]byte(fs.recorded(t, "start.stdin")), &params))
	assert.Equal(t, "pod1", params.GetInstanceID())
	assert.Equal(t, "wincri-test", params.GetNamespace())
	assert.Equal(t, filepath.Join(d.opts.StateDir, "s"), params.GetSocketDir())
	assert.Equal(t, d.EventsAddress(), params.GetContainerdTtrpcAddress())

	// The shim's log line reaches the logger.
	require.Eventually(t, func() bool { return sink.contains("fake shim says hello") }, 10*time.Second, 10*time.Millisecond)

	// A container of the pod gets the pod's shim, on the same connection.
	ctrBundle := filepath.Join(bundles, "ctr1")
	require.NoError(t, os.Mkdir(ctrBundle, 0o755))
	c, err := d.Launch(ctx, LaunchOpts{ID: "ctr1", PodID: "pod1", Binary: fs.bin, Bundle: ctrBundle})
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, s.Address(), c.Address(), "the pod shim's address, as recorded at its launch")
	assert.Equal(t, s.Done(), c.Done())
	assert.Equal(t, "-namespace\nwincri-test\n-address\n/run/wincri/wincri.sock\n-publish-binary\n/usr/bin/wincri\n-id\nctr1\nstart\n",
		fs.recorded(t, "start.args"))
}

func TestLaunchFailures(t *testing.T) {
	ctx := testlog.New(t).Context()
	fs := newFakeShim(t)
	d := newTestDriver(t, ManagerOpts{})
	bundle := shortDir(t)

	_, err := d.Launch(ctx, LaunchOpts{ID: "pod1"})
	assert.ErrorIs(t, err, errdefs.ErrInvalidArgument)
	_, err = d.Launch(ctx, LaunchOpts{ID: "pod1", Binary: "containerd-shim-none-v9", Bundle: bundle})
	assert.ErrorIs(t, err, errdefs.ErrFailedPrecondition)
	_, err = d.Launch(ctx, LaunchOpts{ID: "pod1", Binary: fs.bin, Bundle: filepath.Join(bundle, "missing")})
	assert.ErrorIs(t, err, errdefs.ErrNotFound)

	fs.reply(t, "start", []byte("panic: oops\ngoroutine 1 [running]"))
	_, err = d.Launch(ctx, LaunchOpts{ID: "pod1", Binary: fs.bin, Bundle: bundle})
	assert.ErrorIs(t, err, errdefs.ErrInvalidArgument)

	require.NoError(t, os.WriteFile(filepath.Join(fs.dir, "fail"), nil, 0o644))
	_, err = d.Launch(ctx, LaunchOpts{ID: "pod1", Binary: fs.bin, Bundle: bundle})
	assert.ErrorIs(t, err, errdefs.ErrUnavailable)
	assert.Contains(t, err.Error(), "bundle is broken", "the shim's stderr explains the failure")
}

func TestCleanupInvocation(t *testing.T) {
	ctx := testlog.New(t).Context()
	fs := newFakeShim(t)
	d := newTestDriver(t, ManagerOpts{Namespace: "wincri-test", Address: "/run/wincri/wincri.sock", PublishBinary: "/usr/bin/wincri"})
	bundle := filepath.Join(shortDir(t), "pod1")
	require.NoError(t, os.Mkdir(bundle, 0o755))

	reply, err := proto.Marshal(&taskv2.DeleteResponse{Pid: 9, ExitStatus: 137, ExitedAt: timestamppb.New(exitedAt)})
	require.NoError(t, err)
	fs.reply(t, "delete", reply)
	exit, err := d.Cleanup(ctx, fs.bin, bundle, "pod1")
	require.NoError(t, err)
	assert.Equal(t, ExitStatus{Pid: 9, ExitStatus: 137, ExitedAt: exitedAt}, exit)
	assert.Equal(t, "-namespace\nwincri-test\n-address\n/run/wincri/wincri.sock\n-publish-binary\n/usr/bin/wincri\n-id\npod1\n-bundle\n"+bundle+"\ndelete\n",
		fs.recorded(t, "delete.args"))
	assert.Equal(t, bundle+"\n", fs.recorded(t, "delete.cwd"), "runc-v2 finds the bundle from its working directory")

	fs.reply(t, "delete", []byte{0xff})
	_, err = d.Cleanup(ctx, fs.bin, bundle, "pod1")
	assert.ErrorIs(t, err, errdefs.ErrInvalidArgument)
	_, err = d.Cleanup(ctx, fs.bin, "", "pod1")
	assert.ErrorIs(t, err, errdefs.ErrInvalidArgument)
	_, err = d.Cleanup(ctx, fs.bin, filepath.Join(bundle, "gone"), "gone")
	assert.ErrorIs(t, err, errdefs.ErrNotFound, "a bundle that is gone leaves nothing to clean up")
}
