package isolation

import (
	"fmt"
	"maps"

	"github.com/containerd/errdefs"
	imagespec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/shim"
)

// WindowsContainer is the input of BuildWindowsContainer.
type WindowsContainer struct {
	// ID is the container id; it names the container's task.
	ID string
	// SandboxID is the id of the container's pod; its shim serves the
	// container.
	SandboxID string
	// Config is the container config as kubelet sent it.
	Config *runtimeapi.ContainerConfig
	// Image is the container image's config (nil for none).
	Image *imagespec.ImageConfig
	// Pod is the config of the container's pod.
	Pod *runtimeapi.PodSandboxConfig
	// Handler is the pod's resolved runtime handler.
	Handler Handler
	// NetworkNamespace is the pod's HCN namespace id; "" for a
	// HostProcess pod.
	NetworkNamespace string
	// Layers are the container's scratch and image layers.
	Layers WindowsLayers
	// HostPath prepares mount host paths (creates missing directories,
	// resolves links); nil takes them as given.
	HostPath HostPathFunc
}

// BuildWindowsContainer builds the task of a container in a Windows pod:
// a silo in the pod's network namespace for a process pod, a container
// inside the pod's utility VM for a hyperv pod, or a process on the host
// for a HostProcess pod. Errors wrap errdefs.ErrInvalidArgument, naming
// the field or the unsupported feature.
func BuildWindowsContainer(in WindowsContainer) (WindowsTask, error) {
	switch {
	case in.ID == "" || in.SandboxID == "":
		return WindowsTask{}, invalidArg("windows container: id and sandbox id must be set")
	case in.Handler.OS != OSWindows:
		return WindowsTask{}, fmt.Errorf("windows container %s: runtime handler %q targets %q, not Windows: %w", in.ID, in.Handler.Name, in.Handler.OS, errdefs.ErrInvalidArgument)
	case in.Pod == nil:
		return WindowsTask{}, invalidArg("windows container %s: pod config is missing", in.ID)
	}
	if err := ValidateWindowsContainer(in.Pod, in.Config, in.Handler); err != nil {
		return WindowsTask{}, err
	}
	hostProcess := HostProcessPod(in.Pod)
	if err := checkNetworkNamespace(in.NetworkNamespace, hostProcess); err != nil {
		return WindowsTask{}, err
	}
	rootfs, err := WindowsRootfs(in.Layers)
	if err != nil {
		return WindowsTask{}, err
	}

	c := in.Config
	sc := c.GetWindows().GetSecurityContext()
	process, err := windowsProcess(c.GetCommand(), c.GetArgs(), c.GetWorkingDir(), sc.GetRunAsUsername(), c.GetEnvs(), c.GetTty(), in.Image)
	if err != nil {
		return WindowsTask{}, fmt.Errorf("windows container %s: %w", in.ID, err)
	}
	mounts, err := windowsMounts(c.GetMounts(), in.HostPath)
	if err != nil {
		return WindowsTask{}, fmt.Errorf("windows container %s: %w", in.ID, err)
	}
	devices, err := windowsDevices(c.GetDevices())
	if err != nil {
		return WindowsTask{}, fmt.Errorf("windows container %s: %w", in.ID, err)
	}
	resources, err := WindowsResources(c.GetWindows().GetResources())
	if err != nil {
		return WindowsTask{}, fmt.Errorf("windows container %s: %w", in.ID, err)
	}

	spec := &specs.Spec{
		Version:  specs.Version,
		Root:     &specs.Root{},
		Process:  process,
		Hostname: in.Pod.GetHostname(),
		Mounts:   mounts,
		// The handler's allowed pod and container annotations, then
		// wincri's own (containerd's order: buildWindowsSpec).
		Annotations: passthrough(in.Pod.GetAnnotations(), in.Handler.PodAnnotations),
		Windows: &specs.Windows{
			Devices:   devices,
			Resources: resources,
		},
	}
	maps.Copy(spec.Annotations, passthrough(c.GetAnnotations(), in.Handler.ContainerAnnotations))
	spec.Annotations[shim.AnnotationContainerType] = shim.ContainerTypeContainer
	spec.Annotations[shim.AnnotationSandboxID] = in.SandboxID
	if cred := sc.GetCredentialSpec(); cred != "" {
		// hcsshim takes the gMSA credential spec as its JSON text.
		spec.Windows.CredentialSpec = cred
	}
	if hostProcess {
		applyHostProcess(spec, in.Pod.GetAnnotations(), sc.GetRunAsUsername(), c.GetWorkingDir(), in.Image)
	} else {
		spec.Windows.Network = &specs.WindowsNetwork{NetworkNamespace: in.NetworkNamespace}
	}
	if in.Handler.HyperV() {
		// The container joins the pod's utility VM, which the sandbox
		// task created and sized; the container carries no UVM size.
		spec.Windows.HyperV = &specs.WindowsHyperV{}
	}
	return WindowsTask{Spec: spec, Rootfs: rootfs}, nil
}
