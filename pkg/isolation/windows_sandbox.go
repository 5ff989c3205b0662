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

// windowsSandboxCPUShares is the CPU weight of a pod's pause process: it
// only holds the pod together and should never compete with workloads.
const windowsSandboxCPUShares uint16 = 2

// WindowsTask is what CreateTask needs for a Windows sandbox or
// container: its runtime spec (config.json) and its Rootfs mounts.
type WindowsTask struct {
	Spec   *specs.Spec
	Rootfs []shim.Mount
}

// WindowsSandbox is the input of BuildWindowsSandbox.
type WindowsSandbox struct {
	// ID is the pod sandbox id; it names the sandbox task.
	ID string
	// Config is the pod config as kubelet sent it. A HostProcess pod is
	// one whose Windows security context says so (HostProcessPod).
	Config *runtimeapi.PodSandboxConfig
	// Handler is the resolved runtime handler (OS must be OSWindows).
	Handler Handler
	// NetworkNamespace is the id of the pod's HCN namespace; "" for a
	// HostProcess pod, which uses the host network.
	NetworkNamespace string
	// Image is the pause image's config: its command, environment,
	// working directory and user.
	Image *imagespec.ImageConfig
	// Layers are the pause container's scratch and image layers. For a
	// hyperv pod the utility VM boots from the base layer.
	Layers WindowsLayers
}

// BuildWindowsSandbox builds the sandbox task of a Windows pod: a pause
// process in the pod's network namespace, in the pod's utility VM for a
// hyperv handler (sized by SizeUVM), or on the host as a HostProcess
// container. Errors wrap errdefs.ErrInvalidArgument.
func BuildWindowsSandbox(in WindowsSandbox) (WindowsTask, error) {
	if in.ID == "" {
		return WindowsTask{}, invalidArg("windows sandbox: id is empty")
	}
	if in.Handler.OS != OSWindows {
		return WindowsTask{}, fmt.Errorf("windows sandbox %s: runtime handler %q targets %q, not Windows: %w", in.ID, in.Handler.Name, in.Handler.OS, errdefs.ErrInvalidArgument)
	}
	if err := ValidateWindowsPod(in.Config, in.Handler); err != nil {
		return WindowsTask{}, err
	}
	hostProcess := HostProcessPod(in.Config)
	if err := checkNetworkNamespace(in.NetworkNamespace, hostProcess); err != nil {
		return WindowsTask{}, err
	}
	rootfs, err := WindowsRootfs(in.Layers)
	if err != nil {
		return WindowsTask{}, err
	}

	sc := in.Config.GetWindows().GetSecurityContext()
	process, err := windowsProcess(nil, nil, "", sc.GetRunAsUsername(), nil, false, in.Image)
	if err != nil {
		return WindowsTask{}, fmt.Errorf("windows sandbox %s: pause image: %w", in.ID, err)
	}
	shares := windowsSandboxCPUShares
	spec := &specs.Spec{
		Version:  specs.Version,
		Root:     &specs.Root{},
		Process:  process,
		Hostname: in.Config.GetHostname(),
		// The handler's allowed pod annotations, then wincri's own.
		Annotations: passthrough(in.Config.GetAnnotations(), in.Handler.PodAnnotations),
		Windows: &specs.Windows{
			Resources: &specs.WindowsResources{CPU: &specs.WindowsCPUResources{Shares: &shares}},
		},
	}
	if cred := sc.GetCredentialSpec(); cred != "" {
		// The pod's gMSA identity, as on its containers.
		spec.Windows.CredentialSpec = cred
	}
	spec.Annotations[shim.AnnotationContainerType] = shim.ContainerTypeSandbox
	spec.Annotations[shim.AnnotationSandboxID] = in.ID
	if hostProcess {
		applyHostProcess(spec, in.Config.GetAnnotations(), sc.GetRunAsUsername(), "", in.Image)
	} else {
		spec.Windows.Network = &specs.WindowsNetwork{NetworkNamespace: in.NetworkNamespace}
	}
	if in.Handler.HyperV() {
		size, err := SizeUVM(in.Config, in.Handler)
		if err != nil {
			return WindowsTask{}, err
		}
		maps.Copy(spec.Annotations, size.Annotations())
		spec.Windows.HyperV = &specs.WindowsHyperV{}
	}
	return WindowsTask{Spec: spec, Rootfs: rootfs}, nil
}

// checkNetworkNamespace requires an HCN namespace exactly for the pods
// that do not run on the host network.
func checkNetworkNamespace(ns string, hostProcess bool) error {
	switch {
	case hostProcess && ns != "":
		return invalidArg("a HostProcess pod uses the host network, but network namespace %q was given", ns)
	case !hostProcess && ns == "":
		return invalidArg("a Windows pod needs its HCN network namespace id")
	}
	return nil
}
