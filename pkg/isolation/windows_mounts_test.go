package isolation

import (
	"errors"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeHostPaths is a host file system for HostPathFunc: links maps a
// symbolic link to its target, fail makes a path fail, and every other
// path is prepared (created when missing), in order, into prepared.
type fakeHostPaths struct {
	links    map[string]string
	fail     map[string]error
	prepared []string
}

func (f *fakeHostPaths) prepare(path string) (string, error) {
	if err := f.fail[path]; err != nil {
		return "", err
	}
	f.prepared = append(f.prepared, path)
	if target, ok := f.links[path]; ok {
		return target, nil
	}
	return path, nil
}

func TestWindowsMounts(t *testing.T) {
	tests := []struct {
		name  string
		mount *runtimeapi.Mount
		want  specs.Mount
	}{
		{
			name:  "host directory",
			mount: &runtimeapi.Mount{HostPath: `C:\data`, ContainerPath: `C:\data`},
			want:  specs.Mount{Source: `C:\data`, Destination: `C:\data`, Options: []string{"rw"}},
		},
		{
			name:  "read-only, unclean paths, destination without drive",
			mount: &runtimeapi.Mount{HostPath: `c:/var//log/./pods/`, ContainerPath: `\logs\..\var\log`, Readonly: true},
			want:  specs.Mount{Source: `C:\var\log\pods`, Destination: `C:\var\log`, Options: []string{"ro"}},
		},
		{
			name:  "recursive read-only",
			mount: &runtimeapi.Mount{HostPath: `C:\etc\config.json`, ContainerPath: `C:\config.json`, Readonly: true, RecursiveReadOnly: true},
			want:  specs.Mount{Source: `C:\etc\config.json`, Destination: `C:\config.json`, Options: []string{"ro"}},
		},
		{
			name:  "whole volume on another drive letter",
			mount: &runtimeapi.Mount{HostPath: `C:\data`, ContainerPath: `d:`},
			want:  specs.Mount{Source: `C:\data`, Destination: `D:`, Options: []string{"rw"}},
		},
		{
			// containerd's parseMount (internal/cri/opts/spec_windows_opts.go)
			// resolves links: HCS maps the target.
			name:  "symbolic link resolved",
			mount: &runtimeapi.Mount{HostPath: `C:\link`, ContainerPath: `C:\data`},
			want:  specs.Mount{Source: `D:\real\data`, Destination: `C:\data`, Options: []string{"rw"}},
		},
		{
			name:  "named pipe, never stat'ed",
			mount: &runtimeapi.Mount{HostPath: `\\.\pipe\docker_engine`, ContainerPath: `\\.\pipe\docker_engine`},
			want:  specs.Mount{Source: `\\.\pipe\docker_engine`, Destination: `\\.\pipe\docker_engine`, Options: []string{"rw"}},
		},
		{
			name:  "named pipe prefix in another case and with slashes",
			mount: &runtimeapi.Mount{HostPath: `//./PIPE/containerd-containerd`, ContainerPath: `\\.\Pipe\containerd`},
			want:  specs.Mount{Source: `\\.\pipe\containerd-containerd`, Destination: `\\.\pipe\containerd`, Options: []string{"rw"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := &fakeHostPaths{links: map[string]string{`C:\link`: `D:/real/data/`}}
			got, err := windowsMounts([]*runtimeapi.Mount{tt.mount}, host.prepare)
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, tt.want, got[0])
			if isWindowsPipe(tt.mount.GetHostPath()) {
				assert.Empty(t, host.prepared, "a named pipe is never opened")
			} else {
				assert.Len(t, host.prepared, 1, "the host path is prepared once")
			}
		})
	}
}

func TestWindowsMountsInvalid(t *testing.T) {
	tests := []struct {
		name    string
		mount   *runtimeapi.Mount
		wantErr string
	}{
		{name: "relative host path", mount: &runtimeapi.Mount{HostPath: `data`, ContainerPath: `C:\x`}, wantErr: "not an absolute Windows path"},
		{name: "linux host path", mount: &runtimeapi.Mount{HostPath: `/data`, ContainerPath: `C:\x`}, wantErr: "not an absolute Windows path"},
		{name: "relative container path", mount: &runtimeapi.Mount{HostPath: `C:\data`, ContainerPath: `x`}, wantErr: "container path"},
		{name: "system drive", mount: &runtimeapi.Mount{HostPath: `C:\data`, ContainerPath: `C:`}, wantErr: "system drive"},
		{name: "empty container path", mount: &runtimeapi.Mount{HostPath: `C:\data`}, wantErr: "needs a host path and a container path"},
		{name: "pipe onto a directory", mount: &runtimeapi.Mount{HostPath: `\\.\pipe\p`, ContainerPath: `C:\p`}, wantErr: "named pipe"},
		{name: "directory onto a pipe", mount: &runtimeapi.Mount{HostPath: `C:\data`, ContainerPath: `\\.\pipe\p`}, wantErr: "named pipe"},
		{name: "propagation", mount: &runtimeapi.Mount{HostPath: `C:\data`, ContainerPath: `C:\x`, Propagation: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL}, wantErr: "mount propagation"},
		{name: "image volume", mount: &runtimeapi.Mount{ContainerPath: `C:\x`, Image: &runtimeapi.ImageSpec{Image: "img"}}, wantErr: "image volumes"},
		{name: "mount options", mount: &runtimeapi.Mount{HostPath: `C:\data`, ContainerPath: `C:\x`, MountOptions: []string{"noexec"}}, wantErr: "mount options"},
		{name: "id mapping", mount: &runtimeapi.Mount{HostPath: `C:\data`, ContainerPath: `C:\x`, UidMappings: []*runtimeapi.IDMapping{{Length: 1}}}, wantErr: "ID-mapped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := windowsMounts([]*runtimeapi.Mount{tt.mount}, nil)
			require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestWindowsDevices(t *testing.T) {
	got, err := windowsDevices([]*runtimeapi.Device{
		{HostPath: "class/5B45201D-F2F2-4F3B-85BB-30FF1F953599"},
		{HostPath: "class://5B45201D-F2F2-4F3B-85BB-30FF1F953599"},
		{HostPath: `vpci-location-path://PCIROOT(0)#PCI(0100)`},
	})
	require.NoError(t, err)
	assert.Equal(t, []specs.WindowsDevice{
		{IDType: "class", ID: "5B45201D-F2F2-4F3B-85BB-30FF1F953599"},
		{IDType: "class", ID: "5B45201D-F2F2-4F3B-85BB-30FF1F953599"},
		{IDType: "vpci-location-path", ID: `PCIROOT(0)#PCI(0100)`},
	}, got)

	for _, bad := range []*runtimeapi.Device{
		{HostPath: "/dev/fuse"},
		{HostPath: "5B45201D"},
		{HostPath: "class/"},
		{HostPath: "://x"},
		{HostPath: "class/GUID", ContainerPath: `C:\dev`},
		{HostPath: "class/GUID", Permissions: "rwm"},
	} {
		_, err := windowsDevices([]*runtimeapi.Device{bad})
		require.ErrorIs(t, err, errdefs.ErrInvalidArgument, bad.String())
	}
}

func TestWindowsMountHostPathFailures(t *testing.T) {
	denied := errors.New("access is denied")
	host := &fakeHostPaths{
		fail:  map[string]error{`C:\locked`: denied},
		links: map[string]string{`C:\odd`: `relative\target`},
	}
	_, err := windowsMounts([]*runtimeapi.Mount{{HostPath: `C:\locked`, ContainerPath: `C:\x`}}, host.prepare)
	require.ErrorIs(t, err, denied)
	assert.Contains(t, err.Error(), `host path "C:\\locked"`)
	_, err = windowsMounts([]*runtimeapi.Mount{{HostPath: `C:\odd`, ContainerPath: `C:\x`}}, host.prepare)
	require.ErrorIs(t, err, errdefs.ErrFailedPrecondition)
	assert.Contains(t, err.Error(), "not an absolute Windows path")
}
