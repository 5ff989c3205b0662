package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/containerd/errdefs"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/isolation"
	"github.com/wincri/wincri/pkg/logkeys"
	"github.com/wincri/wincri/pkg/shim"
	"github.com/wincri/wincri/pkg/store"
)

// Recover loads pods and containers from the store and reconciles them
// with their shims: running tasks stay running, tasks that exited while
// wincri was down are recorded with their real exit, a shim that is gone
// marks its containers exited and its pod NotReady, and whatever an
// interrupted request left half done is undone. Call it once, before
// serving requests.
func (m *Manager) Recover(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	pods, bad, err := store.Load[PodRecord](m.db, bucketPods)
	if err != nil {
		return fmt.Errorf("loading state: %w", err)
	}
	ctrs, badCtrs, err := store.Load[ContainerRecord](m.db, bucketContainers)
	if err != nil {
		return fmt.Errorf("loading state: %w", err)
	}
	for _, q := range append(bad, badCtrs...) {
		logQuarantined(logger, q.Bucket, q.Key, errors.New(q.Reason))
	}
	pods = slices.DeleteFunc(pods, func(rec PodRecord) bool {
		return m.quarantineUnless(logger, bucketPods, rec.ID, m.loadPod(rec))
	})
	ctrs = slices.DeleteFunc(ctrs, func(rec ContainerRecord) bool {
		return m.quarantineUnless(logger, bucketContainers, rec.ID, m.loadContainer(rec))
	})
	for _, rec := range pods {
		p, _ := m.getPod(rec.ID)
		m.reconnectPod(ctx, p)
	}
	for _, rec := range ctrs {
		c, _ := m.getContainer(rec.ID)
		m.reconcileContainer(ctx, c)
	}
	// Undo what requests interrupted by a crash left: containers first,
	// as a half-created pod may hold some.
	for _, rec := range ctrs {
		if rec.State == ContainerCreating {
			c, _ := m.getContainer(rec.ID)
			if err := m.destroyContainer(ctx, c); err != nil {
				logger.Error(err, "Cleaning up an interrupted container creation", logkeys.ContainerID, rec.ID)
			}
		}
	}
	for _, rec := range pods {
		if rec.State == PodCreating {
			p, _ := m.getPod(rec.ID)
			if err := m.destroyPod(ctx, p); err != nil {
				logger.Error(err, "Cleaning up an interrupted pod sandbox creation", logkeys.PodSandboxID, rec.ID)
			}
		}
	}
	m.removeOrphans(ctx)
	logger.Info("State recovered", "pods", len(m.ListPods(PodFilter{})), "containers", len(m.ListContainers(ContainerFilter{})))
	return nil
}

// quarantineUnless moves a record that failed to load (err) aside and
// reports whether it did: one bad record never stops the recovery of the
// others, and is kept for an operator to look at.
func (m *Manager) quarantineUnless(logger klog.Logger, bucket, id string, err error) bool {
	if err == nil {
		return false
	}
	if _, qerr := m.db.Quarantine(bucket, id, err.Error()); qerr != nil {
		logger.Error(qerr, "Moving an unusable state record to the quarantine bucket", "bucket", bucket, "key", id)
	}
	logQuarantined(logger, bucket, id, err)
	return true
}

func logQuarantined(logger klog.Logger, bucket, key string, err error) {
	logger.Error(err, "A state record is unusable; it was moved to the quarantine bucket and the rest recovered", "bucket", bucket, "key", key)
}

func (m *Manager) loadPod(rec PodRecord) error {
	cfg, err := decodePodConfig(rec.Config)
	if err != nil {
		return fmt.Errorf("pod sandbox %s: %w", rec.ID, err)
	}
	p := &pod{id: rec.ID, rec: rec, cfg: cfg}
	p.handler, p.handlerErr = isolation.ResolveOn(m.cfg, rec.Handler, m.host)
	if p.handlerErr != nil {
		// The pod runs on; only new containers need the handler.
		p.handlerErr = fmt.Errorf("pod sandbox %s was run with runtime handler %q, which the configuration no longer has: %w", rec.ID, rec.Handler, errdefs.ErrFailedPrecondition)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pods[rec.ID] = p
	m.podNames[podNameKey(cfg.GetMetadata())] = rec.ID
	return nil
}

func (m *Manager) loadContainer(rec ContainerRecord) error {
	cfg, err := decodeContainerConfig(rec.Config)
	if err != nil {
		return fmt.Errorf("container %s: %w", rec.ID, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ctrs[rec.ID] = &container{id: rec.ID, rec: rec, cfg: cfg}
	m.ctrNames[containerNameKey(rec.PodID, cfg.GetMetadata())] = rec.ID
	return nil
}

// reconnectPod reattaches a pod to its shim; a shim that is gone is
// cleaned up and the pod reported NotReady.
func (m *Manager) reconnectPod(ctx context.Context, p *pod) {
	rec := p.snapshot()
	logger := klog.FromContext(ctx).WithValues(logkeys.PodSandboxID, rec.ID)
	if rec.Shim.Address == "" && rec.State == PodCreating {
		// The shim starts beside the network setup: wincri may have died
		// after the launch and before the record. The bundle knows.
		if addr, err := shim.LaunchedAddress(m.dirs.podBundle(rec.ID)); err == nil {
			logger.Info("Found the shim an interrupted pod creation launched", "address", addr.Address)
			if err := m.updatePod(p, fields(func(r *PodRecord) { r.Shim = addr })); err != nil {
				logger.Error(err, "Recording the shim of an interrupted pod creation")
			}
			rec = p.snapshot()
		}
	}
	if rec.Shim.Address == "" {
		// A ready pod always has a shim; one without was being stopped
		// or removed when wincri died.
		m.podTaskExited(p, shimDiedExitCode, time.Now())
		return
	}
	s, err := m.shims.Connect(ctx, rec.Shim)
	if err != nil {
		logger.Info("The pod's shim is gone", "err", err)
		m.podTaskExited(p, shimDiedExitCode, time.Now())
		if err := m.cleanupDeadShim(ctx, rec); err != nil {
			logger.Error(err, "Cleaning up the pod's dead shim")
		}
		return
	}
	p.setShim(s)
	m.watchShim(p, s)
	if rec.State != PodReady {
		return
	}
	st, err := s.State(ctx, rec.ID, "")
	switch {
	case err != nil && gone(err):
		m.podTaskExited(p, shimDiedExitCode, time.Now())
	case err != nil:
		logger.Error(err, "Reading the sandbox task state")
	case st.Status == shim.StatusStopped:
		m.podTaskExited(p, int32(st.ExitStatus), st.ExitedAt)
	}
}

// reconcileContainer matches a running container's record with its task.
func (m *Manager) reconcileContainer(ctx context.Context, c *container) {
	rec := c.snapshot()
	if rec.State != ContainerRunning {
		return
	}
	c.mu.Lock()
	c.exited = make(chan struct{})
	c.mu.Unlock()
	var s shim.Shim
	if p, err := m.getPod(rec.PodID); err == nil {
		s = p.getShim()
	}
	if s == nil {
		m.containerExited(c, shimDiedExitCode, time.Now(), ReasonShimDied, "the container's shim process was gone when wincri restarted")
		return
	}
	st, err := s.State(ctx, rec.ID, "")
	switch {
	case err != nil && gone(err):
		m.containerExited(c, shimDiedExitCode, time.Now(), ReasonError, "the container's task was gone when wincri restarted")
	case err != nil:
		klog.FromContext(ctx).Error(err, "Reading a container's task state", logkeys.ContainerID, rec.ID)
	case st.Status == shim.StatusStopped:
		m.containerExited(c, int32(st.ExitStatus), st.ExitedAt, "", "")
	}
}

// removeOrphans deletes bundles, writable layers and network state that
// no record owns: what a crash between a side effect and its record left
// behind.
func (m *Manager) removeOrphans(ctx context.Context) {
	logger := klog.FromContext(ctx)
	m.mu.RLock()
	pods := make(map[string]bool, len(m.pods))
	for id := range m.pods {
		pods[id] = true
	}
	ctrs := make(map[string]bool, len(m.ctrs))
	for id := range m.ctrs {
		ctrs[id] = true
	}
	m.mu.RUnlock()
	for _, id := range listDir(m.dirs.containerBundle("")) {
		if !ctrs[id] {
			logger.Info("Removing an orphaned container", logkeys.ContainerID, id)
			if err := m.plat.CleanupContainer(ctx, id); err != nil {
				logger.Error(err, "Removing an orphaned container layer", logkeys.ContainerID, id)
			}
			_ = os.RemoveAll(m.dirs.containerBundle(id))
		}
	}
	for _, id := range listDir(m.dirs.containerLayer("")) {
		if !ctrs[id] {
			err := m.plat.CleanupContainer(ctx, id)
			if err == nil {
				err = m.trash.remove(m.dirs.containerLayer(id))
			}
			if err != nil {
				logger.Error(err, "Removing an orphaned container layer", logkeys.ContainerID, id)
			}
		}
	}
	m.trash.empty()
	for _, id := range listDir(m.dirs.podLayer("")) {
		if !pods[id] {
			_ = os.RemoveAll(m.dirs.podLayer(id))
		}
	}
	for _, id := range listDir(m.dirs.podBundle("")) {
		if !pods[id] {
			logger.Info("Removing an orphaned pod bundle", logkeys.PodSandboxID, id)
			if err := m.plat.CleanupPod(ctx, id); err != nil {
				logger.Error(err, "Cleaning up an orphaned pod", logkeys.PodSandboxID, id)
			}
			_ = os.RemoveAll(m.dirs.podBundle(id))
		}
	}
	if err := m.network.GC(ctx, m.podIDs); err != nil {
		logger.Error(err, "Removing the network state of gone pods")
	}
}

func listDir(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
