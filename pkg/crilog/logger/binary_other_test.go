//go:build !windows

package logger_test

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testutil"
	"github.com/wincri/wincri/pkg/crilog"
	"github.com/wincri/wincri/pkg/crilog/logger"
)

// built is cmd/wincri-logger built once for all tests of the binary.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildLogger builds cmd/wincri-logger for the tests, once.
func buildLogger(t testing.TB) string {
	t.Helper()
	goBin := testutil.RequireBinary(t, "go")
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "wincri-logger-bin")
		if built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "wincri-logger")
		out, err := exec.Command(goBin, "build", "-o", built.path, "github.com/wincri/wincri/cmd/wincri-logger").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	require.NoError(t, built.err)
	return built.path
}

// shortDir is a temporary directory short enough for unix socket paths.
func shortDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wl")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// launched is a logger started the way containerd-shim-runc-v2 starts a
// binary logger, with the write ends of the container's output.
type launched struct {
	cmd            *exec.Cmd
	stdout, stderr *os.File
	// readyBytes is what arrived on the readiness pipe before it closed.
	readyBytes int
}

// launchLikeRuncV2 follows containerd v2.4.2's NewBinaryIO: arguments
// from the URI query in map order, CONTAINER_ID and CONTAINER_NAMESPACE,
// fds 3 and 4 the read ends of stdout and stderr, fd 5 the write end of
// the readiness pipe; it waits for one byte or EOF there and then closes
// its copies of the read ends.
func launchLikeRuncV2(t testing.TB, uri, id string) *launched {
	t.Helper()
	u, err := url.Parse(uri)
	require.NoError(t, err)
	require.Equal(t, "binary-v2", u.Scheme)
	var args []string
	for k, vs := range u.Query() {
		args = append(args, k)
		if len(vs) > 0 {
			args = append(args, vs[0])
		}
	}
	cmd := exec.Command(u.Path, args...)
	cmd.Env = []string{"CONTAINER_ID=" + id, "CONTAINER_NAMESPACE=k8s.io"}
	var stderrBuf strings.Builder
	cmd.Stderr = &stderrBuf

	outR, outW, err := os.Pipe()
	require.NoError(t, err)
	errR, errW, err := os.Pipe()
	require.NoError(t, err)
	readyR, readyW, err := os.Pipe()
	require.NoError(t, err)
	cmd.ExtraFiles = []*os.File{outR, errR, readyW}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("logger stderr: %s", stderrBuf.String())
		}
	})
	require.NoError(t, readyW.Close())

	require.NoError(t, readyR.SetReadDeadline(time.Now().Add(10*time.Second)))
	b := make([]byte, 1)
	n, err := readyR.Read(b)
	if err != nil && err != io.EOF {
		require.NoError(t, err)
	}
	_ = readyR.Close()
	_ = outR.Close()
	_ = errR.Close()
	t.Cleanup(func() { _ = outW.Close(); _ = errW.Close() })
	return &launched{cmd: cmd, stdout: outW, stderr: errW, readyBytes: n}
}

// stop ends the logger as runc-v2 does when the process is deleted:
// close the pipes' write ends, SIGTERM, wait.
func (l *launched) stop(t *testing.T) {
	t.Helper()
	_ = l.stdout.Close()
	_ = l.stderr.Close()
	require.NoError(t, l.cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- l.cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "the logger exits 0")
	case <-time.After(12 * time.Second):
		t.Fatal("the logger did not exit within runc-v2's 12s")
	}
}

func readMessages(t *testing.T, paths ...string) []crilog.Message {
	t.Helper()
	var all []crilog.Record
	for _, p := range paths {
		f, err := os.Open(p)
		require.NoError(t, err)
		records, err := crilog.ReadRecords(f)
		_ = f.Close()
		require.NoError(t, err, p)
		all = append(all, records...)
	}
	return crilog.Assemble(all)
}

// TestLoggerBinaryRotation runs the built logger as runc-v2 does, writes
// both streams while the log is rotated five times, each reopen asked
// by a fresh caller as after a wincri restart, and checks that every line
// is in the logs exactly once, in order, with its stream.
func TestLoggerBinaryRotation(t *testing.T) {
	bin := buildLogger(t)
	root := shortDir(t)
	o := logger.Options{
		ID:           "ctr1",
		LogDirectory: filepath.Join(root, "pods", "ns_pod_uid"),
		LogPath:      "app/0.log",
		StateDir:     filepath.Join(root, "state"),
		MaxLineSize:  64,
	}
	uri, err := logger.BinaryURI(bin, o)
	require.NoError(t, err)
	l := launchLikeRuncV2(t, uri, o.ID)
	require.Equal(t, 1, l.readyBytes, "binary-v2 needs the ready byte")

	const n = 2000
	line := func(s crilog.Stream, i int) string {
		text := fmt.Sprintf("%s-%d", s, i)
		if i%100 == 0 {
			text += strings.Repeat("x", 200) // split into partial records
		}
		return text
	}
	var wg sync.WaitGroup
	for _, w := range []struct {
		s crilog.Stream
		f *os.File
	}{{crilog.Stdout, l.stdout}, {crilog.Stderr, l.stderr}} {
		wg.Go(func() {
			for i := range n {
				_, err := fmt.Fprintf(w.f, "%s\r\n", line(w.s, i))
				assert.NoError(t, err)
			}
		})
	}

	logPath := filepath.Join(o.LogDirectory, o.LogPath)
	require.Eventually(t, func() bool { _, err := os.Stat(logPath); return err == nil }, 5*time.Second, 10*time.Millisecond)
	files := []string{}
	for i := range 5 {
		rotated := fmt.Sprintf("%s.%d", logPath, i)
		require.NoError(t, os.Rename(logPath, rotated))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		require.NoError(t, logger.Reopen(ctx, o.StateDir, o.ID))
		cancel()
		files = append(files, rotated)
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	l.stop(t)
	files = append(files, logPath)

	msgs := readMessages(t, files...)
	require.Len(t, msgs, 2*n)
	for _, s := range []crilog.Stream{crilog.Stdout, crilog.Stderr} {
		i := 0
		for _, m := range msgs {
			if m.Stream != s {
				continue
			}
			require.Equal(t, line(s, i), m.Text)
			require.True(t, m.Complete)
			i++
		}
		assert.Equal(t, n, i)
	}

	err = logger.Reopen(context.Background(), o.StateDir, o.ID)
	require.ErrorIs(t, err, errdefs.ErrFailedPrecondition, "no logger once the container is gone")
}

// TestLoggerBinaryKilled: a logger that dies without cleanup leaves a
// socket nothing serves; Reopen says the container is not running and
// Cleanup removes the socket.
func TestLoggerBinaryKilled(t *testing.T) {
	bin := buildLogger(t)
	root := shortDir(t)
	o := logger.Options{ID: "ctr2", LogDirectory: filepath.Join(root, "logs"), LogPath: "0.log", StateDir: filepath.Join(root, "state")}
	uri, err := logger.BinaryURI(bin, o)
	require.NoError(t, err)
	l := launchLikeRuncV2(t, uri, o.ID)
	require.Equal(t, 1, l.readyBytes)

	require.NoError(t, l.cmd.Process.Kill())
	_ = l.cmd.Wait()
	require.FileExists(t, logger.DiagnosticsFile(o.StateDir, o.ID))
	err = logger.Reopen(context.Background(), o.StateDir, o.ID)
	require.ErrorIs(t, err, errdefs.ErrFailedPrecondition)
	require.NoError(t, logger.Cleanup(o.StateDir, o.ID))
	entries, err := os.ReadDir(o.StateDir)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

// TestLoggerBinaryFailsBeforeReady: a logger that cannot open its log
// exits without the ready byte, which makes runc-v2 fail the task's
// creation under binary-v2 instead of running a container nobody logs.
func TestLoggerBinaryFailsBeforeReady(t *testing.T) {
	bin := buildLogger(t)
	root := shortDir(t)
	notDir := filepath.Join(root, "file")
	require.NoError(t, os.WriteFile(notDir, nil, 0o600))
	o := logger.Options{ID: "ctr3", LogDirectory: notDir, LogPath: "0.log", StateDir: filepath.Join(root, "state")}
	uri, err := logger.BinaryURI(bin, o)
	require.NoError(t, err)
	l := launchLikeRuncV2(t, uri, o.ID)
	assert.Zero(t, l.readyBytes)
	err = l.cmd.Wait()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr)
	assert.Equal(t, 1, exitErr.ExitCode())

	diag, err := os.ReadFile(logger.DiagnosticsFile(o.StateDir, o.ID))
	require.NoError(t, err)
	assert.Contains(t, string(diag), "Logger failed", "the reason is kept where an operator finds it")
	assert.Contains(t, string(diag), "not a directory")
}

// BenchmarkLoggerBinary pushes 100-byte lines through the built logger
// on both streams at once and reports the throughput into the log file
// and the logger's peak resident memory.
func BenchmarkLoggerBinary(b *testing.B) {
	bin := buildLogger(b)
	root := shortDir(b)
	o := logger.Options{ID: "bench", LogDirectory: filepath.Join(root, "logs"), LogPath: "0.log", StateDir: filepath.Join(root, "state")}
	uri, err := logger.BinaryURI(bin, o)
	require.NoError(b, err)
	l := launchLikeRuncV2(b, uri, o.ID)

	line := strings.Repeat("y", 99) + "\n"
	chunk := []byte(strings.Repeat(line, 64))
	b.SetBytes(int64(2 * len(chunk)))
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, f := range []*os.File{l.stdout, l.stderr} {
		wg.Go(func() {
			for range b.N {
				_, _ = f.Write(chunk)
			}
		})
	}
	wg.Wait()
	peak := peakRSS(l.cmd.Process.Pid)
	// The logger ends by itself once both streams are at EOF, after it
	// wrote everything.
	_ = l.stdout.Close()
	_ = l.stderr.Close()
	require.NoError(b, l.cmd.Wait())
	b.StopTimer()
	b.ReportMetric(float64(peak), "peak-RSS-KiB")
}

// peakRSS is a process's VmHWM in KiB, 0 when unknown.
func peakRSS(pid int) int {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, f := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(f, "VmHWM:") {
			kb, _ := strconv.Atoi(strings.Fields(f)[1])
			return kb
		}
	}
	return 0
}
