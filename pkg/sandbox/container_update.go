package sandbox

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/crilog/logger"
	"github.com/wincri/wincri/pkg/logkeys"
)

// UpdateContainerResources replaces a container's resources: a running
// task is updated in place, a created one starts with them.
func (m *Manager) UpdateContainerResources(ctx context.Context, id string, r *runtime.ContainerResources, annotations map[string]string) error {
	c, err := m.lockContainer(ctx, id)
	if err != nil {
		return err
	}
	defer c.op.unlock()
	rec := c.snapshot()
	if rec.State != ContainerCreated && rec.State != ContainerRunning {
		return fmt.Errorf("container %s is %s; only a created or running container can be updated: %w", rec.ID, rec.State, errdefs.ErrFailedPrecondition)
	}
	var spec specs.Spec
	if err := json.Unmarshal(rec.Spec, &spec); err != nil {
		return fmt.Errorf("container %s: decoding its spec: %w", rec.ID, err)
	}
	res, err := m.plat.UpdateResources(ctx, &spec, r)
	if err != nil {
		return err
	}
	specJSON, err := json.Marshal(&spec)
	if err != nil {
		return err
	}
	raw, err := proto.Marshal(r)
	if err != nil {
		return err
	}
	if rec.State == ContainerRunning {
		p, err := m.getPod(rec.PodID)
		if err != nil {
			return err
		}
		s := p.getShim()
		if s == nil {
			return fmt.Errorf("container %s: its shim is gone: %w", rec.ID, errdefs.ErrUnavailable)
		}
		if err := s.Update(ctx, rec.ID, res, annotations); err != nil {
			return fmt.Errorf("updating container %s: %w", rec.ID, err)
		}
	} else if err := writeSpec(m.dirs.containerBundle(rec.ID), &spec); err != nil {
		return err
	}
	if err := m.updateContainer(c, fields(func(r *ContainerRecord) { r.Spec, r.UpdatedResources = specJSON, raw })); err != nil {
		return err
	}
	klog.FromContext(ctx).Info("Container resources updated", logkeys.ContainerID, rec.ID)
	return nil
}

// ReopenContainerLog makes a running container's logging process reopen
// its log file, after kubelet rotated it.
func (m *Manager) ReopenContainerLog(ctx context.Context, id string) error {
	c, err := m.getContainer(id)
	if err != nil {
		return err
	}
	rec := c.snapshot()
	if rec.State != ContainerRunning {
		return fmt.Errorf("container %s is not running: %w", rec.ID, errdefs.ErrFailedPrecondition)
	}
	if rec.LogPath == "" {
		return fmt.Errorf("container %s has no log path: %w", rec.ID, errdefs.ErrFailedPrecondition)
	}
	return logger.Reopen(ctx, m.dirs.loggerState(), rec.ID)
}
