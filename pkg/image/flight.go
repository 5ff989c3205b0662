package image

import (
	"context"
	"sync"
)

// call is one piece of work that several callers wait for: a whole pull,
// or one layer's download and unpack.
type call struct {
	done     chan struct{}
	id       string
	err      error
	progress *transferProgress
	// callers counts the owner and every caller that joined; guarded by
	// the flight's mu.
	callers int
}

// wait returns the call's result, or ctx's error if ctx ends first; the
// work itself goes on for the other waiters.
func (c *call) wait(ctx context.Context) (string, error) {
	select {
	case <-c.done:
		return c.id, c.err
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}

// flight deduplicates work in progress by key.
type flight struct {
	mu    sync.Mutex
	calls map[string]*call
}

// join returns the call in progress for key, or starts one and reports
// that the caller owns it and must finish it.
func (f *flight) join(key string) (c *call, owner bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.calls[key]; ok {
		c.callers++
		return c, false
	}
	if f.calls == nil {
		f.calls = map[string]*call{}
	}
	c = &call{done: make(chan struct{}), progress: &transferProgress{}, callers: 1}
	f.calls[key] = c
	return c, true
}

func (f *flight) finish(key string, c *call, id string, err error) {
	f.mu.Lock()
	delete(f.calls, key)
	f.mu.Unlock()
	c.id, c.err = id, err
	close(c.done)
}
