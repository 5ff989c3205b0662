package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/isolation"
	"github.com/wincri/wincri/pkg/shim"
)

type windowsPlatform struct {
	dirs dirs
}

// NewPlatform returns the Windows platform: runhcs specs and scratch
// layers over the image's Windows layers.
func NewPlatform(d dirs) Platform { return &windowsPlatform{dirs: d} }

func (w *windowsPlatform) PodSpec(ctx context.Context, in PodInput) (*specs.Spec, []shim.Mount, error) {
	if in.SandboxImage == nil {
		return nil, nil, fmt.Errorf("[image] sandbox_image must name a Windows pause image: %w", errdefs.ErrFailedPrecondition)
	}
	scratch := filepath.Join(w.dirs.podLayer(in.ID), "scratch")
	layers := isolation.WindowsLayers{Scratch: scratch, Parents: in.SandboxImage.LayerPaths}
	if err := createScratch(layers); err != nil {
		return nil, nil, err
	}
	cfg := in.SandboxImage.Config.Config
	task, err := isolation.BuildWindowsSandbox(isolation.WindowsSandbox{
		ID: in.ID, Config: in.Config, Handler: in.Handler, NetworkNamespace: in.NetNS, Image: &cfg, Layers: layers,
	})
	if err != nil {
		return nil, nil, err
	}
	return task.Spec, task.Rootfs, nil
}

func (w *windowsPlatform) CleanupPod(ctx context.Context, podID string) error {
	return os.RemoveAll(w.dirs.podLayer(podID))
}

func (w *windowsPlatform) ContainerSpec(ctx context.Context, in ContainerInput) (*specs.Spec, []shim.Mount, error) {
	scratch := filepath.Join(w.dirs.containerLayer(in.ID), "scratch")
	layers := isolation.WindowsLayers{Scratch: scratch, Parents: in.Image.LayerPaths}
	if err := createScratch(layers); err != nil {
		return nil, nil, err
	}
	cfg := in.Image.Config.Config
	task, err := isolation.BuildWindowsContainer(isolation.WindowsContainer{
		ID: in.ID, SandboxID: in.Pod.ID, Config: in.Config, Image: &cfg, Pod: in.PodConfig,
		Handler: in.Handler, NetworkNamespace: in.Pod.NetNS, Layers: layers,
		HostPath: prepareHostPath,
	})
	if err != nil {
		return nil, nil, err
	}
	if size := isolation.ScratchSize(in.Config); size > 0 {
		if err := expandScratch(scratch, size); err != nil {
			return nil, nil, err
		}
	}
	return task.Spec, task.Rootfs, nil
}

// CleanupContainer has nothing to release: the shim detaches the scratch
// layer when it deletes the task, and the manager removes its folder.
func (w *windowsPlatform) CleanupContainer(context.Context, string) error { return nil }

func (w *windowsPlatform) UpdateResources(ctx context.Context, spec *specs.Spec, r *runtime.ContainerResources) (typeurl.Any, error) {
	if r.GetWindows() == nil {
		return nil, fmt.Errorf("windows resources must be set: %w", errdefs.ErrInvalidArgument)
	}
	if r.GetWindows().GetRootfsSizeInBytes() != 0 {
		return nil, fmt.Errorf("rootfs_size_in_bytes sizes the scratch disk when the container is created; a created container's cannot change: %w", errdefs.ErrInvalidArgument)
	}
	res, err := isolation.WindowsResources(r.GetWindows())
	if err != nil {
		return nil, err
	}
	if spec.Windows == nil {
		spec.Windows = &specs.Windows{}
	}
	spec.Windows.Resources = res
	return isolation.MarshalWindowsResources(res)
}

// createScratch makes a writable layer folder over parents (topmost
// first): a copy of the base layer's blank.vhdx as sandbox.vhdx and the
// layer chain, as the Windows layer format expects.
func createScratch(l isolation.WindowsLayers) error {
	if len(l.Parents) == 0 {
		return fmt.Errorf("the image has no layers: %w", errdefs.ErrInvalidArgument)
	}
	if err := os.MkdirAll(l.Scratch, 0o700); err != nil {
		return err
	}
	base := l.Parents[len(l.Parents)-1]
	if err := copyFile(filepath.Join(base, "blank.vhdx"), filepath.Join(l.Scratch, "sandbox.vhdx")); err != nil {
		return fmt.Errorf("creating the scratch layer from %s: %w", base, err)
	}
	chain, err := json.Marshal(l.Parents)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(l.Scratch, "layerchain.json"), chain, 0o600)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
