package isolation

import (
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Annotations that both containerd shims (runc-v2 and runhcs) read to put
// every container of a pod into the pod's one shim, plus the ones
// containerd's CRI plugin sets and monitoring agents have come to rely on.
const (
	AnnotationContainerType           = "io.kubernetes.cri.container-type"
	AnnotationSandboxID               = "io.kubernetes.cri.sandbox-id"
	AnnotationSandboxName             = "io.kubernetes.cri.sandbox-name"
	AnnotationSandboxNamespace        = "io.kubernetes.cri.sandbox-namespace"
	AnnotationSandboxUID              = "io.kubernetes.cri.sandbox-uid"
	AnnotationSandboxLogDir           = "io.kubernetes.cri.sandbox-log-directory"
	AnnotationContainerName           = "io.kubernetes.cri.container-name"
	AnnotationImageName               = "io.kubernetes.cri.image-name"
	ContainerTypeSandbox              = "sandbox"
	ContainerTypeContainer            = "container"
	defaultPathEnv                    = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	sandboxCPUShares           uint64 = 2 // the pause process needs no CPU weight
	// SandboxOOMScoreAdj keeps the pause process, whose death kills the
	// whole pod, among the last the OOM killer picks.
	SandboxOOMScoreAdj = -998
	// cgroupNamePrefix names wincri's scopes under a systemd slice.
	cgroupNamePrefix = "wincri"
)

// defaultLinuxCaps is the capability set every container runtime grants
// an unprivileged container; workloads are written against it.
var defaultLinuxCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// allLinuxCaps is every capability up to CAP_CHECKPOINT_RESTORE (Linux
// 5.9), in kernel order: index n is capability number n.
var allLinuxCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// DefaultMaskedPaths hide host information and kernel knobs from an
// unprivileged container. kubelet sends the same list for the Default
// proc mount type.
var DefaultMaskedPaths = []string{
	"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore",
	"/proc/keys", "/proc/latency_stats", "/proc/timer_list",
	"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap",
}

// DefaultReadonlyPaths are visible but not writable in an unprivileged
// container.
var DefaultReadonlyPaths = []string{
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
}

// defaultLinuxMounts are the kernel file systems every container gets,
// with the options runc expects. sysfsRW is for privileged containers,
// which may write to /sys and the cgroup tree.
func defaultLinuxMounts(sysfsRW bool) []specs.Mount {
	sysMode := "ro"
	if sysfsRW {
		sysMode = "rw"
	}
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", sysMode}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", sysMode}},
	}
}

// newLinuxSpec is the skeleton both builders start from: no capabilities
// beyond the defaults, every device denied unless allowed later.
func newLinuxSpec(rootfs string, readonlyRoot bool) *specs.Spec {
	return &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: rootfs, Readonly: readonlyRoot},
		Process: &specs.Process{
			Cwd:  "/",
			Env:  []string{defaultPathEnv},
			User: specs.User{},
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  append([]string(nil), defaultLinuxCaps...),
				Effective: append([]string(nil), defaultLinuxCaps...),
				Permitted: append([]string(nil), defaultLinuxCaps...),
			},
		},
		Annotations: map[string]string{},
		Linux: &specs.Linux{
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
			MaskedPaths:   append([]string(nil), DefaultMaskedPaths...),
			ReadonlyPaths: append([]string(nil), DefaultReadonlyPaths...),
		},
	}
}

// addMounts appends extra to the spec's mounts, first dropping every
// earlier mount at or below one of extra's destinations so that, for
// example, a volume at /dev/shm replaces the default tmpfs.
func addMounts(spec *specs.Spec, extra []specs.Mount) {
	kept := spec.Mounts[:0]
	for _, m := range spec.Mounts {
		shadowed := false
		for _, e := range extra {
			if pathWithin(m.Destination, e.Destination) {
				shadowed = true
				break
			}
		}
		if !shadowed {
			kept = append(kept, m)
		}
	}
	spec.Mounts = append(kept, extra...)
}

// pathWithin reports whether p is dir or below it (both clean absolute
// paths).
func pathWithin(p, dir string) bool {
	p, dir = path.Clean(p), path.Clean(dir)
	if dir == "/" {
		return true
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}
