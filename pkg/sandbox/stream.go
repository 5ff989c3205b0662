package sandbox

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/wincri/wincri/pkg/shim"
)

// TerminalSize is a terminal's size in characters, as a streaming
// client reports it when its window changes.
type TerminalSize struct {
	Width, Height uint16
}

// runningTask returns a running container's record and its pod's shim.
func (m *Manager) runningTask(id string) (c *container, rec ContainerRecord, s shim.Shim, done func(), err error) {
	c, err = m.getContainer(id)
	if err != nil {
		return nil, ContainerRecord{}, nil, nil, err
	}
	rec = c.snapshot()
	if rec.State != ContainerRunning {
		return nil, rec, nil, nil, fmt.Errorf("container %s is %s, not running: %w", rec.ID, rec.State, errdefs.ErrFailedPrecondition)
	}
	p, err := m.getPod(rec.PodID)
	if err != nil {
		return nil, rec, nil, nil, err
	}
	s, done, err = p.useShim()
	if err != nil {
		return nil, rec, nil, nil, err
	}
	return c, rec, s, done, nil
}

// forwardResizes applies terminal size changes to a process until the
// channel closes or done is closed. A failed resize is not worth
// ending the session for.
func forwardResizes(ctx context.Context, s shim.Shim, id, execID string, resize <-chan TerminalSize, done <-chan struct{}) {
	if resize == nil {
		return
	}
	for {
		select {
		case <-done:
			return
		case sz, ok := <-resize:
			if !ok {
				return
			}
			if sz.Width == 0 || sz.Height == 0 {
				continue
			}
			_ = s.ResizePty(ctx, id, execID, uint32(sz.Width), uint32(sz.Height))
		}
	}
}
