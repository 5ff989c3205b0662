package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/containerd/errdefs"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/crilog"
	"github.com/wincri/wincri/pkg/crilog/logger"
	"github.com/wincri/wincri/pkg/faultpoint"
	"github.com/wincri/wincri/pkg/image"
	"github.com/wincri/wincri/pkg/isolation"
	"github.com/wincri/wincri/pkg/logkeys"
	"github.com/wincri/wincri/pkg/store"
)

// CreateContainer creates a container in a ready pod from a pulled image
// and returns its id. A retry of an identical request gets the same
// container.
func (m *Manager) CreateContainer(ctx context.Context, podID string, cfg *runtime.ContainerConfig) (string, error) {
	// The pod's lock is held throughout: the pod cannot stop under the
	// new container, and a retry of this request waits for its outcome.
	p, err := m.lockPod(ctx, podID)
	if err != nil {
		return "", err
	}
	defer p.op.unlock()
	prec := p.snapshot()
	if prec.State != PodReady {
		return "", fmt.Errorf("pod sandbox %s is not ready (%s): %w", prec.ID, prec.State, errdefs.ErrFailedPrecondition)
	}
	h, err := p.runtimeHandler()
	if err != nil {
		return "", err
	}
	if h.OS == isolation.OSWindows {
		if err := isolation.ValidateWindowsContainer(p.cfg, cfg, h); err != nil {
			return "", err
		}
	}
	// The image must suit the host (process) or the pod's utility VM
	// (hyperv); when only another variant is present, the one the pod
	// needs is pulled now.
	t, handlers, err := m.imageTarget(ctx, h, prec.UVMOSVersion)
	if err != nil {
		return "", err
	}
	img, err := m.images.ResolveFor(ctx, cfg.GetImage().GetImage(), t, handlers)
	if errdefs.IsNotFound(err) {
		return "", fmt.Errorf("the container's image is not present (pull it first): %w", err)
	}
	if err != nil {
		return "", err
	}
	volumes, err := m.imageVolumes(ctx, cfg)
	if err != nil {
		return "", err
	}
	targetPid, err := m.targetPid(prec.ID, cfg)
	if err != nil {
		return "", err
	}
	logPath, err := containerLogPath(p.cfg, cfg)
	if err != nil {
		return "", err
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("encoding container config: %w", err)
	}
	rec := ContainerRecord{
		PodID:      prec.ID,
		Config:     raw,
		State:      ContainerCreating,
		CreatedAt:  time.Now(),
		ImageRef:   cfg.GetImage().GetImage(),
		ImageID:    img.ID,
		ImageName:  imageName(img, cfg.GetImage().GetImage()),
		LogPath:    logPath,
		StopSignal: img.Config.Config.StopSignal,
	}
	for path, v := range volumes {
		if rec.ImageVolumes == nil {
			rec.ImageVolumes = map[string]string{}
		}
		rec.ImageVolumes[path] = v.ID
	}
	if len(img.RepoDigests) > 0 {
		rec.RepoDigest = img.RepoDigests[0]
	}
	c, retry, err := m.reserveContainer(cfg, rec)
	if err != nil {
		return "", err
	}
	if retry {
		return c.id, nil
	}
	defer c.op.unlock()

	ctx, cancel := detach(ctx, m.buildTimeout)
	defer cancel()
	id := c.id
	logger := klog.FromContext(ctx).WithValues(logkeys.ContainerID, id, logkeys.PodSandboxID, prec.ID, logkeys.ContainerName, cfg.GetMetadata().GetName())
	ctx = klog.NewContext(ctx, logger)
	if err := m.db.Update(func(tx *store.Tx) error { return tx.Put(bucketContainers, id, c.snapshot()) }); err != nil {
		m.forgetContainer(id)
		return "", fmt.Errorf("recording container: %w", err)
	}
	if err := m.buildContainer(ctx, c, p, h, img, volumes, targetPid); err != nil {
		cctx, cancel := m.cleanupContext(ctx)
		defer cancel()
		if uerr := m.destroyContainer(cctx, c); uerr != nil {
			logger.Error(uerr, "Undoing the failed container left something behind; recovery retries at the next start")
		}
		return "", err
	}
	logger.Info("Container created", logkeys.ImageRef, rec.ImageRef)
	m.publish(EventCreated, id, prec.ID)
	return id, nil
}

// reserveContainer reserves the container's name in its pod; see
// reservePod. rec is the new container's record, without its id.
func (m *Manager) reserveContainer(cfg *runtime.ContainerConfig, rec ContainerRecord) (*container, bool, error) {
	key := containerNameKey(rec.PodID, cfg.GetMetadata())
	m.mu.Lock()
	defer m.mu.Unlock()
	if id, ok := m.ctrNames[key]; ok {
		holder := m.ctrs[id]
		if have := holder.snapshot(); bytes.Equal(have.Config, rec.Config) && have.State != ContainerCreating {
			return holder, true, nil
		}
		return nil, false, fmt.Errorf("container name %q in pod sandbox %s is reserved by container %s: %w", cfg.GetMetadata().GetName(), rec.PodID, id, errdefs.ErrAlreadyExists)
	}
	rec.ID = newID()
	c := &container{id: rec.ID, rec: rec, cfg: cfg}
	c.op.mustLock()
	m.ctrs[rec.ID] = c
	m.ctrNames[key] = rec.ID
	return c, false, nil
}

func (m *Manager) buildContainer(ctx context.Context, c *container, p *pod, h isolation.Handler, img *image.Image, volumes map[string]*image.Image, targetPid uint32) error {
	id := c.id
	bundle := m.dirs.containerBundle(id)
	if err := os.MkdirAll(bundle, 0o711); err != nil {
		return err
	}
	spec, mounts, err := m.plat.ContainerSpec(ctx, ContainerInput{
		ID: id, Config: c.cfg, Pod: p.snapshot(), PodConfig: p.cfg, Handler: h, Image: img, Bundle: bundle,
		ImageVolumes: volumes, TargetPid: targetPid,
	})
	if err != nil {
		return err
	}
	faultpoint.Hit(ctx, faultpoint.ContainerAfterRootfs)
	if err := writeSpec(bundle, spec); err != nil {
		return err
	}
	faultpoint.Hit(ctx, faultpoint.ContainerAfterSpec)
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	return m.updateContainer(c, fields(func(r *ContainerRecord) {
		r.Spec, r.Rootfs, r.State = specJSON, mounts, ContainerCreated
	}))
}

// destroyContainer removes a container's task, layer, bundle and record,
// tolerating what is already gone, and forgets it.
func (m *Manager) destroyContainer(ctx context.Context, c *container) error {
	rec := c.snapshot()
	c.mu.RLock()
	deleted := c.taskDeleted
	c.mu.RUnlock()
	if p, err := m.getPod(rec.PodID); err == nil && !deleted {
		if s := p.getShim(); s != nil {
			if _, err := s.Delete(ctx, rec.ID, ""); err != nil && !gone(err) {
				return fmt.Errorf("deleting task of container %s: %w", rec.ID, err)
			}
		}
	}
	faultpoint.Hit(ctx, faultpoint.ContainerAfterDelete)
	if err := m.plat.CleanupContainer(ctx, rec.ID); err != nil {
		return err
	}
	if err := m.trash.remove(m.dirs.containerLayer(rec.ID)); err != nil {
		return err
	}
	if err := logger.Cleanup(m.dirs.loggerState(), rec.ID); err != nil {
		return err
	}
	if err := m.trash.remove(m.dirs.containerStdio(rec.ID)); err != nil {
		return err
	}
	if err := m.trash.remove(m.dirs.containerBundle(rec.ID)); err != nil {
		return err
	}
	if err := m.db.Update(func(tx *store.Tx) error { return tx.Delete(bucketContainers, rec.ID) }); err != nil {
		return err
	}
	m.forgetContainer(rec.ID)
	return nil
}

func (m *Manager) forgetContainer(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.ctrNames {
		if v == id {
			delete(m.ctrNames, k)
		}
	}
	delete(m.ctrs, id)
}

// targetPid is the pid of the running container of the same pod whose
// pid namespace the new container asks to join; 0 for other modes.
func (m *Manager) targetPid(podID string, cfg *runtime.ContainerConfig) (uint32, error) {
	ns := cfg.GetLinux().GetSecurityContext().GetNamespaceOptions()
	if ns.GetPid() != runtime.NamespaceMode_TARGET {
		return 0, nil
	}
	target, err := m.getContainer(ns.GetTargetId())
	if err != nil {
		return 0, fmt.Errorf("namespace_options.target_id: %w", err)
	}
	rec := target.snapshot()
	if rec.PodID != podID || rec.State != ContainerRunning {
		return 0, fmt.Errorf("namespace_options.target_id: container %s is not running in pod sandbox %s: %w", rec.ID, podID, errdefs.ErrFailedPrecondition)
	}
	return rec.Pid, nil
}

// imageVolumes resolves the images of a container's image mounts, which
// must have been pulled.
func (m *Manager) imageVolumes(ctx context.Context, cfg *runtime.ContainerConfig) (map[string]*image.Image, error) {
	var out map[string]*image.Image
	for i, mnt := range cfg.GetMounts() {
		ref := mnt.GetImage().GetImage()
		if mnt.GetImage() == nil {
			continue
		}
		if ref == "" {
			return nil, fmt.Errorf("mounts[%d].image.image must be set for an image mount: %w", i, errdefs.ErrInvalidArgument)
		}
		img, err := m.images.Resolve(ctx, ref)
		if errdefs.IsNotFound(err) {
			return nil, fmt.Errorf("image %q of the mount at %s is not present: pull it first: %w", ref, mnt.GetContainerPath(), errdefs.ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = map[string]*image.Image{}
		}
		out[mnt.GetContainerPath()] = img
	}
	return out, nil
}

// containerLogPath is the container's log file, which must stay inside
// the pod's log directory; "" when the pod or container names none.
func containerLogPath(pod *runtime.PodSandboxConfig, cfg *runtime.ContainerConfig) (string, error) {
	if pod.GetLogDirectory() == "" || cfg.GetLogPath() == "" {
		return "", nil
	}
	p, err := crilog.ResolveLogPath(pod.GetLogDirectory(), cfg.GetLogPath())
	if err != nil {
		return "", fmt.Errorf("log_path: %w", err)
	}
	return p, nil
}

// imageName is the name a container's image is reported by: the first
// repo tag, else what the user asked for.
func imageName(img *image.Image, ref string) string {
	if len(img.RepoTags) > 0 {
		return img.RepoTags[0]
	}
	return ref
}
