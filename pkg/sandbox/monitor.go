package sandbox

import (
	"context"
	"time"

	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/logkeys"
	"github.com/wincri/wincri/pkg/shim"
)

// shimDiedExitCode is reported for containers whose shim died under them.
const shimDiedExitCode = 255

// handleEvent receives the shims' task events, in order, on the shim
// driver's event goroutine.
func (m *Manager) handleEvent(e shim.Event) {
	logger := m.logger.WithValues(logkeys.Topic, e.Topic, logkeys.TaskID, e.ContainerID)
	switch e.Topic {
	case shim.TopicTaskOOM:
		if c, err := m.getContainer(e.ContainerID); err == nil {
			if err := m.updateContainer(c, fields(func(r *ContainerRecord) { r.OOMKilled = true })); err != nil {
				logger.Error(err, "Recording an OOM kill")
			}
		}
	case shim.TopicTaskExit:
		if e.ExecID != "" && e.ExecID != e.ContainerID {
			return // exec processes are waited for by their caller
		}
		exitedAt := e.ExitedAt
		if exitedAt.IsZero() {
			exitedAt = time.Now()
		}
		if c, err := m.getContainer(e.ContainerID); err == nil {
			c.mu.RLock()
			stale := e.Pid != 0 && (e.Pid == c.stalePid || (c.rec.Pid != 0 && e.Pid != c.rec.Pid))
			c.mu.RUnlock()
			if stale {
				logger.V(2).Info("Ignoring the exit of a replaced task", "pid", e.Pid)
				return
			}
			m.containerExited(c, int32(e.ExitStatus), exitedAt, "", "")
			return
		}
		if p, err := m.getPod(e.ContainerID); err == nil {
			m.podTaskExited(p, int32(e.ExitStatus), exitedAt)
		}
	}
}

// containerExited records a container's exit once, releases its task in
// the shim and wakes whoever waits for it.
func (m *Manager) containerExited(c *container, code int32, at time.Time, reason, message string) {
	logger := m.logger.WithValues(logkeys.ContainerID, c.snapshot().ID)
	var first, startPending bool
	err := m.updateContainer(c, func(r *ContainerRecord) ([]EventType, error) {
		if r.State != ContainerRunning && r.State != ContainerCreated {
			return nil, errNoChange
		}
		first = true
		startPending = r.State == ContainerCreated && c.starting
		r.State, r.ExitCode, r.FinishedAt = ContainerExited, code, at
		switch {
		case reason != "":
			r.Reason, r.Message = reason, message
		case r.OOMKilled:
			r.Reason = ReasonOOMKilled
		case code == 0:
			r.Reason = ReasonCompleted
		default:
			r.Reason = ReasonError
		}
		return nil, nil
	})
	if err != nil {
		// Memory keeps what the store holds; the exit is recorded again
		// at the next start, from the shim's state.
		logger.Error(err, "Recording a container exit")
		return
	}
	if !first {
		return
	}
	rec := c.snapshot()
	logger.Info("Container exited", "exitCode", rec.ExitCode, "reason", rec.Reason)
	c.mu.Lock()
	exited := c.exited
	c.exited = nil
	c.mu.Unlock()
	if !startPending {
		m.publish(EventStopped, rec.ID, rec.PodID)
	}
	if reason == ReasonShimDied {
		closeExited(exited)
		return
	}
	// The task's record in the shim is no longer needed; deleting it lets
	// the pod's shim exit once the pod stops. Off the event goroutine;
	// whoever waits for the exit (StopContainer) waits for the deletion
	// too, so that RemoveContainer finds the task gone, as containerd
	// deletes a task before it reports its container stopped
	// (internal/cri/server/events.go, handleContainerExit).
	go func() {
		defer closeExited(exited)
		if !m.deleteTask(rec.PodID, rec.ID) {
			return
		}
		c.mu.Lock()
		c.taskDeleted = true
		c.mu.Unlock()
		// Nothing uses the root file system any more.
		ctx, cancel := context.WithTimeout(klog.NewContext(context.Background(), m.logger), taskExitTimeout)
		defer cancel()
		if err := m.plat.CleanupContainer(ctx, rec.ID); err != nil {
			m.logger.Error(err, "Releasing an exited container's mounts", logkeys.ContainerID, rec.ID)
		}
	}()
}

func closeExited(ch chan struct{}) {
	if ch != nil {
		close(ch)
	}
}

// deleteTask deletes an exited task in its pod's shim and reports
// whether it is gone from there.
func (m *Manager) deleteTask(podID, id string) bool {
	p, err := m.getPod(podID)
	if err != nil {
		return false
	}
	s, done, err := p.useShim()
	if err != nil {
		return false // the pod's stop or the shim's death deletes its tasks
	}
	defer done()
	ctx, cancel := context.WithTimeout(klog.NewContext(context.Background(), m.logger), taskExitTimeout)
	defer cancel()
	if _, err := s.Delete(ctx, id, ""); err != nil && !gone(err) {
		m.logger.Error(err, "Deleting an exited task", logkeys.ContainerID, id)
		return false
	}
	return true
}

// podTaskExited marks a pod whose sandbox task ended NotReady; kubelet
// then stops and recreates it.
func (m *Manager) podTaskExited(p *pod, code int32, at time.Time) {
	var changed bool
	err := m.updatePod(p, func(r *PodRecord) ([]EventType, error) {
		if r.State != PodReady {
			return nil, errNoChange
		}
		changed = true
		r.State, r.ExitCode, r.ExitedAt = PodNotReady, code, at
		return []EventType{EventStopped}, nil
	})
	if err != nil {
		m.logger.Error(err, "Recording a sandbox exit", logkeys.PodSandboxID, p.id)
		return
	}
	if changed {
		m.logger.Info("Pod sandbox task exited", logkeys.PodSandboxID, p.id, "exitCode", code)
	}
}

// watchShim notices a pod's shim dying: its running containers are
// reported exited with shimDiedExitCode, the pod NotReady, and the shim
// cleaned up. A shim released on purpose is no longer the pod's shim and
// is ignored. It holds the pod's operation lock throughout, so that a
// StopPodSandbox or RemovePodSandbox that follows finds the dead shim's
// tasks already deleted instead of racing with its cleanup.
func (m *Manager) watchShim(p *pod, s shim.Shim) {
	go func() {
		<-s.Done()
		if p.getShim() != s {
			return
		}
		p.op.mustLock()
		defer p.op.unlock()
		if p.takeShim(shimDied, s) == nil {
			return // released while the lock was awaited
		}
		rec := p.snapshot()
		logger := m.logger.WithValues(logkeys.PodSandboxID, rec.ID, logkeys.ShimPid, rec.ShimPid)
		logger.Info("The pod's shim died")
		now := time.Now()
		for _, c := range m.podContainers(rec.ID) {
			m.containerExited(c, shimDiedExitCode, now, ReasonShimDied, "the container's shim process died unexpectedly")
		}
		m.podTaskExited(p, shimDiedExitCode, now)
		_ = s.Close()
		ctx, cancel := context.WithTimeout(klog.NewContext(context.Background(), m.logger), m.cleanup)
		defer cancel()
		if err := m.cleanupDeadShim(ctx, rec); err != nil {
			logger.Error(err, "Cleaning up the dead shim")
		}
	}()
}
