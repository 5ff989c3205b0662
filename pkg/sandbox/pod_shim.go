package sandbox

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/containerd/errdefs"

	"github.com/wincri/wincri/pkg/shim"
)

// shimConn is a pod's connection to its shim. Requests that use it
// without holding the pod's operation lock (exec, attach, stats, the
// cleanup of an exited task) hold a reference while they do; the pod's
// stop takes the connection from the pod in one step and closes it only
// once they are done, so that none of them sees a connection closed under
// it and mistakes it for a shim that is gone.
type shimConn struct {
	shim.Shim
	users sync.WaitGroup
}

// shimEnd records why a pod has no shim connection.
type shimEnd int

const (
	shimNone     shimEnd = iota // never had one, or not yet
	shimReleased                // wincri stopped the pod and let its shim go
	shimDied                    // the shim process died under the pod
)

// shimUsersTimeout bounds how long a stop waits for the users of a shim
// connection: their processes die with the pod's containers, which the
// stop killed first.
const shimUsersTimeout = 10 * time.Second

// getShim returns the pod's shim, nil when it has none. For callers that
// hold the pod's or a container's operation lock, which a stop takes
// before it releases the shim.
func (p *pod) getShim() shim.Shim {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.conn == nil {
		return nil
	}
	return p.conn.Shim
}

// setShim installs the pod's shim connection.
func (p *pod) setShim(s shim.Shim) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s == nil {
		p.conn = nil
		return
	}
	p.conn, p.shimEnd = &shimConn{Shim: s}, shimNone
}

// useShim returns the pod's shim with a reference, which the caller gives
// back with done. A pod without a shim is FailedPrecondition when wincri
// stopped it, Unavailable when its shim died.
func (p *pod) useShim() (s shim.Shim, done func(), err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == nil {
		if p.shimEnd == shimReleased {
			return nil, nil, fmt.Errorf("pod sandbox %s is stopped: %w", p.id, errdefs.ErrFailedPrecondition)
		}
		return nil, nil, fmt.Errorf("the shim of pod sandbox %s is gone: %w", p.id, errdefs.ErrUnavailable)
	}
	conn := p.conn
	conn.users.Add(1)
	return conn.Shim, conn.users.Done, nil
}

// takeShim removes the pod's shim connection, in one step, for the one
// caller that will close it; nil when there is none. When only is set the
// connection is taken only if it is that shim's.
func (p *pod) takeShim(why shimEnd, only shim.Shim) *shimConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	conn := p.conn
	if conn == nil || (only != nil && conn.Shim != only) {
		return nil
	}
	p.conn, p.shimEnd = nil, why
	return conn
}

// awaitUsers waits until no request uses the connection, at most until
// ctx ends or shimUsersTimeout.
func (c *shimConn) awaitUsers(ctx context.Context) {
	idle := make(chan struct{})
	go func() {
		c.users.Wait()
		close(idle)
	}()
	select {
	case <-idle:
	case <-ctx.Done():
	case <-time.After(shimUsersTimeout):
	}
}
