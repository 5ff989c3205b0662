package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/isolation"
	"github.com/wincri/wincri/pkg/shim"
)

// pauseBinary is wincri's own executable inside the shared pause rootfs;
// its "pause" subcommand holds a pod's namespaces.
const pauseBinary = "wincri"

// imageVolumesDir holds a container's image volume mounts in its bundle.
const imageVolumesDir = "imagevolumes"

type linuxPlatform struct {
	dirs dirs
	// node is where a pod's hosts and resolv.conf come from.
	node nodeFiles
	// pauseExe is the executable installed as the pause process; ""
	// means wincri's own.
	pauseExe  string
	pauseOnce sync.Once
	pauseErr  error
}

// NewPlatform returns the Linux platform: runc specs, overlay root file
// systems and wincri's own pause process.
func NewPlatform(d dirs) Platform { return &linuxPlatform{dirs: d, node: theNode()} }

func (l *linuxPlatform) PodSpec(ctx context.Context, in PodInput) (*specs.Spec, []shim.Mount, error) {
	hostIPC := in.Config.GetLinux().GetSecurityContext().GetNamespaceOptions().GetIpc() == runtime.NamespaceMode_NODE
	files, err := writePodFiles(in.Bundle, in.Config, l.node)
	if err != nil {
		return nil, nil, err
	}
	if hostIPC {
		files.ShmPath = ""
	} else if err := mountPodShm(files.ShmPath); err != nil {
		return nil, nil, err
	}
	rootfs, args, err := l.sandboxRootfs(in)
	if err != nil {
		return nil, nil, err
	}
	floor, restrict := oomScoreAdjFloor()
	spec, err := isolation.LinuxSandboxSpec(ctx, isolation.LinuxSandboxInput{
		ID:                  in.ID,
		Config:              in.Config,
		NetNSPath:           in.NetNS,
		PauseArgs:           args,
		RootfsPath:          rootfs,
		Files:               files,
		RestrictOOMScoreAdj: restrict,
		OOMScoreAdjFloor:    floor,
	})
	return spec, nil, err
}

func (l *linuxPlatform) CleanupPod(ctx context.Context, podID string) error {
	bundle := l.dirs.podBundle(podID)
	if err := unmount(filepath.Join(bundle, "rootfs")); err != nil {
		return err
	}
	if err := unmountPodShm(filepath.Join(bundle, shmDir)); err != nil {
		return err
	}
	return os.RemoveAll(l.dirs.podLayer(podID))
}

// sandboxRootfs is the pause process's root and command: the configured
// sandbox image mounted read-only, else wincri's own pause.
func (l *linuxPlatform) sandboxRootfs(in PodInput) (string, []string, error) {
	if in.SandboxImage == nil {
		rootfs, err := l.pauseRootfs()
		return rootfs, []string{"/" + pauseBinary, "pause"}, err
	}
	args, err := isolation.ContainerArgs(nil, nil, in.SandboxImage.Config.Config)
	if err != nil {
		return "", nil, fmt.Errorf("sandbox image: %w", err)
	}
	// Writable, like a container's root: runc creates the mount points
	// (/proc, /dev, /sys) an image need not have.
	rootfs := filepath.Join(in.Bundle, "rootfs")
	if err := mountOverlay(l.dirs.podLayer(in.ID), in.SandboxImage.LayerPaths, rootfs); err != nil {
		return "", nil, err
	}
	return rootfs, args, nil
}

// mountReadOnly mounts image layers (topmost first) read-only at target.
func mountReadOnly(layers []string, target string) error {
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	switch len(layers) {
	case 0:
		return fmt.Errorf("the sandbox image has no layers: %w", errdefs.ErrInvalidArgument)
	case 1:
		if err := unix.Mount(layers[0], target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("mounting the sandbox image: %w", err)
		}
		if err := unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			_ = unmount(target)
			return fmt.Errorf("mounting the sandbox image read-only: %w", err)
		}
		return nil
	default:
		opts := "lowerdir=" + strings.Join(layers, ":")
		if err := unix.Mount("overlay", target, "overlay", unix.MS_RDONLY, opts); err != nil {
			return fmt.Errorf("mounting the sandbox image: %w", err)
		}
		return nil
	}
}

// pauseRootfsDir holds the Linux pause process's read-only rootfs.
func (d dirs) pauseRootfsDir() string { return filepath.Join(d.root, "pause") }

// pauseRootfs makes the read-only rootfs that every pod's pause process
// shares: a directory holding a copy of this very executable.
func (l *linuxPlatform) pauseRootfs() (string, error) {
	dir := l.dirs.pauseRootfsDir()
	l.pauseOnce.Do(func() { l.pauseErr = installPause(dir, l.pauseExe) })
	return dir, l.pauseErr
}

func installPause(dir, self string) error {
	if self == "" {
		var err error
		if self, err = os.Executable(); err != nil {
			return fmt.Errorf("finding wincri's executable for the pause process: %w", err)
		}
	}
	if err := checkStatic(self); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	src, err := os.Open(self)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(dir, ".pause-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return fmt.Errorf("installing the pause binary: %w", err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, pauseBinary))
}

// oomScoreAdjFloor is wincri's own oom_score_adj: without
// CAP_SYS_RESOURCE runc cannot set a lower one.
func oomScoreAdjFloor() (int, bool) {
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return 0, false
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, false
	}
	return v, true
}

func (l *linuxPlatform) ContainerSpec(ctx context.Context, in ContainerInput) (*specs.Spec, []shim.Mount, error) {
	rootfs := filepath.Join(in.Bundle, "rootfs")
	if err := mountOverlay(l.dirs.containerLayer(in.ID), in.Image.LayerPaths, rootfs); err != nil {
		return nil, nil, err
	}
	volumes, err := l.mountImageVolumes(in)
	if err != nil {
		return nil, nil, err
	}
	ns := isolation.ContainerNamespaces{SandboxPid: in.Pod.Pid, TargetPid: in.TargetPid}
	floor, restrict := oomScoreAdjFloor()
	files := podFiles(l.dirs.podBundle(in.Pod.ID))
	if in.PodConfig.GetLinux().GetSecurityContext().GetNamespaceOptions().GetIpc() == runtime.NamespaceMode_NODE {
		files.ShmPath = ""
	}
	spec, err := isolation.LinuxContainerSpec(ctx, isolation.LinuxContainerInput{
		ID:                  in.ID,
		SandboxID:           in.Pod.ID,
		Config:              in.Config,
		SandboxConfig:       in.PodConfig,
		ImageName:           in.Config.GetImage().GetImage(),
		ImageConfig:         in.Image.Config.Config,
		RootfsPath:          rootfs,
		Namespaces:          ns,
		Files:               files,
		ImageVolumes:        volumes,
		RestrictOOMScoreAdj: restrict,
		OOMScoreAdjFloor:    floor,
	})
	return spec, nil, err
}

// mountOverlay mounts image layers (topmost first) at target under a
// writable layer kept in the layer directory.
func mountOverlay(layer string, layers []string, target string) error {
	upper, work := filepath.Join(layer, "upper"), filepath.Join(layer, "work")
	for _, d := range []string{upper, work, target} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if len(layers) == 0 {
		empty := filepath.Join(layer, "empty")
		if err := os.MkdirAll(empty, 0o755); err != nil {
			return err
		}
		layers = []string{empty}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(layers, ":"), upper, work)
	if len(opts) >= os.Getpagesize() {
		return fmt.Errorf("the image has too many layers (%d) for one overlay mount: %w", len(layers), errdefs.ErrNotImplemented)
	}
	if err := unix.Mount("overlay", target, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mounting the container's root file system: %w", err)
	}
	return nil
}

// mountImageVolumes mounts each image volume read-only under the
// bundle and maps its container path to that directory.
func (l *linuxPlatform) mountImageVolumes(in ContainerInput) (map[string]string, error) {
	if len(in.ImageVolumes) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(in.ImageVolumes))
	i := 0
	for path, img := range in.ImageVolumes {
		dir := filepath.Join(in.Bundle, imageVolumesDir, strconv.Itoa(i))
		i++
		if err := mountReadOnly(img.LayerPaths, dir); err != nil {
			return nil, fmt.Errorf("image volume at %s: %w", path, err)
		}
		out[path] = dir
	}
	return out, nil
}

func (l *linuxPlatform) CleanupContainer(ctx context.Context, id string) error {
	bundle := l.dirs.containerBundle(id)
	for _, name := range listDir(filepath.Join(bundle, imageVolumesDir)) {
		if err := unmount(filepath.Join(bundle, imageVolumesDir, name)); err != nil {
			return err
		}
	}
	return unmount(filepath.Join(bundle, "rootfs"))
}

func (l *linuxPlatform) UpdateResources(ctx context.Context, spec *specs.Spec, r *runtime.ContainerResources) (typeurl.Any, error) {
	if r.GetLinux() == nil {
		return nil, fmt.Errorf("linux resources must be set: %w", errdefs.ErrInvalidArgument)
	}
	res, dropped, err := isolation.LinuxResources(r.GetLinux(), isolation.NodeHost{}.Cgroups())
	if err != nil {
		return nil, err
	}
	if len(dropped) > 0 {
		klog.FromContext(ctx).V(2).Info("Dropping resource limits the node cannot enforce", "dropped", dropped)
	}
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	if spec.Linux.Resources != nil {
		res.Devices = spec.Linux.Resources.Devices
	}
	spec.Linux.Resources = res
	return shim.LinuxResources(res)
}

// unmount detaches every mount at path; nothing mounted is fine.
func unmount(path string) error {
	for {
		err := unix.Unmount(path, unix.MNT_DETACH)
		switch {
		case err == nil:
			continue // stacked mounts
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
			return nil
		default:
			return fmt.Errorf("unmounting %s: %w", path, err)
		}
	}
}
