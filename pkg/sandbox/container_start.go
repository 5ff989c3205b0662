package sandbox

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/faultpoint"
	"github.com/wincri/wincri/pkg/isolation"
	"github.com/wincri/wincri/pkg/logkeys"
	"github.com/wincri/wincri/pkg/shim"
)

// Exit code and reason of a container whose task could not start.
const (
	startErrorExitCode = 128
	reasonStartError   = "StartError"
)

// StartContainer starts a created container in its pod's shim.
func (m *Manager) StartContainer(ctx context.Context, id string) error {
	c, err := m.lockContainer(ctx, id)
	if err != nil {
		return err
	}
	defer c.op.unlock()
	rec := c.snapshot()
	if rec.State != ContainerCreated {
		return fmt.Errorf("container %s is %s, only a created container can start: %w", rec.ID, rec.State, errdefs.ErrFailedPrecondition)
	}
	p, err := m.getPod(rec.PodID)
	if err != nil {
		return err
	}
	prec := p.snapshot()
	s := p.getShim()
	if prec.State != PodReady || s == nil {
		return fmt.Errorf("pod sandbox %s is not ready (%s): %w", prec.ID, prec.State, errdefs.ErrFailedPrecondition)
	}
	h, err := p.runtimeHandler()
	if err != nil {
		return err
	}
	logger := klog.FromContext(ctx).WithValues(logkeys.ContainerID, rec.ID, logkeys.PodSandboxID, prec.ID)
	if err := m.startTask(ctx, c, p.cfg.GetLogDirectory(), s, h); err != nil {
		cctx, cancel := m.cleanupContext(ctx)
		defer cancel()
		if _, derr := s.Delete(cctx, rec.ID, ""); derr != nil && !gone(derr) {
			logger.Error(derr, "Deleting the task that failed to start")
		}
		c.mu.Lock()
		c.starting = false
		c.mu.Unlock()
		m.containerExited(c, startErrorExitCode, time.Now(), reasonStartError, err.Error())
		return err
	}
	logger.Info("Container started", "pid", c.snapshot().Pid)
	return nil
}

func (m *Manager) startTask(ctx context.Context, c *container, logDir string, s shim.Shim, h isolation.Handler) error {
	rec := c.snapshot()
	opts := shim.CreateOpts{
		ID:       rec.ID,
		Bundle:   m.dirs.containerBundle(rec.ID),
		Rootfs:   rec.Rootfs,
		Terminal: c.cfg.GetTty(),
		Options:  h.Options,
	}
	stdio, err := m.taskStdio(ctx, c, logDir)
	if err != nil {
		return err
	}
	opts.Stdin, opts.Stdout, opts.Stderr = stdio.stdin, stdio.stdout, stdio.stderr
	created := false
	defer func() {
		// What was started for a task that never came to be has no other
		// owner: the shim closes only the IO of tasks it created.
		if !created && stdio.abandon != nil {
			stdio.abandon()
		}
	}()
	exited := make(chan struct{})
	c.mu.Lock()
	c.exited = exited
	c.starting = true
	c.mu.Unlock()
	// A start that a crash interrupted may have left its task behind;
	// the exit its deletion reports belongs to that old process.
	if old, err := s.Delete(ctx, rec.ID, ""); err == nil {
		c.mu.Lock()
		c.stalePid = old.Pid
		c.mu.Unlock()
	} else if !gone(err) {
		return fmt.Errorf("deleting a leftover task: %w", err)
	}
	if err := m.createTask(ctx, s, opts); err != nil {
		return fmt.Errorf("creating the container task: %w", err)
	}
	created = true
	faultpoint.Hit(ctx, faultpoint.ContainerAfterTask)
	pid, err := m.startProcess(ctx, s, rec.ID, "")
	if err != nil {
		return fmt.Errorf("starting the container task: %w", err)
	}
	// The task may already have exited (and been recorded) by now; its
	// Stopped event then waited for this Started one. updateContainer
	// publishes both after the record is stored, under the container's
	// lock, so that events keep lifecycle order.
	return m.updateContainer(c, func(r *ContainerRecord) ([]EventType, error) {
		r.Pid, r.StartedAt = pid, time.Now()
		c.starting = false
		if r.State == ContainerCreated {
			r.State = ContainerRunning
			return []EventType{EventStarted}, nil
		}
		return []EventType{EventStarted, EventStopped}, nil
	})
}
