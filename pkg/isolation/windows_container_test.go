package isolation

import (
	"testing"

	"github.com/containerd/errdefs"
	imagespec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/wincri/wincri/pkg/shim"
)

const testContainerID = "c0ffee01"

var (
	iisImage = &imagespec.ImageConfig{
		Entrypoint: []string{`C:\ServiceMonitor.exe`},
		Cmd:        []string{"w3svc"},
		Env:        []string{`PATH=C:\Windows\system32;C:\Windows`, "APP_POOL=default"},
		WorkingDir: `C:\inetpub`,
		User:       "ContainerAdministrator",
	}
	appLayers = WindowsLayers{
		Scratch: `C:\ProgramData\wincri\root\scratch\c0ffee01`,
		Parents: []string{`C:\ProgramData\wincri\root\layers\iis`, `C:\ProgramData\wincri\root\layers\servercore-base`},
	}
	appRootfs = []shim.Mount{{
		Type:   "windows-layer",
		Source: `C:\ProgramData\wincri\root\scratch\c0ffee01`,
		Options: []string{"rw",
			`parentLayerPaths=["C:\\ProgramData\\wincri\\root\\layers\\iis","C:\\ProgramData\\wincri\\root\\layers\\servercore-base"]`},
	}}
)

// kubeletContainer is a container config as kubelet sends it for a
// Windows pod: pid CONTAINER, a log path, a CPU limit as cpu_maximum.
func kubeletContainer(hostProcess bool) *runtimeapi.ContainerConfig {
	return &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "iis"},
		Image:    &runtimeapi.ImageSpec{Image: "sha256:1234"},
		Envs:     []*runtimeapi.KeyValue{{Key: "app_pool", Value: []byte("web")}, {Key: "KUBERNETES_SERVICE_HOST", Value: []byte("10.0.0.1")}},
		Mounts: []*runtimeapi.Mount{
			{HostPath: `C:\var\lib\kubelet\pods\uid-1\volumes\cfg`, ContainerPath: `C:\config`, Readonly: true},
			{HostPath: `\\.\pipe\containerd-containerd`, ContainerPath: `\\.\pipe\containerd-containerd`},
		},
		LogPath: `iis\0.log`,
		Linux: &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
			NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD},
		}},
		Windows: &runtimeapi.WindowsContainerConfig{
			Resources:       &runtimeapi.WindowsContainerResources{CpuMaximum: 5000, MemoryLimitInBytes: 256 << 20},
			SecurityContext: &runtimeapi.WindowsContainerSecurityContext{HostProcess: hostProcess},
		},
	}
}

func appProcess() *specs.Process {
	return &specs.Process{
		Args: []string{`C:\ServiceMonitor.exe`, "w3svc"},
		Env:  []string{`PATH=C:\Windows\system32;C:\Windows`, "app_pool=web", "KUBERNETES_SERVICE_HOST=10.0.0.1"},
		Cwd:  `C:\inetpub`,
		User: specs.User{Username: "ContainerAdministrator"},
	}
}

func appMounts() []specs.Mount {
	return []specs.Mount{
		{Source: `C:\var\lib\kubelet\pods\uid-1\volumes\cfg`, Destination: `C:\config`, Options: []string{"ro"}},
		{Source: `\\.\pipe\containerd-containerd`, Destination: `\\.\pipe\containerd-containerd`, Options: []string{"rw"}},
	}
}

func appResources() *specs.WindowsResources {
	return &specs.WindowsResources{
		CPU:    &specs.WindowsCPUResources{Maximum: winPtr[uint16](5000)},
		Memory: &specs.WindowsMemoryResources{Limit: winPtr[uint64](256 << 20)},
	}
}

func TestBuildWindowsContainer(t *testing.T) {
	tests := []struct {
		name string
		in   WindowsContainer
		want *specs.Spec
	}{
		{
			name: "process pod",
			in: WindowsContainer{ID: testContainerID, SandboxID: testPodID, Config: kubeletContainer(false), Image: iisImage,
				Pod: kubeletPod(false, nil), Handler: winProcessHandler, NetworkNamespace: testNetNS, Layers: appLayers},
			want: &specs.Spec{
				Version:  specs.Version,
				Root:     &specs.Root{},
				Process:  appProcess(),
				Hostname: "web-0",
				Mounts:   appMounts(),
				Annotations: map[string]string{
					"io.kubernetes.cri.container-type": "container",
					"io.kubernetes.cri.sandbox-id":     testPodID,
				},
				Windows: &specs.Windows{
					Resources: appResources(),
					Network:   &specs.WindowsNetwork{NetworkNamespace: testNetNS},
				},
			},
		},
		{
			name: "hyperv pod: no UVM size on the container, HyperV section set",
			in: WindowsContainer{ID: testContainerID, SandboxID: testPodID, Config: kubeletContainer(false), Image: iisImage,
				Pod: kubeletPod(false, map[string]string{memAnnotation: "4096"}), Handler: winHyperVHandler, NetworkNamespace: testNetNS, Layers: appLayers},
			want: &specs.Spec{
				Version:  specs.Version,
				Root:     &specs.Root{},
				Process:  appProcess(),
				Hostname: "web-0",
				Mounts:   appMounts(),
				Annotations: map[string]string{
					"io.kubernetes.cri.container-type": "container",
					"io.kubernetes.cri.sandbox-id":     testPodID,
				},
				Windows: &specs.Windows{
					Resources: appResources(),
					Network:   &specs.WindowsNetwork{NetworkNamespace: testNetNS},
					HyperV:    &specs.WindowsHyperV{},
				},
			},
		},
		{
			name: "HostProcess container",
			in: func() WindowsContainer {
				c := kubeletContainer(true)
				c.Windows.SecurityContext.RunAsUsername = `NT AUTHORITY\Local service`
				c.Linux.SecurityContext.NamespaceOptions.Network = runtimeapi.NamespaceMode_NODE
				c.Mounts = nil
				return WindowsContainer{ID: testContainerID, SandboxID: testPodID, Config: c, Image: iisImage,
					Pod: kubeletPod(true, nil), Handler: winProcessHandler, Layers: appLayers}
			}(),
			want: &specs.Spec{
				Version: specs.Version,
				Root:    &specs.Root{},
				Process: func() *specs.Process {
					p := appProcess()
					p.User.Username = `NT AUTHORITY\Local service`
					return p
				}(),
				Annotations: map[string]string{
					"io.kubernetes.cri.container-type":    "container",
					"io.kubernetes.cri.sandbox-id":        testPodID,
					"microsoft.com/hostprocess-container": "true",
				},
				Windows: &specs.Windows{Resources: appResources()},
			},
		},
		{
			name: "command, args, working dir, tty, devices, gMSA, no resources",
			in: func() WindowsContainer {
				c := &runtimeapi.ContainerConfig{
					Metadata:   &runtimeapi.ContainerMetadata{Name: "debug"},
					Command:    []string{"cmd.exe", "/c"},
					Args:       []string{"dir"},
					WorkingDir: `C:\work`,
					Tty:        true,
					Devices:    []*runtimeapi.Device{{HostPath: "class/5B45201D-F2F2-4F3B-85BB-30FF1F953599"}},
					Windows: &runtimeapi.WindowsContainerConfig{SecurityContext: &runtimeapi.WindowsContainerSecurityContext{
						CredentialSpec: `{"CmsPlugins":["ActiveDirectory"]}`,
					}},
				}
				return WindowsContainer{ID: testContainerID, SandboxID: testPodID, Config: c, Image: iisImage,
					Pod: kubeletPod(false, nil), Handler: winProcessHandler, NetworkNamespace: testNetNS, Layers: appLayers}
			}(),
			want: &specs.Spec{
				Version: specs.Version,
				Root:    &specs.Root{},
				Process: &specs.Process{
					Terminal: true,
					Args:     []string{"cmd.exe", "/c", "dir"},
					Env:      []string{`PATH=C:\Windows\system32;C:\Windows`, "APP_POOL=default"},
					Cwd:      `C:\work`,
					User:     specs.User{Username: "ContainerAdministrator"},
				},
				Hostname: "web-0",
				Annotations: map[string]string{
					"io.kubernetes.cri.container-type": "container",
					"io.kubernetes.cri.sandbox-id":     testPodID,
				},
				Windows: &specs.Windows{
					Devices:        []specs.WindowsDevice{{IDType: "class", ID: "5B45201D-F2F2-4F3B-85BB-30FF1F953599"}},
					CredentialSpec: `{"CmsPlugins":["ActiveDirectory"]}`,
					Network:        &specs.WindowsNetwork{NetworkNamespace: testNetNS},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task, err := BuildWindowsContainer(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, task.Spec)
			assert.Equal(t, appRootfs, task.Rootfs)
			assertNoLayerFolders(t, task.Spec)
		})
	}
}

func TestBuildWindowsContainerPreparesHostPaths(t *testing.T) {
	host := &fakeHostPaths{}
	in := WindowsContainer{ID: testContainerID, SandboxID: testPodID, Config: kubeletContainer(false), Image: iisImage,
		Pod: kubeletPod(false, nil), Handler: winProcessHandler, NetworkNamespace: testNetNS, Layers: appLayers,
		HostPath: host.prepare}
	_, err := BuildWindowsContainer(in)
	require.NoError(t, err)
	// The named pipe is never opened: only the directory is prepared.
	assert.Equal(t, []string{`C:\var\lib\kubelet\pods\uid-1\volumes\cfg`}, host.prepared)
}

func TestBuildWindowsContainerInvalid(t *testing.T) {
	valid := func() WindowsContainer {
		return WindowsContainer{ID: testContainerID, SandboxID: testPodID, Config: kubeletContainer(false), Image: iisImage,
			Pod: kubeletPod(false, nil), Handler: winProcessHandler, NetworkNamespace: testNetNS, Layers: appLayers}
	}
	tests := []struct {
		name    string
		modify  func(*WindowsContainer)
		wantErr string
	}{
		{name: "no sandbox id", modify: func(in *WindowsContainer) { in.SandboxID = "" }, wantErr: "sandbox id"},
		{name: "no pod", modify: func(in *WindowsContainer) { in.Pod = nil }, wantErr: "pod config is missing"},
		{name: "linux handler", modify: func(in *WindowsContainer) { in.Handler.OS = OSLinux }, wantErr: "not Windows"},
		{name: "pid TARGET", modify: func(in *WindowsContainer) {
			in.Config.Linux.SecurityContext.NamespaceOptions.Pid = runtimeapi.NamespaceMode_TARGET
		}, wantErr: "shared process namespace"},
		{name: "host ipc", modify: func(in *WindowsContainer) {
			in.Config.Linux.SecurityContext.NamespaceOptions.Ipc = runtimeapi.NamespaceMode_NODE
		}, wantErr: "hostIPC"},
		{name: "no network namespace", modify: func(in *WindowsContainer) { in.NetworkNamespace = "" }, wantErr: "HCN network namespace"},
		{name: "mutually exclusive CPU controls", modify: func(in *WindowsContainer) {
			in.Config.Windows.Resources.CpuCount = 2
		}, wantErr: "mutually exclusive"},
		{name: "bad mount", modify: func(in *WindowsContainer) {
			in.Config.Mounts[0].Propagation = runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER
		}, wantErr: "mount propagation"},
		{name: "bad device", modify: func(in *WindowsContainer) {
			in.Config.Devices = []*runtimeapi.Device{{HostPath: "/dev/null", ContainerPath: "/dev/null"}}
		}, wantErr: "device"},
		{name: "no command anywhere", modify: func(in *WindowsContainer) { in.Image = nil }, wantErr: "no command"},
		{name: "bad scratch", modify: func(in *WindowsContainer) { in.Layers.Scratch = "scratch" }, wantErr: "scratch layer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			tt.modify(&in)
			_, err := BuildWindowsContainer(in)
			require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

// TestHostProcessUserAndWorkingDir pins containerd v2.4.2's HostProcess
// process (internal/cri/server/container_create.go, buildWindowsSpec;
// podsandbox/sandbox_run_windows.go, sandboxContainerSpec): the image's
// user stands unless the request names one, and the working directory is
// the request's, else the image's, else C:\hpc, where hcsshim's job
// container (internal/jobcontainers/jobcontainer.go, CreateProcess) mounts
// the container's files; with neither user, hcsshim's logon
// (internal/jobcontainers/logon.go) needs one, so NT AUTHORITY\SYSTEM.
// hcsshim's own HostProcess annotations on the pod reach the spec.
func TestHostProcessUserAndWorkingDir(t *testing.T) {
	noUser := &imagespec.ImageConfig{Entrypoint: []string{`C:\agent.exe`}}
	tests := []struct {
		name           string
		runAs, workDir string
		image          *imagespec.ImageConfig
		podAnnotations map[string]string
		wantUser       string
		wantCwd        string
		wantAnnotation map[string]string
	}{
		{name: "image user and dir", image: iisImage, wantUser: "ContainerAdministrator", wantCwd: `C:\inetpub`},
		{name: "request user and dir", runAs: `NT AUTHORITY\Local service`, workDir: `C:\work`, image: iisImage,
			wantUser: `NT AUTHORITY\Local service`, wantCwd: `C:\work`},
		{name: "neither", image: noUser, wantUser: `NT AUTHORITY\SYSTEM`, wantCwd: `C:\hpc`},
		{
			name: "rootfs location and inherited user", image: noUser,
			podAnnotations: map[string]string{
				"microsoft.com/hostprocess-rootfs-location": `C:\agents`,
				"microsoft.com/hostprocess-inherit-user":    "true",
				"example.com/unrelated":                     "x",
			},
			wantUser: `NT AUTHORITY\SYSTEM`, wantCwd: `C:\agents`,
			wantAnnotation: map[string]string{
				"microsoft.com/hostprocess-rootfs-location": `C:\agents`,
				"microsoft.com/hostprocess-inherit-user":    "true",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := kubeletPod(true, tt.podAnnotations)
			c := kubeletContainer(true)
			c.Linux.SecurityContext.NamespaceOptions.Network = runtimeapi.NamespaceMode_NODE
			c.Mounts = nil
			c.Windows.SecurityContext.RunAsUsername = tt.runAs
			c.WorkingDir = tt.workDir
			task, err := BuildWindowsContainer(WindowsContainer{ID: testContainerID, SandboxID: testPodID, Config: c, Image: tt.image,
				Pod: pod, Handler: winProcessHandler, Layers: appLayers})
			require.NoError(t, err)
			assert.Equal(t, tt.wantUser, task.Spec.Process.User.Username)
			assert.Equal(t, tt.wantCwd, task.Spec.Process.Cwd)
			for k, v := range tt.wantAnnotation {
				assert.Equal(t, v, task.Spec.Annotations[k], k)
			}
			assert.NotContains(t, task.Spec.Annotations, "example.com/unrelated")

			pod.Windows.SecurityContext.RunAsUsername = tt.runAs
			sandbox, err := BuildWindowsSandbox(WindowsSandbox{ID: testPodID, Config: pod, Handler: winProcessHandler, Image: tt.image, Layers: pauseLayers})
			require.NoError(t, err)
			assert.Equal(t, tt.wantUser, sandbox.Spec.Process.User.Username)
			for k, v := range tt.wantAnnotation {
				assert.Equal(t, v, sandbox.Spec.Annotations[k], k)
			}
		})
	}
}
