package isolation

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Container paths of the files a pod's containers share with its sandbox.
const (
	etcHostname   = "/etc/hostname"
	etcHosts      = "/etc/hosts"
	etcResolvConf = "/etc/resolv.conf"
	devShm        = "/dev/shm"
)

// bindMount is a bind mount with the options runc expects.
func bindMount(src, dst string, readonly bool, propagation string) specs.Mount {
	mode := "rw"
	if readonly {
		mode = "ro"
	}
	return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: []string{"rbind", propagation, mode}}
}

// criMounts converts a container's CRI mounts into bind mounts, parents
// before children. Sources are resolved through symlinks and must exist;
// propagation other than private needs the source's host mount to
// propagate too, or runc cannot honour it, and may raise the rootfs
// propagation. Image volumes come from imageVolumes, keyed by container
// path, prepared by the image service.
func criMounts(spec *specs.Spec, in []*runtimeapi.Mount, host LinuxHost, imageVolumes map[string]string) ([]specs.Mount, error) {
	ordered := append([]*runtimeapi.Mount(nil), in...)
	sort.SliceStable(ordered, func(i, j int) bool {
		return pathDepth(ordered[i].GetContainerPath()) < pathDepth(ordered[j].GetContainerPath())
	})
	var out []specs.Mount
	for _, m := range ordered {
		dst := m.GetContainerPath()
		if !path.IsAbs(dst) {
			return nil, fmt.Errorf("mount container_path %q must be absolute: %w", dst, errdefs.ErrInvalidArgument)
		}
		dst = path.Clean(dst)
		if dst == "/" {
			return nil, fmt.Errorf("a volume cannot be mounted over the container's root: %w", errdefs.ErrInvalidArgument)
		}
		if len(m.GetUidMappings()) > 0 || len(m.GetGidMappings()) > 0 {
			return nil, fmt.Errorf("mount %q: ID-mapped mounts: %w", dst, errdefs.ErrNotImplemented)
		}
		extra, err := extraMountOptions(m.GetMountOptions())
		if err != nil {
			return nil, fmt.Errorf("mount %q: %w", dst, err)
		}
		if m.GetImage() != nil {
			mnt, err := imageVolumeMount(m, dst, imageVolumes)
			if err != nil {
				return nil, err
			}
			mnt.Options = append(mnt.Options, extra...)
			out = append(out, mnt)
			continue
		}
		if m.GetHostPath() == "" {
			return nil, fmt.Errorf("mount %q has no host_path: %w", dst, errdefs.ErrInvalidArgument)
		}
		src, err := host.ResolvePath(m.GetHostPath())
		if err != nil {
			return nil, fmt.Errorf("mount %q: %w", dst, err)
		}
		prop, err := mountPropagation(spec, m, src, host)
		if err != nil {
			return nil, fmt.Errorf("mount %q: %w", dst, err)
		}
		mnt := bindMount(src, dst, m.GetReadonly(), prop)
		if m.GetRecursiveReadOnly() {
			if !m.GetReadonly() {
				return nil, fmt.Errorf("mount %q: recursive_read_only needs readonly: %w", dst, errdefs.ErrInvalidArgument)
			}
			if m.GetPropagation() != runtimeapi.MountPropagation_PROPAGATION_PRIVATE {
				return nil, fmt.Errorf("mount %q: recursive_read_only needs private propagation, got %v: %w", dst, m.GetPropagation(), errdefs.ErrInvalidArgument)
			}
			mnt.Options[2] = "rro"
		}
		mnt.Options = append(mnt.Options, extra...)
		out = append(out, mnt)
	}
	return out, nil
}

// bindMountFlags are the mount_options a CRI mount may add: per-mount
// flags that narrow or tune the bind. Read-only-ness and propagation have
// fields of their own and are refused here so that the two cannot
// disagree.
var bindMountFlags = map[string]bool{
	"nosuid": true, "suid": true, "nodev": true, "dev": true, "noexec": true, "exec": true,
	"noatime": true, "atime": true, "relatime": true, "norelatime": true,
	"strictatime": true, "nostrictatime": true, "nodiratime": true, "diratime": true,
}

func extraMountOptions(in []string) ([]string, error) {
	for _, o := range in {
		if !bindMountFlags[o] {
			return nil, fmt.Errorf("mount_options: %q is not a bind mount flag wincri applies (read-only and propagation have their own fields): %w", o, errdefs.ErrInvalidArgument)
		}
	}
	return in, nil
}

// mountPropagation checks the propagation a mount asks for against the
// host mount of its source and returns runc's option for it.
func mountPropagation(spec *specs.Spec, m *runtimeapi.Mount, src string, host LinuxHost) (string, error) {
	switch m.GetPropagation() {
	case runtimeapi.MountPropagation_PROPAGATION_PRIVATE:
		return "rprivate", nil
	case runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER:
		p, err := host.MountPropagation(src)
		if err != nil {
			return "", err
		}
		if p == PropagationPrivate {
			return "", fmt.Errorf("host_to_container propagation needs %q on a shared or slave host mount: %w", src, errdefs.ErrFailedPrecondition)
		}
		if spec.Linux.RootfsPropagation != "rshared" {
			spec.Linux.RootfsPropagation = "rslave"
		}
		return "rslave", nil
	case runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL:
		p, err := host.MountPropagation(src)
		if err != nil {
			return "", err
		}
		if p != PropagationShared {
			return "", fmt.Errorf("bidirectional propagation needs %q on a shared host mount: %w", src, errdefs.ErrFailedPrecondition)
		}
		spec.Linux.RootfsPropagation = "rshared"
		return "rshared", nil
	}
	return "", fmt.Errorf("unknown mount propagation %v: %w", m.GetPropagation(), errdefs.ErrInvalidArgument)
}

// imageVolumeMount mounts an image (or a sub path of it) read-only.
func imageVolumeMount(m *runtimeapi.Mount, dst string, imageVolumes map[string]string) (specs.Mount, error) {
	root, ok := imageVolumes[m.GetContainerPath()]
	if !ok {
		root, ok = imageVolumes[dst] // the caller may have keyed it clean
	}
	if !ok {
		return specs.Mount{}, fmt.Errorf("image volume %q at %q was not prepared: %w", m.GetImage().GetImage(), dst, errdefs.ErrFailedPrecondition)
	}
	src := root
	if sub := m.GetImageSubPath(); sub != "" {
		var err error
		if src, err = resolveInRoot(root, sub); err != nil {
			return specs.Mount{}, fmt.Errorf("image volume %q sub path %q: %w", dst, sub, err)
		}
		if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
			return specs.Mount{}, fmt.Errorf("image volume %q: sub path %q does not exist in image %q: %w", dst, sub, m.GetImage().GetImage(), errdefs.ErrInvalidArgument)
		}
	}
	return bindMount(src, dst, true, "rprivate"), nil
}

func pathDepth(p string) int {
	return strings.Count(path.Clean("/"+p), "/")
}

// SandboxFiles are the per-pod files a pod's containers share, written by
// the integrator (host paths). An empty path is not mounted.
type SandboxFiles struct {
	HostnamePath   string
	HostsPath      string
	ResolvConfPath string
	// ShmPath is the pod's /dev/shm (a tmpfs the integrator mounted), so
	// that containers sharing the pod's IPC namespace share its POSIX
	// shared memory too. Empty leaves each container its own tmpfs.
	ShmPath string
}

// sandboxFileMounts bind-mounts the pod's shared files into a container,
// except where the container has a CRI mount of its own (kubelet mounts
// its managed /etc/hosts that way).
func sandboxFileMounts(f SandboxFiles, criMounts []*runtimeapi.Mount, readonlyRoot, hostIPC bool) []specs.Mount {
	taken := func(dst string) bool {
		for _, m := range criMounts {
			if path.Clean(m.GetContainerPath()) == dst {
				return true
			}
		}
		return false
	}
	var out []specs.Mount
	for _, f := range []struct{ src, dst string }{
		{f.HostnamePath, etcHostname}, {f.HostsPath, etcHosts}, {f.ResolvConfPath, etcResolvConf},
	} {
		if f.src != "" && !taken(f.dst) {
			out = append(out, bindMount(f.src, f.dst, readonlyRoot, "rprivate"))
		}
	}
	shm := f.ShmPath
	if hostIPC {
		shm = devShm // the host's IPC namespace goes with the host's shm
	}
	if shm != "" && !taken(devShm) {
		out = append(out, bindMount(shm, devShm, false, "rprivate"))
	}
	return out
}

// criDevices adds a container's CRI devices: the device node (or every
// node below a host directory) with its cgroup rule.
func criDevices(spec *specs.Spec, in []*runtimeapi.Device, host LinuxHost) error {
	for _, d := range in {
		perms := d.GetPermissions()
		if perms == "" {
			perms = "rwm"
		}
		if strings.Trim(perms, "rwm") != "" {
			return fmt.Errorf("device %q: permissions %q may only hold r, w and m: %w", d.GetHostPath(), perms, errdefs.ErrInvalidArgument)
		}
		if !path.IsAbs(d.GetContainerPath()) || !path.IsAbs(d.GetHostPath()) {
			return fmt.Errorf("device %q -> %q: both paths must be absolute: %w", d.GetHostPath(), d.GetContainerPath(), errdefs.ErrInvalidArgument)
		}
		devs, err := host.Devices(d.GetHostPath())
		if err != nil {
			return fmt.Errorf("device %q: %w", d.GetHostPath(), err)
		}
		hostRoot := path.Clean(d.GetHostPath())
		for _, dev := range devs {
			dev.Path = path.Join(d.GetContainerPath(), strings.TrimPrefix(dev.Path, hostRoot))
			major, minor := dev.Major, dev.Minor
			spec.Linux.Devices = withoutDevice(spec.Linux.Devices, dev.Path)
			spec.Linux.Devices = append(spec.Linux.Devices, dev)
			spec.Linux.Resources.Devices = append(spec.Linux.Resources.Devices, specs.LinuxDeviceCgroup{
				Allow: true, Type: dev.Type, Major: &major, Minor: &minor, Access: perms,
			})
		}
	}
	return nil
}

// withoutDevice drops an earlier device at the same container path
// (a privileged container already has every host device).
func withoutDevice(devs []specs.LinuxDevice, p string) []specs.LinuxDevice {
	out := devs[:0]
	for _, d := range devs {
		if d.Path != p {
			out = append(out, d)
		}
	}
	return out
}
