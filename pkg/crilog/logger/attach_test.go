package logger

import (
	"bytes"
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wincri/wincri/pkg/crilog"
)

// syncBuffer is a bytes.Buffer safe for the reader goroutine and the
// test's assertions.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (h *attachHub) clientCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

func shortStateDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wl")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func TestAttachLiveOutput(t *testing.T) {
	ctx := context.Background()
	o := Options{ID: "c1", LogDirectory: "/x", LogPath: "c.log", StateDir: shortStateDir(t)}
	hub := startAttach(ctx, o)

	// Output before anyone attached is not replayed.
	_, _ = hub.writer(crilog.Stdout).Write([]byte("early\n"))

	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- Attach(ctx, o.StateDir, o.ID, &stdout, &stderr) }()
	require.Eventually(t, func() bool { return hub.clientCount() == 1 }, 5*time.Second, 5*time.Millisecond)

	_, _ = hub.writer(crilog.Stdout).Write([]byte("out\n"))
	_, _ = hub.writer(crilog.Stderr).Write([]byte("err\n"))
	hub.close()
	require.NoError(t, <-done, "output ended")
	assert.Equal(t, "out\n", stdout.String())
	assert.Equal(t, "err\n", stderr.String())

	err := Attach(ctx, o.StateDir, o.ID, &stdout, nil)
	assert.ErrorIs(t, err, errdefs.ErrFailedPrecondition, "nobody serves it any more")
}

func TestAttachCancel(t *testing.T) {
	o := Options{ID: "c2", LogDirectory: "/x", LogPath: "c.log", StateDir: shortStateDir(t)}
	hub := startAttach(context.Background(), o)
	defer hub.close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Attach(ctx, o.StateDir, o.ID, &syncBuffer{}, nil) }()
	require.Eventually(t, func() bool { return hub.clientCount() == 1 }, 5*time.Second, 5*time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}

// A client that does not read is dropped; the writer never blocks.
func TestAttachSlowClientDropped(t *testing.T) {
	o := Options{ID: "c3", LogDirectory: "/x", LogPath: "c.log", StateDir: shortStateDir(t)}
	hub := startAttach(context.Background(), o)
	defer hub.close()
	addr, err := attachAddress(o.StateDir, o.ID)
	require.NoError(t, err)
	conn, err := dialControl(context.Background(), addr)
	require.NoError(t, err)
	defer conn.Close()
	require.Eventually(t, func() bool { return hub.clientCount() == 1 }, 5*time.Second, 5*time.Millisecond)

	chunk := bytes.Repeat([]byte("x"), 32*1024)
	w := hub.writer(crilog.Stdout)
	start := time.Now()
	for range 4 * attachBuffer {
		_, _ = w.Write(chunk)
	}
	assert.Zero(t, hub.clientCount(), "the stalled client was dropped")
	t.Logf("wrote %d MiB past a stalled client in %s", 4*attachBuffer*len(chunk)>>20, time.Since(start))
}

func TestReadFramesRejectsHugeFrame(t *testing.T) {
	err := readFrames(bytes.NewReader([]byte{frameStdout, 0xff, 0xff, 0xff, 0xff}), &bytes.Buffer{}, nil)
	assert.ErrorIs(t, err, errdefs.ErrInvalidArgument)
}
