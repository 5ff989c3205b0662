package logger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testlog"
	"github.com/wincri/wincri/internal/testutil"
	"github.com/wincri/wincri/pkg/crilog"
	"github.com/wincri/wincri/pkg/crilog/logger"
	"github.com/wincri/wincri/pkg/shim"
)

// writeBundle writes a bundle whose container runs script in busybox sh.
func writeBundle(t *testing.T, dir, busybox, id, script string) string {
	t.Helper()
	bundle := filepath.Join(dir, id)
	bin := filepath.Join(bundle, "rootfs", "bin")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	data, err := os.ReadFile(busybox)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(bin, "busybox"), data, 0o755))
	require.NoError(t, os.Link(filepath.Join(bin, "busybox"), filepath.Join(bin, "sh")))
	spec := specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: "rootfs"},
		Process: &specs.Process{Args: []string{"/bin/sh", "-c", script}, Cwd: "/", Env: []string{"PATH=/bin"}},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755", "size=1024k"}},
		},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
			{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
			{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace},
		}},
		Annotations: map[string]string{
			shim.AnnotationContainerType: shim.ContainerTypeSandbox,
			shim.AnnotationSandboxID:     id,
		},
	}
	b, err := json.Marshal(spec)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644))
	return bundle
}

// TestLoggerWithRuncShim gives the real containerd-shim-runc-v2 a
// binary-v2 URI: the shim starts the logger, the container writes both
// streams, the log is rotated and reopened mid-stream, and after the
// container is killed and deleted every line is in the logs exactly
// once, with the right stream tag. In between, the shim's client (what
// wincri holds) is closed and a new one connects, as across a restart
// of wincri; the log flows on meanwhile.
func TestLoggerWithRuncShim(t *testing.T) {
	shimBin, busybox := testutil.RuncShimEnv(t)
	bin := buildLogger(t)
	ctx := testlog.New(t).Context()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	root := shortDir(t)
	const ns, id = "wincri-test-crilog", "logctr"
	mopts := shim.ManagerOpts{StateDir: filepath.Join(root, "shim"), Namespace: ns}
	d, err := shim.NewManager(mopts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Join("/run/containerd/runc", ns)) })

	// Counted lines on both streams, and a long one now and then.
	script := `i=0; while true; do echo "out-$i"; echo "err-$i" >&2; ` +
		`if [ $((i % 50)) = 0 ]; then printf 'long-%0300d\n' $i; fi; i=$((i+1)); usleep 1000; done`
	bundle := writeBundle(t, root, busybox, id, script)
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer ccancel()
		cd, err := shim.NewManager(mopts)
		if err == nil {
			_, _ = cd.Cleanup(cctx, shimBin, bundle, id)
			_ = cd.Close()
		}
	})

	o := logger.Options{
		ID:           id,
		LogDirectory: filepath.Join(root, "pods", "ns_pod_uid"),
		LogPath:      "app/0.log",
		StateDir:     filepath.Join(root, "log"),
		MaxLineSize:  128,
	}
	uri, err := logger.BinaryURI(bin, o)
	require.NoError(t, err)

	s, err := d.Launch(ctx, shim.LaunchOpts{ID: id, PodID: id, Binary: shimBin, Bundle: bundle})
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Create(ctx, shim.CreateOpts{ID: id, Bundle: bundle, Stdout: uri, Stderr: uri})
	require.NoError(t, err)
	_, err = s.Start(ctx, id, "")
	require.NoError(t, err)

	logPath := filepath.Join(o.LogDirectory, o.LogPath)
	countLines := func(paths ...string) int {
		n := 0
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err == nil {
				n += strings.Count(string(b), "\n")
			}
		}
		return n
	}
	require.Eventually(t, func() bool { return countLines(logPath) > 200 }, 30*time.Second, 20*time.Millisecond)
	rotated := logPath + ".1"
	require.NoError(t, os.Rename(logPath, rotated))
	require.NoError(t, logger.Reopen(ctx, o.StateDir, id))
	require.Eventually(t, func() bool { return countLines(logPath) > 200 }, 30*time.Second, 20*time.Millisecond)

	// wincri goes away and comes back: the log keeps flowing meanwhile,
	// and the new wincri reopens with nothing but the state directory
	// and the container id.
	addr := s.Address()
	require.NoError(t, s.Close())
	require.NoError(t, d.Close())
	before := countLines(logPath)
	require.Eventually(t, func() bool { return countLines(logPath) > before+100 }, 30*time.Second, 20*time.Millisecond,
		"the log grows while no wincri runs")
	d, err = shim.NewManager(mopts)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, d.Close()) })
	s, err = d.Connect(ctx, addr)
	require.NoError(t, err)
	defer s.Close()
	rotated2 := logPath + ".2"
	require.NoError(t, os.Rename(logPath, rotated2))
	require.NoError(t, logger.Reopen(ctx, o.StateDir, id))
	require.Eventually(t, func() bool { return countLines(logPath) > 100 }, 30*time.Second, 20*time.Millisecond)

	// Kill the container only; deleting it makes the shim close the
	// pipes and stop the logger.
	require.NoError(t, s.Kill(ctx, id, "", uint32(syscall.SIGKILL), false))
	_, err = s.Wait(ctx, id, "")
	require.NoError(t, err)
	_, err = s.Delete(ctx, id, "")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return errdefs.IsFailedPrecondition(logger.Reopen(ctx, o.StateDir, id))
	}, 15*time.Second, 50*time.Millisecond, "the logger exits once the task is deleted")
	require.NoError(t, s.Shutdown(ctx))

	msgs := readMessages(t, rotated, rotated2, logPath)
	next := map[crilog.Stream]int{}
	long := 0
	for _, m := range msgs {
		if strings.HasPrefix(m.Text, "long-") {
			n, err := strconv.Atoi(strings.TrimPrefix(m.Text, "long-"))
			require.NoError(t, err, m.Text)
			require.Equal(t, long, n)
			require.Len(t, m.Text, len("long-")+300)
			long += 50
			continue
		}
		want := fmt.Sprintf("%s-%d", map[crilog.Stream]string{crilog.Stdout: "out", crilog.Stderr: "err"}[m.Stream], next[m.Stream])
		require.Equal(t, want, m.Text, "lines of %s in order, none lost or repeated", m.Stream)
		require.True(t, m.Complete)
		next[m.Stream]++
	}
	assert.Greater(t, next[crilog.Stdout], 150)
	assert.InDelta(t, next[crilog.Stdout], next[crilog.Stderr], 1)
	t.Logf("%d stdout and %d stderr lines across two rotations and a restart of the shim client", next[crilog.Stdout], next[crilog.Stderr])
}
