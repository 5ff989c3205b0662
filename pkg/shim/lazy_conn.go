package shim

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// errLazyClosed is what a lazyConn's Read returns once it was closed
// before it connected.
var errLazyClosed = errors.New("closed before the connection was made")

// lazyConn is a connection dialled in the background, for a shim's log
// pipe: the shim creates the pipe only once it serves, which on a busy
// node can take longer than any fixed deadline. Dialling goes on, every
// interval, until it succeeds or the owner closes the lazyConn (when the
// shim's connection ends); Read waits for the outcome. containerd dials
// the same pipe the same way (core/runtime/v2/shim_windows.go,
// openShimLog, deferredPipeConnection), though only for 10 s.
type lazyConn struct {
	cancel context.CancelFunc
	ready  chan struct{}
	conn   net.Conn
	err    error
	once   sync.Once
}

func newLazyConn(dial func(context.Context) (net.Conn, error), interval time.Duration) *lazyConn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &lazyConn{cancel: cancel, ready: make(chan struct{})}
	go func() {
		defer close(c.ready)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			conn, err := dial(ctx)
			if err == nil {
				c.conn = conn
				return
			}
			select {
			case <-ctx.Done():
				c.err = errLazyClosed
				return
			case <-tick.C:
			}
		}
	}()
	return c
}

func (c *lazyConn) Read(b []byte) (int, error) {
	<-c.ready
	if c.err != nil {
		return 0, c.err
	}
	return c.conn.Read(b)
}

// Close stops dialling, or closes the connection made.
func (c *lazyConn) Close() error {
	var err error
	c.once.Do(func() {
		c.cancel()
		<-c.ready
		if c.conn != nil {
			err = c.conn.Close()
		}
	})
	return err
}
