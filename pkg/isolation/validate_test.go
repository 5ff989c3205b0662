package isolation

import (
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/config"
)

var (
	winProcessHandler = Handler{Name: "process", Isolation: config.IsolationProcess, OS: OSWindows}
	winHyperVHandler  = Handler{Name: "hyperv", Isolation: config.IsolationHyperV, OS: OSWindows}
)

// podWithNS is a pod as kubelet sends it: namespace options always set,
// pid CONTAINER unless the pod asks otherwise.
func podWithNS(network, pid, ipc runtimeapi.NamespaceMode, hostProcess bool) *runtimeapi.PodSandboxConfig {
	return &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: "web", Namespace: "default", Uid: "uid-1"},
		Linux: &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
			NamespaceOptions: &runtimeapi.NamespaceOption{Network: network, Pid: pid, Ipc: ipc},
		}},
		Windows: &runtimeapi.WindowsPodSandboxConfig{SecurityContext: &runtimeapi.WindowsSandboxSecurityContext{HostProcess: hostProcess}},
	}
}

const (
	nsPod       = runtimeapi.NamespaceMode_POD
	nsContainer = runtimeapi.NamespaceMode_CONTAINER
	nsNode      = runtimeapi.NamespaceMode_NODE
	nsTarget    = runtimeapi.NamespaceMode_TARGET
)

func TestValidateWindowsPod(t *testing.T) {
	tests := []struct {
		name    string
		pod     *runtimeapi.PodSandboxConfig
		handler Handler
		wantErr string // "" for valid
	}{
		{name: "kubelet default pod", pod: podWithNS(nsPod, nsContainer, nsPod, false), handler: winProcessHandler},
		{name: "kubelet default pod, hyperv", pod: podWithNS(nsPod, nsContainer, nsPod, false), handler: winHyperVHandler},
		{name: "no namespace options (crictl)", pod: &runtimeapi.PodSandboxConfig{}, handler: winProcessHandler},
		{name: "HostProcess pod on the host network", pod: podWithNS(nsNode, nsContainer, nsPod, true), handler: winProcessHandler},
		{name: "HostProcess pod with hostPID and hostIPC", pod: podWithNS(nsNode, nsNode, nsNode, true), handler: winProcessHandler},
		// pid POD is the protobuf zero value: crictl JSON that leaves pid
		// unset sends it. containerd's Windows path never reads the pid
		// mode (internal/cri/server/container_create.go, buildWindowsSpec;
		// podsandbox/sandbox_run_windows.go, sandboxContainerSpec), and the
		// API server refuses shareProcessNamespace for Windows pods
		// (pkg/apis/core/validation, validateWindows), so kubelet never
		// means "share" by it.
		{name: "pid POD, the zero value", pod: podWithNS(nsPod, nsPod, nsPod, false), handler: winProcessHandler},
		{name: "pid POD, the zero value, hyperv", pod: podWithNS(nsPod, nsPod, nsPod, false), handler: winHyperVHandler},
		{name: "host PID", pod: podWithNS(nsPod, nsNode, nsPod, false), handler: winProcessHandler,
			wantErr: "Windows containers do not support the host process namespace (hostPID)"},
		{name: "host IPC", pod: podWithNS(nsPod, nsContainer, nsNode, false), handler: winProcessHandler,
			wantErr: "Windows containers do not support the host IPC namespace (hostIPC)"},
		{name: "IPC shared with a target", pod: podWithNS(nsPod, nsContainer, nsTarget, false), handler: winProcessHandler,
			wantErr: "Windows containers do not support a shared IPC namespace"},
		// Runs with a pod network, as under containerd (see TestHostNetwork).
		{name: "host network without HostProcess", pod: podWithNS(nsNode, nsContainer, nsPod, false), handler: winProcessHandler},
		{name: "HostProcess pod off the host network", pod: podWithNS(nsPod, nsContainer, nsPod, true), handler: winProcessHandler,
			wantErr: "HostProcess pods run on the host network"},
		{name: "HostProcess pod with hyperv", pod: podWithNS(nsNode, nsContainer, nsPod, true), handler: winHyperVHandler,
			wantErr: "HostProcess pods cannot run with Hyper-V isolation"},
		{name: "missing config", pod: nil, handler: winProcessHandler, wantErr: "pod sandbox config is missing"},
		{name: "bad UVM size annotation, hyperv", handler: winHyperVHandler,
			pod: func() *runtimeapi.PodSandboxConfig {
				p := podWithNS(nsPod, nsContainer, nsPod, false)
				p.Annotations = map[string]string{"io.microsoft.virtualmachine.computetopology.processor.count": "0"}
				return p
			}(), wantErr: "io.microsoft.virtualmachine.computetopology.processor.count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateWindowsPod(tt.pod, tt.handler)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func containerWith(ns *runtimeapi.NamespaceOption, hostProcess, privileged bool) *runtimeapi.ContainerConfig {
	return &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "app"},
		Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
			NamespaceOptions: ns, Privileged: privileged,
		}},
		Windows: &runtimeapi.WindowsContainerConfig{SecurityContext: &runtimeapi.WindowsContainerSecurityContext{HostProcess: hostProcess}},
	}
}

func TestValidateWindowsContainer(t *testing.T) {
	plainPod := podWithNS(nsPod, nsContainer, nsPod, false)
	hostProcessPod := podWithNS(nsNode, nsContainer, nsPod, true)
	nsOpt := func(pid, ipc runtimeapi.NamespaceMode) *runtimeapi.NamespaceOption {
		return &runtimeapi.NamespaceOption{Network: nsPod, Pid: pid, Ipc: ipc, TargetId: "other"}
	}
	tests := []struct {
		name      string
		pod       *runtimeapi.PodSandboxConfig
		container *runtimeapi.ContainerConfig
		handler   Handler
		wantErr   string
	}{
		{name: "kubelet default container", pod: plainPod, container: containerWith(nsOpt(nsContainer, nsPod), false, false), handler: winProcessHandler},
		{name: "no namespace options", pod: plainPod, container: &runtimeapi.ContainerConfig{}, handler: winHyperVHandler},
		{name: "HostProcess container in a HostProcess pod", pod: hostProcessPod, container: containerWith(nsOpt(nsNode, nsNode), true, false), handler: winProcessHandler},
		{name: "pid POD, the zero value", pod: plainPod, container: containerWith(nsOpt(nsPod, nsPod), false, false), handler: winProcessHandler},
		{name: "namespace options all unset", pod: plainPod, container: containerWith(&runtimeapi.NamespaceOption{}, false, false), handler: winProcessHandler},
		{name: "ephemeral container targeting another", pod: plainPod, container: containerWith(nsOpt(nsTarget, nsPod), false, false), handler: winProcessHandler,
			wantErr: `shared process namespace (pid namespace mode TARGET "other")`},
		{name: "host PID", pod: plainPod, container: containerWith(nsOpt(nsNode, nsPod), false, false), handler: winProcessHandler,
			wantErr: "hostPID"},
		{name: "host IPC", pod: plainPod, container: containerWith(nsOpt(nsContainer, nsNode), false, false), handler: winHyperVHandler,
			wantErr: "hostIPC"},
		{name: "privileged", pod: plainPod, container: containerWith(nil, false, true), handler: winProcessHandler,
			wantErr: "Windows containers do not support privileged mode"},
		{name: "plain container in a HostProcess pod", pod: hostProcessPod, container: containerWith(nil, false, false), handler: winProcessHandler,
			wantErr: "a HostProcess pod holds only HostProcess containers"},
		{name: "HostProcess container in a plain pod", pod: plainPod, container: containerWith(nil, true, false), handler: winProcessHandler,
			wantErr: "needs a HostProcess pod"},
		{name: "HostProcess container with hyperv", pod: hostProcessPod, container: containerWith(nil, true, false), handler: winHyperVHandler,
			wantErr: "HostProcess containers cannot run with Hyper-V isolation"},
		{name: "missing config", pod: plainPod, container: nil, handler: winProcessHandler, wantErr: "container config is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateWindowsContainer(tt.pod, tt.container, tt.handler)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

// TestHostNetwork pins containerd v2.4.2's rule
// (internal/cri/server/helpers.go, hostNetwork): on Windows only a
// HostProcess pod is on the host network, and a pod asking for it without
// being one runs with a pod network.
func TestHostNetwork(t *testing.T) {
	tests := []struct {
		name             string
		pod              *runtimeapi.PodSandboxConfig
		os               string
		hostNet, ignored bool
	}{
		{name: "windows pod network", pod: podWithNS(nsPod, nsContainer, nsPod, false), os: OSWindows},
		{name: "windows hostNetwork without HostProcess", pod: podWithNS(nsNode, nsContainer, nsPod, false), os: OSWindows, ignored: true},
		{name: "windows HostProcess", pod: podWithNS(nsNode, nsContainer, nsPod, true), os: OSWindows, hostNet: true},
		{name: "windows HostProcess, no namespace options", pod: &runtimeapi.PodSandboxConfig{Windows: &runtimeapi.WindowsPodSandboxConfig{
			SecurityContext: &runtimeapi.WindowsSandboxSecurityContext{HostProcess: true}}}, os: OSWindows, hostNet: true},
		{name: "linux pod network", pod: podWithNS(nsPod, nsContainer, nsPod, false), os: OSLinux},
		{name: "linux hostNetwork", pod: podWithNS(nsNode, nsContainer, nsPod, false), os: OSLinux, hostNet: true},
		{name: "no config", os: OSWindows},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.hostNet, HostNetwork(tt.pod, tt.os))
			assert.Equal(t, tt.ignored, HostNetworkIgnored(tt.pod, tt.os))
		})
	}
}
