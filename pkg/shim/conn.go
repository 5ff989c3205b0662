package shim

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/containerd/errdefs"
	"github.com/containerd/ttrpc"
	"k8s.io/klog/v2"
)

// conn is the one ttrpc connection to one shim process. A pod's shim
// serves all of the pod's tasks, so Launch and Connect hand out handles
// that share the conn; the last handle's Close closes it.
type conn struct {
	addr    Address
	key     string
	service string
	client  *ttrpc.Client
	pid     int
	// done is closed when the connection drops or is closed.
	done chan struct{}
	// refs counts the open handles; guarded by Driver.mu.
	refs int

	logMu   sync.Mutex
	log     io.Closer
	logDone chan struct{}
	logStop bool
}

func (c *conn) call(ctx context.Context, method string, req, resp any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-c.done:
		return errShimGone
	default:
	}
	return fromShim(c.client.Call(ctx, c.service, method, req, resp))
}

// drainLog keeps reading the shim's own log into logger until the conn
// ends. A conn drains one stream; it reports whether it took r (the
// caller closes an r that was not taken).
func (c *conn) drainLog(logger klog.Logger, r io.ReadCloser) bool {
	if r == nil {
		return false
	}
	c.logMu.Lock()
	defer c.logMu.Unlock()
	if c.log != nil || c.logStop {
		return false
	}
	c.log = r
	c.logDone = make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		copyShimLog(logger, r)
	}(c.logDone)
	return true
}

// stopLog ends the log drain and waits for it.
func (c *conn) stopLog() {
	c.logMu.Lock()
	c.logStop = true
	r, done := c.log, c.logDone
	c.logMu.Unlock()
	if r == nil {
		return
	}
	_ = r.Close()
	<-done
}

// readPidFile reads the shim.pid file a shim's start writes into the
// bundle (runhcs does; runc-v2 answers Connect instead).
func readPidFile(bundle string) int {
	if bundle == "" {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(bundle, "shim.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid < 0 {
		return 0
	}
	return pid
}

// handle is one caller's reference to a shared conn.
type handle struct {
	conn   *conn
	m      *Driver
	closed atomic.Bool
}

var _ Shim = (*handle)(nil)

func (h *handle) Address() Address      { return h.conn.addr }
func (h *handle) Pid() int              { return h.conn.pid }
func (h *handle) Done() <-chan struct{} { return h.conn.done }

// Close releases this handle; the connection closes with the last one.
// The shim keeps running.
func (h *handle) Close() error {
	if h.closed.CompareAndSwap(false, true) {
		h.m.release(h.conn)
	}
	return nil
}

func (h *handle) call(ctx context.Context, method string, req, resp any) error {
	if h.closed.Load() {
		return fmt.Errorf("shim handle is closed: %w", errdefs.ErrUnavailable)
	}
	return h.conn.call(ctx, method, req, resp)
}
