package isolation

import (
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

const (
	nsPOD       = runtimeapi.NamespaceMode_POD
	nsCONTAINER = runtimeapi.NamespaceMode_CONTAINER
	nsNODE      = runtimeapi.NamespaceMode_NODE
	nsTARGET    = runtimeapi.NamespaceMode_TARGET
)

func TestSandboxNamespaces(t *testing.T) {
	mnt := specs.LinuxNamespace{Type: specs.MountNamespace}
	net := specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/run/netns/p"}
	uts := specs.LinuxNamespace{Type: specs.UTSNamespace}
	ipc := specs.LinuxNamespace{Type: specs.IPCNamespace}
	pid := specs.LinuxNamespace{Type: specs.PIDNamespace}
	tests := []struct {
		name    string
		opts    *runtimeapi.NamespaceOption
		netns   string
		want    []specs.LinuxNamespace
		wantErr error
	}{
		{name: "all pod", opts: nil, netns: "/run/netns/p", want: []specs.LinuxNamespace{mnt, net, uts, ipc, pid}},
		{name: "container pid is still own", opts: &runtimeapi.NamespaceOption{Pid: nsCONTAINER}, netns: "/run/netns/p", want: []specs.LinuxNamespace{mnt, net, uts, ipc, pid}},
		{name: "host network drops net and uts", opts: &runtimeapi.NamespaceOption{Network: nsNODE}, want: []specs.LinuxNamespace{mnt, ipc, pid}},
		{name: "host everything", opts: &runtimeapi.NamespaceOption{Network: nsNODE, Ipc: nsNODE, Pid: nsNODE}, want: []specs.LinuxNamespace{mnt}},
		{name: "pod network needs a netns", opts: nil, wantErr: errdefs.ErrInvalidArgument},
		{name: "target pid for a sandbox", opts: &runtimeapi.NamespaceOption{Pid: nsTARGET}, netns: "/x", wantErr: errdefs.ErrInvalidArgument},
		{
			name:  "pod user namespace is not implemented",
			opts:  &runtimeapi.NamespaceOption{UsernsOptions: &runtimeapi.UserNamespace{Mode: nsPOD, Uids: []*runtimeapi.IDMapping{{HostId: 1 << 16, Length: 65536}}, Gids: []*runtimeapi.IDMapping{{HostId: 1 << 16, Length: 65536}}}},
			netns: "/x", wantErr: errdefs.ErrNotImplemented,
		},
		{
			name:  "user namespace with two mappings",
			opts:  &runtimeapi.NamespaceOption{UsernsOptions: &runtimeapi.UserNamespace{Mode: nsPOD, Uids: []*runtimeapi.IDMapping{{Length: 1}, {ContainerId: 1, Length: 1}}, Gids: []*runtimeapi.IDMapping{{Length: 1}}}},
			netns: "/x", wantErr: errdefs.ErrInvalidArgument,
		},
		{
			name:  "user namespace without container id 0",
			opts:  &runtimeapi.NamespaceOption{UsernsOptions: &runtimeapi.UserNamespace{Mode: nsPOD, Uids: []*runtimeapi.IDMapping{{ContainerId: 1, Length: 1}}, Gids: []*runtimeapi.IDMapping{{Length: 1}}}},
			netns: "/x", wantErr: errdefs.ErrInvalidArgument,
		},
		{name: "user namespace mode CONTAINER", opts: &runtimeapi.NamespaceOption{UsernsOptions: &runtimeapi.UserNamespace{Mode: nsCONTAINER}}, netns: "/x", wantErr: errdefs.ErrInvalidArgument},
		{name: "user namespace mode TARGET", opts: &runtimeapi.NamespaceOption{UsernsOptions: &runtimeapi.UserNamespace{Mode: nsTARGET}}, netns: "/x", wantErr: errdefs.ErrInvalidArgument},
		{name: "host user namespace", opts: &runtimeapi.NamespaceOption{Network: nsNODE, UsernsOptions: &runtimeapi.UserNamespace{Mode: nsNODE}}, want: []specs.LinuxNamespace{mnt, ipc, pid}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sandboxNamespaces(tt.opts, tt.netns)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestContainerNamespaces(t *testing.T) {
	src := ContainerNamespaces{SandboxPid: 42, TargetPid: 77}
	mnt := specs.LinuxNamespace{Type: specs.MountNamespace}
	net := specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/proc/42/ns/net"}
	uts := specs.LinuxNamespace{Type: specs.UTSNamespace, Path: "/proc/42/ns/uts"}
	ipc := specs.LinuxNamespace{Type: specs.IPCNamespace, Path: "/proc/42/ns/ipc"}
	tests := []struct {
		name    string
		opts    *runtimeapi.NamespaceOption
		src     ContainerNamespaces
		want    []specs.LinuxNamespace
		wantErr error
	}{
		{name: "pod pid", opts: &runtimeapi.NamespaceOption{Pid: nsPOD}, src: src, want: []specs.LinuxNamespace{mnt, net, uts, ipc, {Type: specs.PIDNamespace, Path: "/proc/42/ns/pid"}}},
		{name: "container pid", opts: &runtimeapi.NamespaceOption{Pid: nsCONTAINER}, src: src, want: []specs.LinuxNamespace{mnt, net, uts, ipc, {Type: specs.PIDNamespace}}},
		{name: "host pid", opts: &runtimeapi.NamespaceOption{Pid: nsNODE}, src: src, want: []specs.LinuxNamespace{mnt, net, uts, ipc}},
		{name: "target pid", opts: &runtimeapi.NamespaceOption{Pid: nsTARGET, TargetId: "c1"}, src: src, want: []specs.LinuxNamespace{mnt, net, uts, ipc, {Type: specs.PIDNamespace, Path: "/proc/77/ns/pid"}}},
		{name: "target without pid", opts: &runtimeapi.NamespaceOption{Pid: nsTARGET, TargetId: "c1"}, src: ContainerNamespaces{SandboxPid: 42}, wantErr: errdefs.ErrInvalidArgument},
		{name: "target without id", opts: &runtimeapi.NamespaceOption{Pid: nsTARGET}, src: src, wantErr: errdefs.ErrInvalidArgument},
		{name: "host network and ipc", opts: &runtimeapi.NamespaceOption{Network: nsNODE, Ipc: nsNODE, Pid: nsCONTAINER}, want: []specs.LinuxNamespace{mnt, {Type: specs.PIDNamespace}}},
		{name: "no sandbox process", opts: &runtimeapi.NamespaceOption{}, wantErr: errdefs.ErrFailedPrecondition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := containerNamespaces(tt.opts, tt.src)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
