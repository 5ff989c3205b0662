package isolation

import (
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestCRIMounts(t *testing.T) {
	host := newFakeHost()
	host.links["/link"] = "/data"
	tests := []struct {
		name         string
		in           []*runtimeapi.Mount
		imageVolumes map[string]string
		want         []specs.Mount
		wantRootProp string
		wantErr      error
	}{
		{
			name: "private rw and ro",
			in: []*runtimeapi.Mount{
				{ContainerPath: "/a", HostPath: "/data"},
				{ContainerPath: "/b/", HostPath: "/data", Readonly: true, SelinuxRelabel: true},
			},
			want: []specs.Mount{
				{Destination: "/a", Type: "bind", Source: "/data", Options: []string{"rbind", "rprivate", "rw"}},
				{Destination: "/b", Type: "bind", Source: "/data", Options: []string{"rbind", "rprivate", "ro"}},
			},
		},
		{
			name: "parents first",
			in: []*runtimeapi.Mount{
				{ContainerPath: "/x/y/z", HostPath: "/data/sub"},
				{ContainerPath: "/x", HostPath: "/data"},
			},
			want: []specs.Mount{
				{Destination: "/x", Type: "bind", Source: "/data", Options: []string{"rbind", "rprivate", "rw"}},
				{Destination: "/x/y/z", Type: "bind", Source: "/data/sub", Options: []string{"rbind", "rprivate", "rw"}},
			},
		},
		{
			name: "symlinked host path is resolved",
			in:   []*runtimeapi.Mount{{ContainerPath: "/link", HostPath: "/link"}},
			want: []specs.Mount{{Destination: "/link", Type: "bind", Source: "/data", Options: []string{"rbind", "rprivate", "rw"}}},
		},
		{
			name:         "host to container on a slave mount",
			in:           []*runtimeapi.Mount{{ContainerPath: "/m", HostPath: "/slave", Propagation: runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER}},
			want:         []specs.Mount{{Destination: "/m", Type: "bind", Source: "/slave", Options: []string{"rbind", "rslave", "rw"}}},
			wantRootProp: "rslave",
		},
		{
			name: "bidirectional wins the rootfs propagation",
			in: []*runtimeapi.Mount{
				{ContainerPath: "/m", HostPath: "/shared", Propagation: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL},
				{ContainerPath: "/n", HostPath: "/shared", Propagation: runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER},
			},
			want: []specs.Mount{
				{Destination: "/m", Type: "bind", Source: "/shared", Options: []string{"rbind", "rshared", "rw"}},
				{Destination: "/n", Type: "bind", Source: "/shared", Options: []string{"rbind", "rslave", "rw"}},
			},
			wantRootProp: "rshared",
		},
		{name: "host to container on a private mount", in: []*runtimeapi.Mount{{ContainerPath: "/m", HostPath: "/data", Propagation: runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER}}, wantErr: errdefs.ErrFailedPrecondition},
		{name: "bidirectional on a slave mount", in: []*runtimeapi.Mount{{ContainerPath: "/m", HostPath: "/slave", Propagation: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL}}, wantErr: errdefs.ErrFailedPrecondition},
		{
			name: "recursive read-only",
			in:   []*runtimeapi.Mount{{ContainerPath: "/r", HostPath: "/data", Readonly: true, RecursiveReadOnly: true}},
			want: []specs.Mount{{Destination: "/r", Type: "bind", Source: "/data", Options: []string{"rbind", "rprivate", "rro"}}},
		},
		{name: "recursive read-only needs readonly", in: []*runtimeapi.Mount{{ContainerPath: "/r", HostPath: "/data", RecursiveReadOnly: true}}, wantErr: errdefs.ErrInvalidArgument},
		{name: "recursive read-only needs private", in: []*runtimeapi.Mount{{ContainerPath: "/r", HostPath: "/shared", Readonly: true, RecursiveReadOnly: true, Propagation: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL}}, wantErr: errdefs.ErrInvalidArgument},
		{
			name: "mount options",
			in:   []*runtimeapi.Mount{{ContainerPath: "/o", HostPath: "/data", MountOptions: []string{"noexec", "nosuid"}}},
			want: []specs.Mount{{Destination: "/o", Type: "bind", Source: "/data", Options: []string{"rbind", "rprivate", "rw", "noexec", "nosuid"}}},
		},
		{name: "mount option that a field owns", in: []*runtimeapi.Mount{{ContainerPath: "/o", HostPath: "/data", MountOptions: []string{"ro"}}}, wantErr: errdefs.ErrInvalidArgument},
		{name: "unknown mount option", in: []*runtimeapi.Mount{{ContainerPath: "/o", HostPath: "/data", MountOptions: []string{"uid=0"}}}, wantErr: errdefs.ErrInvalidArgument},
		{name: "missing host path", in: []*runtimeapi.Mount{{ContainerPath: "/m", HostPath: "/nope"}}, wantErr: errdefs.ErrNotFound},
		{name: "over the root", in: []*runtimeapi.Mount{{ContainerPath: "/", HostPath: "/data"}}, wantErr: errdefs.ErrInvalidArgument},
		{name: "empty host path", in: []*runtimeapi.Mount{{ContainerPath: "/m"}}, wantErr: errdefs.ErrInvalidArgument},
		{name: "relative container path", in: []*runtimeapi.Mount{{ContainerPath: "m", HostPath: "/data"}}, wantErr: errdefs.ErrInvalidArgument},
		{name: "id mapped", in: []*runtimeapi.Mount{{ContainerPath: "/m", HostPath: "/data", UidMappings: []*runtimeapi.IDMapping{{Length: 1}}}}, wantErr: errdefs.ErrNotImplemented},
		{
			name:         "image volume",
			in:           []*runtimeapi.Mount{{ContainerPath: "/img", Image: &runtimeapi.ImageSpec{Image: "example/data:1"}}},
			imageVolumes: map[string]string{"/img": "/var/lib/wincri/imgvol/1"},
			want:         []specs.Mount{{Destination: "/img", Type: "bind", Source: "/var/lib/wincri/imgvol/1", Options: []string{"rbind", "rprivate", "ro"}}},
		},
		{name: "image volume not prepared", in: []*runtimeapi.Mount{{ContainerPath: "/img", Image: &runtimeapi.ImageSpec{Image: "example/data:1"}}}, wantErr: errdefs.ErrFailedPrecondition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := newLinuxSpec("/r", false)
			got, err := criMounts(spec, tt.in, host, tt.imageVolumes)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantRootProp, spec.Linux.RootfsPropagation)
		})
	}
}

func TestImageVolumeSubPath(t *testing.T) {
	root := writeRootfs(t, map[string]string{"data/file": "x"})
	vols := map[string]string{"/img": root}
	mount := func(sub string) []*runtimeapi.Mount {
		return []*runtimeapi.Mount{{ContainerPath: "/img", Image: &runtimeapi.ImageSpec{Image: "i"}, ImageSubPath: sub}}
	}
	got, err := criMounts(newLinuxSpec("/r", false), mount("data"), newFakeHost(), vols)
	require.NoError(t, err)
	assert.Equal(t, root+"/data", got[0].Source)

	_, err = criMounts(newLinuxSpec("/r", false), mount("../../etc"), newFakeHost(), vols)
	require.ErrorIs(t, err, errdefs.ErrInvalidArgument, "a sub path resolves inside the image and /etc is not there")
}

func TestSandboxFileMounts(t *testing.T) {
	files := SandboxFiles{HostnamePath: "/s/hostname", HostsPath: "/s/hosts", ResolvConfPath: "/s/resolv.conf", ShmPath: "/s/shm"}
	tests := []struct {
		name     string
		files    SandboxFiles
		cri      []*runtimeapi.Mount
		readonly bool
		hostIPC  bool
		want     []specs.Mount
	}{
		{
			name: "all", files: files,
			want: []specs.Mount{
				bindMount("/s/hostname", "/etc/hostname", false, "rprivate"),
				bindMount("/s/hosts", "/etc/hosts", false, "rprivate"),
				bindMount("/s/resolv.conf", "/etc/resolv.conf", false, "rprivate"),
				bindMount("/s/shm", "/dev/shm", false, "rprivate"),
			},
		},
		{
			name: "kubelet's etc-hosts wins, readonly rootfs", files: files, readonly: true,
			cri: []*runtimeapi.Mount{{ContainerPath: "/etc/hosts", HostPath: "/kubelet/etc-hosts"}},
			want: []specs.Mount{
				bindMount("/s/hostname", "/etc/hostname", true, "rprivate"),
				bindMount("/s/resolv.conf", "/etc/resolv.conf", true, "rprivate"),
				bindMount("/s/shm", "/dev/shm", false, "rprivate"),
			},
		},
		{name: "host ipc gets the host shm", files: SandboxFiles{ShmPath: "/s/shm"}, hostIPC: true, want: []specs.Mount{bindMount("/dev/shm", "/dev/shm", false, "rprivate")}},
		{name: "nothing", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, sandboxFileMounts(tt.files, tt.cri, tt.readonly, tt.hostIPC))
		})
	}
}

func TestAddMountsShadows(t *testing.T) {
	spec := newLinuxSpec("/r", false)
	spec.Mounts = defaultLinuxMounts(false)
	addMounts(spec, []specs.Mount{bindMount("/h/dev", "/dev", false, "rprivate")})
	var dsts []string
	for _, m := range spec.Mounts {
		dsts = append(dsts, m.Destination)
	}
	assert.Equal(t, []string{"/proc", "/sys", "/sys/fs/cgroup", "/dev"}, dsts)
}

func TestCRIDevices(t *testing.T) {
	host := newFakeHost()
	tests := []struct {
		name     string
		in       []*runtimeapi.Device
		wantDevs []string
		wantRule []specs.LinuxDeviceCgroup
		wantErr  error
	}{
		{
			name:     "one device, default permissions",
			in:       []*runtimeapi.Device{{HostPath: "/dev/fuse", ContainerPath: "/dev/fuse"}},
			wantDevs: []string{"/dev/fuse"},
			wantRule: []specs.LinuxDeviceCgroup{{Allow: true, Type: "c", Major: linuxPtr(int64(10)), Minor: linuxPtr(int64(229)), Access: "rwm"}},
		},
		{
			name:     "a directory of devices renamed",
			in:       []*runtimeapi.Device{{HostPath: "/dev/snd", ContainerPath: "/dev/sound", Permissions: "rw"}},
			wantDevs: []string{"/dev/sound/controlC0", "/dev/sound/pcmC0D0p"},
			wantRule: []specs.LinuxDeviceCgroup{
				{Allow: true, Type: "c", Major: linuxPtr(int64(116)), Minor: linuxPtr(int64(0)), Access: "rw"},
				{Allow: true, Type: "c", Major: linuxPtr(int64(116)), Minor: linuxPtr(int64(16)), Access: "rw"},
			},
		},
		{name: "bad permissions", in: []*runtimeapi.Device{{HostPath: "/dev/fuse", ContainerPath: "/dev/fuse", Permissions: "rwx"}}, wantErr: errdefs.ErrInvalidArgument},
		{name: "relative path", in: []*runtimeapi.Device{{HostPath: "/dev/fuse", ContainerPath: "fuse"}}, wantErr: errdefs.ErrInvalidArgument},
		{name: "missing", in: []*runtimeapi.Device{{HostPath: "/dev/nope", ContainerPath: "/dev/nope"}}, wantErr: errdefs.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := newLinuxSpec("/r", false)
			err := criDevices(spec, tt.in, host)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			var paths []string
			for _, d := range spec.Linux.Devices {
				paths = append(paths, d.Path)
			}
			assert.Equal(t, tt.wantDevs, paths)
			assert.Equal(t, append([]specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}, tt.wantRule...), spec.Linux.Resources.Devices)
		})
	}
}
