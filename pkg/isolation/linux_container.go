package isolation

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	imagespec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/wincri/wincri/pkg/logkeys"
	"github.com/wincri/wincri/pkg/shim"
)

// LinuxContainerInput is everything the Linux container spec is built
// from.
type LinuxContainerInput struct {
	// ID is the container id; SandboxID the id of its pod.
	ID        string
	SandboxID string
	Config    *runtimeapi.ContainerConfig
	// SandboxConfig is the pod's config as RunPodSandbox received it.
	SandboxConfig *runtimeapi.PodSandboxConfig
	// ImageName is the image reference the container was created from
	// (for the image-name annotation); ImageConfig its OCI config.
	ImageName   string
	ImageConfig imagespec.ImageConfig
	// RootfsPath is the container's mounted root file system on the host;
	// the image's /etc/passwd and /etc/group are read from it.
	RootfsPath string
	// Namespaces says whose namespaces the container joins.
	Namespaces ContainerNamespaces
	// Files are the pod's hostname, hosts, resolv.conf and shm.
	Files SandboxFiles
	// ImageVolumes maps the container path of each CRI image mount to
	// the host directory holding that image's file system.
	ImageVolumes map[string]string
	// OOMScoreAdjFloor, when RestrictOOMScoreAdj is set, is the daemon's
	// own oom_score_adj, below which runc may not go (see
	// ClampOOMScoreAdj).
	RestrictOOMScoreAdj bool
	OOMScoreAdjFloor    int
	// Host answers questions about the node; nil means NodeHost.
	Host LinuxHost
}

// LinuxContainerSpec builds the runtime spec of a workload container of a
// Linux pod. Errors wrap errdefs.ErrInvalidArgument for a request that
// cannot be honoured as asked, errdefs.ErrNotFound for a missing host
// path or device, errdefs.ErrFailedPrecondition for a node or pod state
// that prevents it.
//
// Seccomp: no profile and Unconfined run without a filter, RuntimeDefault
// uses wincri's deny-list profile (defaultSeccompProfile), Localhost loads
// the named JSON profile; a privileged container never gets a filter.
// AppArmor: only a Localhost profile is applied.
func LinuxContainerSpec(ctx context.Context, in LinuxContainerInput) (*specs.Spec, error) {
	cfg := in.Config
	if cfg == nil || cfg.GetMetadata().GetName() == "" {
		return nil, fmt.Errorf("container config needs metadata with a name: %w", errdefs.ErrInvalidArgument)
	}
	if in.ID == "" || in.SandboxID == "" || in.RootfsPath == "" {
		return nil, fmt.Errorf("container id, sandbox id and rootfs path are required: %w", errdefs.ErrInvalidArgument)
	}
	host := in.Host
	if host == nil {
		host = NodeHost{}
	}
	log := klog.FromContext(ctx).WithValues(logkeys.ContainerID, in.ID)
	sc := cfg.GetLinux().GetSecurityContext()
	podSC := in.SandboxConfig.GetLinux().GetSecurityContext()
	if sc.GetPrivileged() && !podSC.GetPrivileged() {
		return nil, fmt.Errorf("privileged container %q in a pod whose security context is not privileged: %w", cfg.GetMetadata().GetName(), errdefs.ErrInvalidArgument)
	}
	nsOpts := sc.GetNamespaceOptions()
	hostNetwork := nsOpts.GetNetwork() == runtimeapi.NamespaceMode_NODE
	hostIPC := nsOpts.GetIpc() == runtimeapi.NamespaceMode_NODE

	spec := newLinuxSpec(in.RootfsPath, sc.GetReadonlyRootfs())
	spec.Mounts = defaultLinuxMounts(false)

	// Process.
	argv, err := ContainerArgs(cfg.GetCommand(), cfg.GetArgs(), in.ImageConfig)
	if err != nil {
		return nil, err
	}
	spec.Process.Args = argv
	hostname := in.SandboxConfig.GetHostname()
	if hostname == "" && hostNetwork {
		if hostname, err = host.Hostname(); err != nil {
			return nil, fmt.Errorf("reading the node's host name: %w", err)
		}
	}
	if spec.Process.Env, err = ContainerEnv(hostname, in.ImageConfig.Env, cfg.GetEnvs()); err != nil {
		return nil, err
	}
	if spec.Process.Cwd, err = ContainerWorkingDir(cfg.GetWorkingDir(), in.ImageConfig.WorkingDir); err != nil {
		return nil, err
	}
	spec.Process.Terminal = cfg.GetTty()
	if spec.Process.User, err = ResolveLinuxUser(in.RootfsPath, sc, in.ImageConfig.User); err != nil {
		return nil, err
	}
	spec.Process.NoNewPrivileges = sc.GetNoNewPrivs()

	// Namespaces.
	if spec.Linux.Namespaces, err = containerNamespaces(nsOpts, in.Namespaces); err != nil {
		return nil, err
	}

	// Mounts: kernel file systems, then the pod's shared files, then the
	// CRI volumes; each later one shadows earlier ones at or below it.
	crim, err := criMounts(spec, cfg.GetMounts(), host, in.ImageVolumes)
	if err != nil {
		return nil, err
	}
	addMounts(spec, sandboxFileMounts(in.Files, cfg.GetMounts(), sc.GetReadonlyRootfs(), hostIPC))
	addMounts(spec, crim)

	// Security.
	held, err := host.Capabilities()
	if err != nil {
		return nil, err
	}
	if err := applyCapabilities(spec, sc.GetCapabilities(), sc.GetPrivileged(), held); err != nil {
		return nil, err
	}
	if err := applyPaths(spec, sc); err != nil {
		return nil, err
	}
	if sc.GetPrivileged() {
		if err := applyPrivileged(spec, host); err != nil {
			return nil, err
		}
	} else {
		//lint:ignore SA1019 kubelets before the structured field still send the profile path; containerd reads both too
		if spec.Linux.Seccomp, err = seccompProfile(sc.GetSeccomp(), sc.GetSeccompProfilePath(), spec.Process.Capabilities.Bounding); err != nil {
			return nil, err
		}
		//lint:ignore SA1019 kubelets before the structured field still send the profile name; containerd reads both too
		if spec.Process.ApparmorProfile, err = apparmorProfile(sc.GetApparmor(), sc.GetApparmorProfile()); err != nil {
			return nil, err
		}
	}
	if err := criDevices(spec, cfg.GetDevices(), host); err != nil {
		return nil, err
	}

	// Resources.
	res := cfg.GetLinux().GetResources()
	lr, dropped, err := LinuxResources(res, host.Cgroups())
	if err != nil {
		return nil, err
	}
	if len(dropped) > 0 {
		log.V(2).Info("Dropping resource limits the node cannot enforce", "dropped", dropped)
	}
	if lr != nil {
		lr.Devices = spec.Linux.Resources.Devices
		spec.Linux.Resources = lr
	}
	if res != nil {
		adj := int(res.GetOomScoreAdj())
		if in.RestrictOOMScoreAdj {
			adj = ClampOOMScoreAdj(adj, in.OOMScoreAdjFloor)
		}
		spec.Process.OOMScoreAdj = &adj
	}
	if spec.Linux.CgroupsPath, err = cgroupsPath(in.SandboxConfig.GetLinux().GetCgroupParent(), in.ID); err != nil {
		return nil, err
	}

	setContainerAnnotations(spec, in)
	return spec, nil
}

func setContainerAnnotations(spec *specs.Spec, in LinuxContainerInput) {
	md := in.SandboxConfig.GetMetadata()
	a := spec.Annotations
	a[shim.AnnotationContainerType] = shim.ContainerTypeContainer
	a[shim.AnnotationSandboxID] = in.SandboxID
	a[AnnotationSandboxName] = md.GetName()
	a[AnnotationSandboxNamespace] = md.GetNamespace()
	a[AnnotationSandboxUID] = md.GetUid()
	a[AnnotationContainerName] = in.Config.GetMetadata().GetName()
	if in.ImageName != "" {
		a[AnnotationImageName] = in.ImageName
	}
}
