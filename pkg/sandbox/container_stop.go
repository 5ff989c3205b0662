package sandbox

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/faultpoint"
	"github.com/wincri/wincri/pkg/logkeys"
)

// StopContainer sends the image's stop signal, waits up to timeout
// seconds, then kills. Stopping a container that is not running, or is
// gone, succeeds.
func (m *Manager) StopContainer(ctx context.Context, id string, timeout int64) error {
	c, err := m.lockContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer c.op.unlock()
	return m.stopContainer(ctx, c, time.Duration(timeout)*time.Second)
}

func (m *Manager) stopContainer(ctx context.Context, c *container, grace time.Duration) error {
	rec := c.snapshot()
	exited := c.exitCh()
	if rec.State != ContainerRunning || exited == nil {
		return nil
	}
	logger := klog.FromContext(ctx).WithValues(logkeys.ContainerID, rec.ID)
	p, err := m.getPod(rec.PodID)
	if err != nil {
		return err
	}
	s := p.getShim()
	if s == nil {
		// The shim's death is being recorded by watchShim.
		return waitExit(ctx, exited, taskExitTimeout, rec.ID)
	}
	if grace > 0 {
		sig, err := ParseSignal(rec.StopSignal)
		if err != nil {
			return err
		}
		if err := s.Kill(ctx, rec.ID, "", sig, false); err != nil && !gone(err) {
			return fmt.Errorf("signalling container %s: %w", rec.ID, err)
		}
		faultpoint.Hit(ctx, faultpoint.ContainerAfterStopKill)
		select {
		case <-exited:
			logger.Info("Container stopped", "signal", sig)
			return nil
		case <-time.After(grace):
			logger.Info("Container did not stop within its grace period; killing it", "gracePeriod", grace)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := s.Kill(ctx, rec.ID, "", sigkill, true); err != nil {
		if errdefs.IsNotFound(err) {
			// The task is gone without an exit event reaching us.
			m.containerExited(c, 128+sigkill, time.Now(), "", "")
			return nil
		}
		if !gone(err) {
			return fmt.Errorf("killing container %s: %w", rec.ID, err)
		}
	}
	if err := waitExit(ctx, exited, taskExitTimeout, rec.ID); err != nil {
		return err
	}
	logger.Info("Container killed")
	return nil
}

func waitExit(ctx context.Context, exited <-chan struct{}, timeout time.Duration, id string) error {
	select {
	case <-exited:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("container %s did not exit %s after SIGKILL: %w", id, timeout, context.DeadlineExceeded)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RemoveContainer kills a running container and removes its task,
// writable layer, bundle and record. Removing an unknown container
// succeeds.
func (m *Manager) RemoveContainer(ctx context.Context, id string) error {
	c, err := m.lockContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer c.op.unlock()
	if err := m.stopContainer(ctx, c, 0); err != nil {
		return err
	}
	rec := c.snapshot()
	if err := m.destroyContainer(ctx, c); err != nil {
		return err
	}
	klog.FromContext(ctx).Info("Container removed", logkeys.ContainerID, rec.ID)
	m.publish(EventDeleted, rec.ID, rec.PodID)
	return nil
}
