package isolation

import (
	"encoding/json"
	"testing"

	"github.com/containerd/errdefs"
	imagespec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/config"
	"github.com/wincri/wincri/pkg/shim"
)

const (
	testPodID = "8f1c0a9d"
	testNetNS = "0a7c4f1e-32b3-4c5e-9a5d-1f2e3d4c5b6a"
)

var (
	pauseImage = &imagespec.ImageConfig{
		Entrypoint: []string{`C:\pause.exe`},
		Env:        []string{`PATH=C:\Windows\system32;C:\Windows`},
		User:       "ContainerUser",
	}
	pauseLayers = WindowsLayers{
		Scratch: `C:\ProgramData\wincri\root\scratch\8f1c0a9d`,
		Parents: []string{`C:\ProgramData\wincri\root\layers\pause-top`, `C:\ProgramData\wincri\root\layers\nanoserver-base`},
	}
	pauseRootfs = []shim.Mount{{
		Type:   "windows-layer",
		Source: `C:\ProgramData\wincri\root\scratch\8f1c0a9d`,
		Options: []string{"rw",
			`parentLayerPaths=["C:\\ProgramData\\wincri\\root\\layers\\pause-top","C:\\ProgramData\\wincri\\root\\layers\\nanoserver-base"]`},
	}}
)

// kubeletPod is a pod config as kubelet sends it for a Windows pod.
func kubeletPod(hostProcess bool, annotations map[string]string) *runtimeapi.PodSandboxConfig {
	network := runtimeapi.NamespaceMode_POD
	hostname := "web-0"
	if hostProcess {
		network = runtimeapi.NamespaceMode_NODE
		hostname = ""
	}
	return &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: "web-0", Namespace: "default", Uid: "uid-1"},
		Hostname:     hostname,
		LogDirectory: `C:\var\log\pods\default_web-0_uid-1`,
		Annotations:  annotations,
		Linux: &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
			NamespaceOptions: &runtimeapi.NamespaceOption{Network: network, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD},
		}},
		Windows: &runtimeapi.WindowsPodSandboxConfig{SecurityContext: &runtimeapi.WindowsSandboxSecurityContext{HostProcess: hostProcess}},
	}
}

func sandboxShares() *specs.WindowsResources {
	return &specs.WindowsResources{CPU: &specs.WindowsCPUResources{Shares: winPtr[uint16](2)}}
}

func pauseProcess() *specs.Process {
	return &specs.Process{
		Args: []string{`C:\pause.exe`},
		Env:  []string{`PATH=C:\Windows\system32;C:\Windows`},
		Cwd:  `C:\`,
		User: specs.User{Username: "ContainerUser"},
	}
}

func TestBuildWindowsSandbox(t *testing.T) {
	hyperv := Handler{Name: "hyperv", Isolation: config.IsolationHyperV, OS: OSWindows, UVMMemoryMB: 2048}
	tests := []struct {
		name string
		in   WindowsSandbox
		want *specs.Spec
	}{
		{
			name: "process pod",
			in:   WindowsSandbox{ID: testPodID, Config: kubeletPod(false, nil), Handler: winProcessHandler, NetworkNamespace: testNetNS, Image: pauseImage, Layers: pauseLayers},
			want: &specs.Spec{
				Version:  specs.Version,
				Root:     &specs.Root{},
				Process:  pauseProcess(),
				Hostname: "web-0",
				Annotations: map[string]string{
					"io.kubernetes.cri.container-type": "sandbox",
					"io.kubernetes.cri.sandbox-id":     testPodID,
				},
				Windows: &specs.Windows{
					Resources: sandboxShares(),
					Network:   &specs.WindowsNetwork{NetworkNamespace: testNetNS},
				},
			},
		},
		{
			name: "hyperv pod sized by the handler",
			in:   WindowsSandbox{ID: testPodID, Config: kubeletPod(false, nil), Handler: hyperv, NetworkNamespace: testNetNS, Image: pauseImage, Layers: pauseLayers},
			want: &specs.Spec{
				Version:  specs.Version,
				Root:     &specs.Root{},
				Process:  pauseProcess(),
				Hostname: "web-0",
				Annotations: map[string]string{
					"io.kubernetes.cri.container-type":                            "sandbox",
					"io.kubernetes.cri.sandbox-id":                                testPodID,
					"io.microsoft.virtualmachine.computetopology.memory.sizeinmb": "2048",
				},
				Windows: &specs.Windows{
					Resources: sandboxShares(),
					Network:   &specs.WindowsNetwork{NetworkNamespace: testNetNS},
					HyperV:    &specs.WindowsHyperV{},
				},
			},
		},
		{
			name: "hyperv pod sized by its annotations",
			in: WindowsSandbox{ID: testPodID, Handler: hyperv, NetworkNamespace: testNetNS, Image: pauseImage, Layers: pauseLayers,
				Config: kubeletPod(false, map[string]string{memAnnotation: "4096", cpuAnnotation: "4"})},
			want: &specs.Spec{
				Version:  specs.Version,
				Root:     &specs.Root{},
				Process:  pauseProcess(),
				Hostname: "web-0",
				Annotations: map[string]string{
					"io.kubernetes.cri.container-type":                            "sandbox",
					"io.kubernetes.cri.sandbox-id":                                testPodID,
					"io.microsoft.virtualmachine.computetopology.memory.sizeinmb": "4096",
					"io.microsoft.virtualmachine.computetopology.processor.count": "4",
				},
				Windows: &specs.Windows{
					Resources: sandboxShares(),
					Network:   &specs.WindowsNetwork{NetworkNamespace: testNetNS},
					HyperV:    &specs.WindowsHyperV{},
				},
			},
		},
		{
			name: "HostProcess pod on the host network",
			in: func() WindowsSandbox {
				pod := kubeletPod(true, nil)
				pod.Windows.SecurityContext.RunAsUsername = `NT AUTHORITY\SYSTEM`
				return WindowsSandbox{ID: testPodID, Config: pod, Handler: winProcessHandler, Image: pauseImage, Layers: pauseLayers}
			}(),
			want: &specs.Spec{
				Version: specs.Version,
				Root:    &specs.Root{},
				Process: func() *specs.Process {
					p := pauseProcess()
					p.User.Username = `NT AUTHORITY\SYSTEM`
					p.Cwd = `C:\hpc` // the container's root, not the host's C:
					return p
				}(),
				Annotations: map[string]string{
					"io.kubernetes.cri.container-type":    "sandbox",
					"io.kubernetes.cri.sandbox-id":        testPodID,
					"microsoft.com/hostprocess-container": "true",
				},
				Windows: &specs.Windows{Resources: sandboxShares()},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task, err := BuildWindowsSandbox(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, task.Spec)
			assert.Equal(t, pauseRootfs, task.Rootfs)
			assertNoLayerFolders(t, task.Spec)
		})
	}
}

// assertNoLayerFolders checks config.json as the shim reads it: the
// rootfs comes from the windows-layer mount only.
func assertNoLayerFolders(t *testing.T, spec *specs.Spec) {
	t.Helper()
	data, err := json.Marshal(spec)
	require.NoError(t, err)
	var doc struct {
		Root    map[string]any `json:"root"`
		Windows struct {
			LayerFolders []string `json:"layerFolders"`
		} `json:"windows"`
	}
	require.NoError(t, json.Unmarshal(data, &doc))
	assert.Empty(t, doc.Windows.LayerFolders)
	assert.Equal(t, "", doc.Root["path"], "the shim mounts the root; the spec names no path")
}

func TestBuildWindowsSandboxInvalid(t *testing.T) {
	valid := func() WindowsSandbox {
		return WindowsSandbox{ID: testPodID, Config: kubeletPod(false, nil), Handler: winProcessHandler, NetworkNamespace: testNetNS, Image: pauseImage, Layers: pauseLayers}
	}
	tests := []struct {
		name    string
		modify  func(*WindowsSandbox)
		wantErr string
	}{
		{name: "no id", modify: func(in *WindowsSandbox) { in.ID = "" }, wantErr: "id is empty"},
		{name: "linux handler", modify: func(in *WindowsSandbox) { in.Handler.OS = OSLinux }, wantErr: "not Windows"},
		{name: "no network namespace", modify: func(in *WindowsSandbox) { in.NetworkNamespace = "" }, wantErr: "HCN network namespace"},
		{name: "namespace for a HostProcess pod", modify: func(in *WindowsSandbox) { in.Config = kubeletPod(true, nil) }, wantErr: "uses the host network"},
		{name: "pid TARGET", modify: func(in *WindowsSandbox) {
			in.Config.Linux.SecurityContext.NamespaceOptions.Pid = runtimeapi.NamespaceMode_TARGET
		}, wantErr: "shared process namespace"},
		{name: "bad UVM annotation", modify: func(in *WindowsSandbox) {
			in.Handler = winHyperVHandler
			in.Config.Annotations = map[string]string{memAnnotation: "lots"}
		}, wantErr: memAnnotation},
		{name: "pause image without command", modify: func(in *WindowsSandbox) { in.Image = &imagespec.ImageConfig{} }, wantErr: "no command"},
		{name: "no layers", modify: func(in *WindowsSandbox) { in.Layers = WindowsLayers{} }, wantErr: "scratch layer"},
		{name: "no config", modify: func(in *WindowsSandbox) { in.Config = nil }, wantErr: "config is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			tt.modify(&in)
			_, err := BuildWindowsSandbox(in)
			require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

// The pod's gMSA credential spec reaches the sandbox task, as in
// containerd v2.4.2 (internal/cri/server/podsandbox/sandbox_run_windows.go,
// sandboxContainerSpec: WithWindowsCredentialSpec).
func TestWindowsSandboxCredentialSpec(t *testing.T) {
	pod := kubeletPod(false, nil)
	pod.Windows.SecurityContext.CredentialSpec = `{"CmsPlugins":["ActiveDirectory"]}`
	task, err := BuildWindowsSandbox(WindowsSandbox{ID: testPodID, Config: pod, Handler: winProcessHandler, NetworkNamespace: testNetNS, Image: pauseImage, Layers: pauseLayers})
	require.NoError(t, err)
	assert.Equal(t, `{"CmsPlugins":["ActiveDirectory"]}`, task.Spec.Windows.CredentialSpec)

	task, err = BuildWindowsSandbox(WindowsSandbox{ID: testPodID, Config: kubeletPod(false, nil), Handler: winProcessHandler, NetworkNamespace: testNetNS, Image: pauseImage, Layers: pauseLayers})
	require.NoError(t, err)
	assert.Nil(t, task.Spec.Windows.CredentialSpec)
}
