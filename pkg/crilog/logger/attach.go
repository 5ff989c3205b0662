package logger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/crilog"
)

// The attach protocol: the logger serves a second endpoint beside its
// control endpoint; every connection to it receives the container's
// output from then on, as frames of a stream byte, a big-endian uint32
// length and that many bytes, until the output ends (the logger closes
// the connection) or the client goes away. Output that arrived before
// the client connected is in the log, not in the frames. The first
// frame, of stream frameHello and no bytes, tells the client that it
// receives output from then on.
const (
	frameHello      = 0
	frameStdout     = 1
	frameStderr     = 2
	frameHeaderSize = 5
	// maxFrame bounds what a client accepts in one frame; the logger
	// sends at most one read of a pipe.
	maxFrame = 1 << 20
	// attachBuffer is how many frames a client may lag behind before
	// the logger drops it: the log, not a slow attach client, sets the
	// pace of the container's output.
	attachBuffer = 256
	// helloTimeout bounds the wait for the logger's first frame.
	helloTimeout = 10 * time.Second
)

// attachHub fans the container's output out to attach clients without
// ever blocking the copy into the log.
type attachHub struct {
	mu      sync.Mutex
	clients map[chan []byte]struct{}
	closed  bool
	l       net.Listener
	served  chan struct{}
}

// startAttach serves live output for o's container. Live output is a
// convenience: when its endpoint cannot be created the logger logs that
// and carries on with the log alone.
func startAttach(ctx context.Context, o Options) *attachHub {
	h := &attachHub{clients: map[chan []byte]struct{}{}, served: make(chan struct{})}
	addr, err := attachAddress(o.StateDir, o.ID)
	if err == nil {
		h.l, err = listenAttach(addr)
	}
	if err != nil {
		klog.FromContext(ctx).Error(err, "Live output for attach is not available")
		close(h.served)
		return h
	}
	go func() {
		defer close(h.served)
		for {
			conn, err := h.l.Accept()
			if err != nil {
				return
			}
			h.add(conn)
		}
	}()
	return h
}

func (h *attachHub) add(conn net.Conn) {
	ch := make(chan []byte, attachBuffer)
	ch <- []byte{frameHello, 0, 0, 0, 0}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		_ = conn.Close()
		return
	}
	h.clients[ch] = struct{}{}
	h.mu.Unlock()
	go func() {
		defer conn.Close()
		for f := range ch {
			if _, err := conn.Write(f); err != nil {
				// Closed and out of the map: nobody sends any more.
				h.drop(ch)
				return
			}
		}
	}()
}

func (h *attachHub) drop(ch chan []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[ch]; ok {
		delete(h.clients, ch)
		close(ch)
	}
}

// writer returns the tee target for one stream.
func (h *attachHub) writer(stream crilog.Stream) io.Writer {
	b := byte(frameStdout)
	if stream == crilog.Stderr {
		b = frameStderr
	}
	return hubWriter{h: h, stream: b}
}

type hubWriter struct {
	h      *attachHub
	stream byte
}

// Write never fails and never blocks: a client whose buffer is full is
// dropped.
func (w hubWriter) Write(p []byte) (int, error) {
	w.h.mu.Lock()
	defer w.h.mu.Unlock()
	if len(w.h.clients) == 0 || len(p) == 0 {
		return len(p), nil
	}
	f := make([]byte, frameHeaderSize+len(p))
	f[0] = w.stream
	binary.BigEndian.PutUint32(f[1:], uint32(len(p)))
	copy(f[frameHeaderSize:], p)
	for ch := range w.h.clients {
		select {
		case ch <- f:
		default:
			delete(w.h.clients, ch)
			close(ch)
		}
	}
	return len(p), nil
}

// close ends every client's stream once it has what was sent, and stops
// serving.
func (h *attachHub) close() {
	h.mu.Lock()
	h.closed = true
	for ch := range h.clients {
		delete(h.clients, ch)
		close(ch)
	}
	h.mu.Unlock()
	if h.l != nil {
		_ = h.l.Close()
	}
	<-h.served
}

// AttachStream is a connection to a logger's live output.
type AttachStream struct {
	conn net.Conn
}

// OpenAttach connects to the live output of container id's logger and
// returns once output flows to the connection: everything the
// container writes from then on arrives. It is
// errdefs.ErrFailedPrecondition when no logger serves the container (it
// is not running) and ErrUnavailable when the logger cannot be reached.
func OpenAttach(ctx context.Context, stateDir, id string) (*AttachStream, error) {
	addr, err := attachAddress(stateDir, id)
	if err != nil {
		return nil, err
	}
	conn, err := dialControl(ctx, addr)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return nil, fmt.Errorf("attach to container %s: no logger serves its output, the container is not running: %w", id, errdefs.ErrFailedPrecondition)
		}
		return nil, fmt.Errorf("attach to container %s: reach its logger: %v: %w", id, err, errdefs.ErrUnavailable)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	// A logger that does not greet (an older one) must not hang the
	// caller.
	_ = conn.SetReadDeadline(time.Now().Add(helloTimeout))
	var hello [frameHeaderSize]byte
	_, err = io.ReadFull(conn, hello[:])
	_ = conn.SetReadDeadline(time.Time{})
	if err != nil || hello[0] != frameHello {
		_ = conn.Close()
		var ne net.Error
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.As(err, &ne) && ne.Timeout():
			return nil, fmt.Errorf("attach to container %s: its logger does not serve live output (a wincri-logger older than this wincri?): %w", id, errdefs.ErrUnavailable)
		}
		// A logger that ends right away (the output ended) says nothing.
		return nil, fmt.Errorf("attach to container %s: its output has ended: %w", id, errdefs.ErrFailedPrecondition)
	}
	return &AttachStream{conn: conn}, nil
}

// Copy copies the output to stdout and stderr (either may be nil to
// discard it) until the output ends, which returns nil, the
// destinations all fail, which returns nil too, or ctx ends. With a
// terminal everything arrives on stdout.
func (a *AttachStream) Copy(ctx context.Context, stdout, stderr io.Writer) error {
	stop := context.AfterFunc(ctx, func() { _ = a.conn.Close() })
	defer stop()
	err := readFrames(a.conn, stdout, stderr)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, errClientGone):
		return nil
	}
	return err
}

// Close ends the connection.
func (a *AttachStream) Close() error { return a.conn.Close() }

// Attach is OpenAttach and Copy in one.
func Attach(ctx context.Context, stateDir, id string, stdout, stderr io.Writer) error {
	a, err := OpenAttach(ctx, stateDir, id)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Copy(ctx, stdout, stderr)
}

// errClientGone ends readFrames when no destination takes output any
// more.
var errClientGone = errors.New("attach client went away")

// readFrames demultiplexes frames until EOF. A write error of a
// destination stops its copying, not the reading: the other stream may
// still have a reader. When every destination failed it returns
// errClientGone.
func readFrames(r io.Reader, stdout, stderr io.Writer) error {
	wanted := stdout != nil || stderr != nil
	var hdr [frameHeaderSize]byte
	buf := make([]byte, 32*1024)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading live output: %w", err)
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if n > maxFrame {
			return fmt.Errorf("live output frame of %d bytes exceeds %d: %w", n, maxFrame, errdefs.ErrInvalidArgument)
		}
		if int(n) > len(buf) {
			buf = make([]byte, n)
		}
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			return fmt.Errorf("reading live output: %w", err)
		}
		dst := &stdout
		if hdr[0] == frameStderr {
			dst = &stderr
		}
		if *dst != nil {
			if _, err := (*dst).Write(buf[:n]); err != nil {
				*dst = nil
				if wanted && stdout == nil && stderr == nil {
					return errClientGone
				}
			}
		}
	}
}
