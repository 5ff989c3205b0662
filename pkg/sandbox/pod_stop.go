package sandbox

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/faultpoint"
	"github.com/wincri/wincri/pkg/logkeys"
	"github.com/wincri/wincri/pkg/shim"
)

const (
	sigkill = 9
	// taskExitTimeout bounds the wait for a killed task to exit.
	taskExitTimeout = 30 * time.Second
)

// StopPod stops every container of the pod, then its sandbox task and
// shim, and releases its network. Stopping a stopped or unknown pod
// succeeds.
func (m *Manager) StopPod(ctx context.Context, id string) error {
	p, err := m.lockPod(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer p.op.unlock()
	return m.stopPod(ctx, p)
}

func (m *Manager) stopPod(ctx context.Context, p *pod) error {
	rec := p.snapshot()
	for _, c := range m.podContainers(rec.ID) {
		if err := m.StopContainer(ctx, c.snapshot().ID, 0); err != nil {
			return fmt.Errorf("stopping container %s: %w", c.snapshot().ID, err)
		}
	}
	if err := m.deleteContainerTasks(ctx, p); err != nil {
		return err
	}
	if err := m.stopPodTask(ctx, p); err != nil {
		return err
	}
	if err := m.releasePodShim(ctx, p); err != nil {
		return err
	}
	if !m.hostNetwork(p.cfg) {
		faultpoint.Hit(ctx, faultpoint.PodStopBeforeTeardown)
		if err := m.network.Teardown(ctx, podNetwork(rec.ID, p.cfg, rec.NetNS)); err != nil {
			return fmt.Errorf("tearing down the pod network: %w", err)
		}
		faultpoint.Hit(ctx, faultpoint.PodStopAfterTeardown)
	}
	if err := m.plat.CleanupPod(ctx, rec.ID); err != nil {
		return err
	}
	if rec.State == PodNotReady {
		return nil
	}
	err := m.updatePod(p, func(r *PodRecord) ([]EventType, error) {
		r.State = PodNotReady
		return []EventType{EventStopped}, nil
	})
	if err != nil {
		return err
	}
	klog.FromContext(ctx).Info("Pod sandbox stopped", logkeys.PodSandboxID, rec.ID)
	return nil
}

// RemovePod removes the pod's containers, its task, shim and files.
// Removing an unknown pod succeeds.
func (m *Manager) RemovePod(ctx context.Context, id string) error {
	p, err := m.lockPod(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer p.op.unlock()
	for _, c := range m.podContainers(p.id) {
		if err := m.RemoveContainer(ctx, c.snapshot().ID); err != nil {
			return fmt.Errorf("removing container %s: %w", c.snapshot().ID, err)
		}
	}
	if err := m.destroyPod(ctx, p); err != nil {
		return err
	}
	klog.FromContext(ctx).Info("Pod sandbox removed", logkeys.PodSandboxID, p.id)
	m.publish(EventDeleted, p.id, p.id)
	return nil
}

// stopPodTask kills and deletes the sandbox task, tolerating a task or
// shim that is already gone.
func (m *Manager) stopPodTask(ctx context.Context, p *pod) error {
	s := p.getShim()
	if s == nil {
		return nil
	}
	id := p.id
	if err := s.Kill(ctx, id, "", sigkill, true); err != nil && !gone(err) {
		return fmt.Errorf("killing the sandbox task: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, taskExitTimeout)
	defer cancel()
	if _, err := s.Wait(wctx, id, ""); err != nil && !gone(err) {
		return fmt.Errorf("waiting for the sandbox task: %w", err)
	}
	if _, err := s.Delete(ctx, id, ""); err != nil && !gone(err) {
		return fmt.Errorf("deleting the sandbox task: %w", err)
	}
	return nil
}

// releasePodShim asks the pod's shim to exit and closes the connection.
// A shim that died is cleaned up with its delete subcommand.
func (m *Manager) releasePodShim(ctx context.Context, p *pod) error {
	rec := p.snapshot()
	conn := p.takeShim(shimReleased, nil)
	if conn == nil {
		if rec.Shim.Address == "" {
			return nil
		}
		return m.cleanupDeadShim(ctx, rec)
	}
	// Requests still using the connection (an exec whose process died
	// with its container, a stats call) end before it closes.
	conn.awaitUsers(ctx)
	s := conn.Shim
	err := s.Shutdown(ctx)
	if err != nil && !gone(err) {
		_ = s.Close()
		return fmt.Errorf("shutting down the shim: %w", err)
	}
	if err == nil {
		m.awaitShimExit(ctx, s)
	}
	_ = s.Close()
	if err != nil {
		return m.cleanupDeadShim(ctx, rec)
	}
	return m.updatePod(p, fields(func(r *PodRecord) { r.Shim, r.ShimPid = shim.Address{}, 0 }))
}

// shimExitTimeout bounds the wait for a shim that acknowledged Shutdown.
const shimExitTimeout = 5 * time.Second

// awaitShimExit waits for a shim told to shut down to go, and kills it
// if it lingers: a shim that still holds a task answers Shutdown yet
// stays, and nothing else would ever end it.
func (m *Manager) awaitShimExit(ctx context.Context, s shim.Shim) {
	select {
	case <-s.Done():
		return
	case <-time.After(shimExitTimeout):
	case <-ctx.Done():
	}
	if pid := s.Pid(); pid > 0 {
		klog.FromContext(ctx).Info("The shim did not exit after Shutdown; killing it", logkeys.ShimPid, pid)
		if err := killProcess(pid); err != nil {
			klog.FromContext(ctx).Error(err, "Killing a lingering shim", logkeys.ShimPid, pid)
		}
	}
}

// deleteContainerTasks deletes the tasks of a pod's stopped containers,
// so that the shim holds none when it is told to shut down.
func (m *Manager) deleteContainerTasks(ctx context.Context, p *pod) error {
	s := p.getShim()
	if s == nil {
		return nil
	}
	for _, c := range m.podContainers(p.id) {
		_, err := s.Delete(ctx, c.id, "")
		if errdefs.IsFailedPrecondition(err) {
			// Still running although recorded otherwise: end it.
			_ = s.Kill(ctx, c.id, "", sigkill, true)
			wctx, cancel := context.WithTimeout(ctx, taskExitTimeout)
			_, _ = s.Wait(wctx, c.id, "")
			cancel()
			_, err = s.Delete(ctx, c.id, "")
		}
		if err != nil && !gone(err) {
			return fmt.Errorf("deleting the task of container %s: %w", c.id, err)
		}
	}
	return nil
}

// cleanupDeadShim runs the shim's delete subcommand for a pod whose shim
// is gone and forgets its address.
func (m *Manager) cleanupDeadShim(ctx context.Context, rec PodRecord) error {
	// The delete subcommand releases one task: each container's, then the
	// sandbox's.
	for _, c := range m.podContainers(rec.ID) {
		if _, err := m.shims.Cleanup(ctx, rec.ShimBin, m.dirs.containerBundle(c.id), c.id); err != nil && !gone(err) {
			klog.FromContext(ctx).V(2).Info("Shim cleanup of a container task reported an error", logkeys.ContainerID, c.id, "err", err)
		}
	}
	if _, err := m.shims.Cleanup(ctx, rec.ShimBin, m.dirs.podBundle(rec.ID), rec.ID); err != nil && !gone(err) {
		klog.FromContext(ctx).V(2).Info("Shim cleanup reported an error", logkeys.PodSandboxID, rec.ID, "err", err)
	}
	p, err := m.getPod(rec.ID)
	if err != nil {
		return nil
	}
	return m.updatePod(p, fields(func(r *PodRecord) { r.Shim, r.ShimPid = shim.Address{}, 0 }))
}

// gone reports errors that mean the thing to stop is already gone.
func gone(err error) bool {
	return errdefs.IsNotFound(err) || errdefs.IsUnavailable(err)
}
