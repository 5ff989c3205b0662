package sandbox

import (
	"context"
	"fmt"
	"sync"
)

// opLock serialises the lifecycle operations on one pod or container.
// Unlike a mutex, waiting for it ends with the caller's context: a kubelet
// request whose deadline passes while an earlier request still works on
// the object gets DeadlineExceeded at once, and its retry waits again. The
// zero value is unlocked.
type opLock struct {
	once sync.Once
	sem  chan struct{}
}

func (l *opLock) ch() chan struct{} {
	l.once.Do(func() { l.sem = make(chan struct{}, 1) })
	return l.sem
}

// lock waits for the lock until ctx ends; what names the object in the
// error.
func (l *opLock) lock(ctx context.Context, what string) error {
	select {
	case l.ch() <- struct{}{}:
		return nil
	default:
	}
	select {
	case l.ch() <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s is busy with an earlier request: %w", what, ctx.Err())
	}
}

// mustLock waits for the lock without a deadline: for work no request
// carries (a dead shim's cleanup) and for taking a fresh object's lock.
func (l *opLock) mustLock() { l.ch() <- struct{}{} }

func (l *opLock) unlock() {
	select {
	case <-l.ch():
	default:
		panic("sandbox: unlock of an unlocked opLock")
	}
}
