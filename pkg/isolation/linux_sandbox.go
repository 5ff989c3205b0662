package isolation

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/logkeys"
	"github.com/wincri/wincri/pkg/shim"
)

// LinuxSandboxInput is everything the Linux sandbox (pause) spec is built
// from.
type LinuxSandboxInput struct {
	// ID is the pod sandbox id.
	ID     string
	Config *runtimeapi.PodSandboxConfig
	// NetNSPath is the pod's network namespace (a bind-mounted nsfs
	// file); ignored, and may be empty, for a host-network pod.
	NetNSPath string
	// PauseArgs is the pause process's argv, a path inside RootfsPath.
	PauseArgs []string
	// RootfsPath is the directory holding the static pause binary. It is
	// mounted read-only, as it may be shared by every pod of the node.
	RootfsPath string
	// Files are the pod's hostname, hosts, resolv.conf and shm.
	Files SandboxFiles
	// RestrictOOMScoreAdj and OOMScoreAdjFloor: see ClampOOMScoreAdj; the
	// pause process asks for SandboxOOMScoreAdj.
	RestrictOOMScoreAdj bool
	OOMScoreAdjFloor    int
	// Host answers questions about the node; nil means NodeHost.
	Host LinuxHost
}

// LinuxSandboxSpec builds the runtime spec of a Linux pod's sandbox: the
// pause process that holds the pod's namespaces. Errors wrap
// errdefs.ErrInvalidArgument.
func LinuxSandboxSpec(ctx context.Context, in LinuxSandboxInput) (*specs.Spec, error) {
	cfg := in.Config
	md := cfg.GetMetadata()
	if md.GetName() == "" || md.GetNamespace() == "" || md.GetUid() == "" {
		return nil, fmt.Errorf("pod sandbox config needs metadata with name, namespace and uid: %w", errdefs.ErrInvalidArgument)
	}
	if in.ID == "" || in.RootfsPath == "" || len(in.PauseArgs) == 0 {
		return nil, fmt.Errorf("sandbox id, pause rootfs and pause command are required: %w", errdefs.ErrInvalidArgument)
	}
	host := in.Host
	if host == nil {
		host = NodeHost{}
	}
	sc := cfg.GetLinux().GetSecurityContext()
	nsOpts := sc.GetNamespaceOptions()
	hostNetwork := nsOpts.GetNetwork() == runtimeapi.NamespaceMode_NODE
	hostIPC := nsOpts.GetIpc() == runtimeapi.NamespaceMode_NODE

	spec := newLinuxSpec(in.RootfsPath, true)
	// A privileged pod's sysfs is writable: the pod's network namespace's
	// sysfs superblock is created by this mount, and a privileged
	// container's later mount of it can be no more writable than this one.
	spec.Mounts = defaultLinuxMounts(sc.GetPrivileged())
	spec.Process.Args = append([]string(nil), in.PauseArgs...)
	// pause never gains privileges; nothing in it is setuid.
	spec.Process.NoNewPrivileges = true

	var err error
	if spec.Linux.Namespaces, err = sandboxNamespaces(nsOpts, in.NetNSPath); err != nil {
		return nil, err
	}
	if !hostNetwork {
		spec.Hostname = cfg.GetHostname()
	}
	if spec.Linux.Sysctl, err = podSysctls(cfg.GetLinux().GetSysctls(), hostNetwork, hostIPC); err != nil {
		return nil, err
	}
	// The pause process reads none of the pod files, but mounting them
	// here keeps the sandbox's view of the pod the same as its
	// containers' (nsenter, debugging, and CNI plugins that look).
	addMounts(spec, sandboxFileMounts(in.Files, nil, true, hostIPC))

	user, err := sandboxUser(sc)
	if err != nil {
		return nil, err
	}
	spec.Process.User = user
	held, err := host.Capabilities()
	if err != nil {
		return nil, err
	}
	if err := applyCapabilities(spec, nil, sc.GetPrivileged(), held); err != nil {
		return nil, err
	}
	if sc.GetPrivileged() {
		// A privileged pod may run privileged containers; its pause
		// process itself needs no devices, only the lifted paths.
		spec.Linux.MaskedPaths, spec.Linux.ReadonlyPaths = nil, nil
	} else {
		//lint:ignore SA1019 kubelets before the structured field still send the profile path; containerd reads both too
		if spec.Linux.Seccomp, err = seccompProfile(sc.GetSeccomp(), sc.GetSeccompProfilePath(), spec.Process.Capabilities.Bounding); err != nil {
			return nil, err
		}
		if spec.Process.ApparmorProfile, err = apparmorProfile(sc.GetApparmor(), ""); err != nil {
			return nil, err
		}
	}

	shares := sandboxCPUShares
	spec.Linux.Resources.CPU = &specs.LinuxCPU{Shares: &shares}
	adj := SandboxOOMScoreAdj
	if in.RestrictOOMScoreAdj {
		adj = ClampOOMScoreAdj(adj, in.OOMScoreAdjFloor)
		if adj != SandboxOOMScoreAdj {
			klog.FromContext(ctx).V(4).Info("Raising the pause process's oom_score_adj to the daemon's own", logkeys.PodSandboxID, in.ID, "oomScoreAdj", adj)
		}
	}
	spec.Process.OOMScoreAdj = &adj
	if spec.Linux.CgroupsPath, err = cgroupsPath(cfg.GetLinux().GetCgroupParent(), in.ID); err != nil {
		return nil, err
	}

	a := spec.Annotations
	a[shim.AnnotationContainerType] = shim.ContainerTypeSandbox
	a[shim.AnnotationSandboxID] = in.ID
	a[AnnotationSandboxName] = md.GetName()
	a[AnnotationSandboxNamespace] = md.GetNamespace()
	a[AnnotationSandboxUID] = md.GetUid()
	a[AnnotationSandboxLogDir] = cfg.GetLogDirectory()
	return spec, nil
}

// sandboxUser is the pause process's identity: the pod's run_as_user and
// run_as_group, or root. There is no /etc/passwd to consult in the pause
// rootfs.
func sandboxUser(sc *runtimeapi.LinuxSandboxSecurityContext) (specs.User, error) {
	if sc.GetRunAsGroup() != nil && sc.GetRunAsUser() == nil {
		return specs.User{}, fmt.Errorf("run_as_group needs run_as_user: %w", errdefs.ErrInvalidArgument)
	}
	var u specs.User
	var err error
	if sc.GetRunAsUser() != nil {
		if u.UID, err = checkedID("run_as_user", sc.GetRunAsUser().GetValue()); err != nil {
			return u, err
		}
	}
	if sc.GetRunAsGroup() != nil {
		if u.GID, err = checkedID("run_as_group", sc.GetRunAsGroup().GetValue()); err != nil {
			return u, err
		}
	}
	gids := []uint32{u.GID}
	for _, g := range sc.GetSupplementalGroups() {
		gid, err := checkedID("supplemental_groups", g)
		if err != nil {
			return u, err
		}
		gids = append(gids, gid)
	}
	u.AdditionalGids = dedupIDs(gids)
	return u, nil
}
