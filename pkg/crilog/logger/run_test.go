package logger

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/internal/testlog"
	"github.com/wincri/wincri/pkg/crilog"
)

// pipes is a container's output as a test drives it: the writer ends of
// stdout and stderr, and the Stdio a logger reads.
type pipes struct {
	stdout, stderr *os.File
	stdio          Stdio
	ready          chan struct{}
}

func newPipes(t *testing.T) *pipes {
	t.Helper()
	outR, outW, err := os.Pipe()
	require.NoError(t, err)
	errR, errW, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() {
		for _, f := range []*os.File{outR, outW, errR, errW} {
			_ = f.Close()
		}
	})
	p := &pipes{stdout: outW, stderr: errW, ready: make(chan struct{})}
	p.stdio = Stdio{Stdout: outR, Stderr: errR, Ready: func() error { close(p.ready); return nil }}
	return p
}

func testOptions(t *testing.T) Options {
	if runtime.GOOS == "windows" {
		t.Skip("drives the unix control socket")
	}
	// t.TempDir can be too long for a unix socket path.
	state, err := os.MkdirTemp("", "wl")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(state) })
	return Options{ID: "c1", LogDirectory: t.TempDir(), LogPath: "app/0.log", StateDir: state, MaxLineSize: 8}
}

// start runs the logger in the background and waits until it is ready.
func start(t *testing.T, ctx context.Context, o Options, p *pipes, drain time.Duration) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o, p.stdio, drain) }()
	select {
	case <-p.ready:
	case err := <-done:
		require.NoError(t, err)
		t.Fatal("logger ended before it was ready")
	case <-time.After(10 * time.Second):
		t.Fatal("logger not ready")
	}
	return done
}

func wait(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("logger did not end")
	}
}

func messages(t *testing.T, paths ...string) []crilog.Message {
	t.Helper()
	var all []crilog.Record
	for _, p := range paths {
		f, err := os.Open(p)
		require.NoError(t, err)
		records, err := crilog.ReadRecords(f)
		_ = f.Close()
		require.NoError(t, err)
		all = append(all, records...)
	}
	return crilog.Assemble(all)
}

func texts(msgs []crilog.Message, s crilog.Stream) []string {
	var out []string
	for _, m := range msgs {
		if m.Stream == s {
			out = append(out, m.Text)
		}
	}
	return out
}

func TestRunCopiesBothStreamsAndReopens(t *testing.T) {
	ctx := context.Background()
	o := testOptions(t)
	p := newPipes(t)
	done := start(t, ctx, o, p, 0)
	logPath := filepath.Join(o.LogDirectory, o.LogPath)

	_, err := fmt.Fprint(p.stdout, "out one\r\nlong line over eight\n")
	require.NoError(t, err)
	_, err = fmt.Fprint(p.stderr, "err one\n")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(messages(t, logPath)) == 3 }, 5*time.Second, 10*time.Millisecond)

	rotated := logPath + ".1"
	require.NoError(t, os.Rename(logPath, rotated))
	require.NoError(t, Reopen(ctx, o.StateDir, o.ID))

	_, err = fmt.Fprint(p.stdout, "after rotation\nno newline")
	require.NoError(t, err)
	require.NoError(t, p.stdout.Close())
	require.NoError(t, p.stderr.Close())
	wait(t, done)

	before, after := messages(t, rotated), messages(t, logPath)
	assert.Equal(t, []string{"out one", "long line over eight"}, texts(before, crilog.Stdout))
	assert.Equal(t, []string{"err one"}, texts(before, crilog.Stderr))
	assert.Equal(t, []string{"after rotation", "no newline"}, texts(after, crilog.Stdout))
	assert.False(t, after[len(after)-1].Complete)

	// The logger has gone: its socket with it.
	err = Reopen(ctx, o.StateDir, o.ID)
	require.ErrorIs(t, err, errdefs.ErrFailedPrecondition)
	_, err = os.Stat(filepath.Join(o.StateDir, o.ID+".sock"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestRunDrainsAfterStop(t *testing.T) {
	o := testOptions(t)
	p := newPipes(t)
	log := testlog.New(t)
	ctx, cancel := context.WithCancel(log.Context())
	done := start(t, ctx, o, p, time.Minute)

	// As runc-v2 does: the writers close, then SIGTERM; output still
	// in the pipe belongs to the log.
	_, err := fmt.Fprint(p.stdout, "last words\n")
	require.NoError(t, err)
	cancel()
	require.Eventually(t, func() bool { return log.Logged("Stop requested, reading what is left") },
		10*time.Second, 5*time.Millisecond, "the logger saw the stop")
	_, err = fmt.Fprint(p.stderr, "late\n")
	require.NoError(t, err)
	require.NoError(t, p.stdout.Close())
	require.NoError(t, p.stderr.Close())
	wait(t, done)

	msgs := messages(t, filepath.Join(o.LogDirectory, o.LogPath))
	assert.Equal(t, []string{"last words"}, texts(msgs, crilog.Stdout))
	assert.Equal(t, []string{"late"}, texts(msgs, crilog.Stderr))
}

func TestRunGivesUpDrainingAfterTimeout(t *testing.T) {
	o := testOptions(t)
	p := newPipes(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := start(t, ctx, o, p, 100*time.Millisecond)

	// A grandchild of the container keeps the pipe open forever.
	_, err := fmt.Fprint(p.stdout, "partial")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		fi, err := os.Stat(filepath.Join(o.LogDirectory, o.LogPath))
		return err == nil && fi.Size() == 0
	}, time.Second, 10*time.Millisecond)
	cancel()
	wait(t, done)

	msgs := messages(t, filepath.Join(o.LogDirectory, o.LogPath))
	require.Len(t, msgs, 1)
	assert.Equal(t, "partial", msgs[0].Text, "the open line is written when the logger gives up")
	assert.False(t, msgs[0].Complete)
}

func TestReopenWithoutLogger(t *testing.T) {
	o := testOptions(t)
	ctx := context.Background()

	err := Reopen(ctx, o.StateDir, "never-started")
	require.ErrorIs(t, err, errdefs.ErrFailedPrecondition)

	// A logger killed with SIGKILL leaves its socket; nothing answers.
	addr, err := ControlAddress(o.StateDir, "killed")
	require.NoError(t, err)
	l, err := net.Listen("unix", addr)
	require.NoError(t, err)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, l.Close())
	err = Reopen(ctx, o.StateDir, "killed")
	require.ErrorIs(t, err, errdefs.ErrFailedPrecondition)

	require.NoError(t, Cleanup(o.StateDir, "killed"))
	_, err = os.Stat(addr)
	assert.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, Cleanup(o.StateDir, "killed"), "cleanup is idempotent")

	require.ErrorIs(t, Reopen(ctx, o.StateDir, "../x"), errdefs.ErrInvalidArgument)
}

func TestControlRejectsBadRequests(t *testing.T) {
	o := testOptions(t)
	p := newPipes(t)
	done := start(t, context.Background(), o, p, 0)
	addr, err := ControlAddress(o.StateDir, o.ID)
	require.NoError(t, err)

	for _, req := range []string{`{"op":"format-disk"}` + "\n", "garbage\n", strings.Repeat("x", 2*maxMessageSize)} {
		conn, err := net.Dial("unix", addr)
		require.NoError(t, err)
		_, _ = conn.Write([]byte(req))
		buf := make([]byte, maxMessageSize)
		n, _ := conn.Read(buf)
		_ = conn.Close()
		assert.Contains(t, string(buf[:n]), codeInvalidArgument)
	}
	// The logger still serves.
	require.NoError(t, Reopen(context.Background(), o.StateDir, o.ID))

	require.NoError(t, p.stdout.Close())
	require.NoError(t, p.stderr.Close())
	wait(t, done)
}

func TestRunRejectsBadSetup(t *testing.T) {
	o := testOptions(t)
	p := newPipes(t)
	err := Run(context.Background(), Options{}, p.stdio, 0)
	require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
	err = Run(context.Background(), o, Stdio{}, 0)
	require.ErrorIs(t, err, errdefs.ErrInvalidArgument)

	// A log directory that is a file: the logger fails before ready.
	notDir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notDir, nil, 0o600))
	o.LogDirectory = notDir
	require.Error(t, Run(context.Background(), o, p.stdio, 0))
	select {
	case <-p.ready:
		t.Fatal("ready signalled although the log could not be opened")
	default:
	}
}
